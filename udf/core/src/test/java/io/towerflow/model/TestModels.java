package io.towerflow.model;

import io.towerflow.records.ModelUpdate;

import ai.djl.Device;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The test fixtures of every module (the core's test-jar): the committed bootstrap model version,
 * for tests that need a real model, and copies of it under other version names.
 */
public final class TestModels {
    /** A fixed creation instant for versions that tests write. */
    public static final String CREATED_AT = "2026-01-01T00:00:00Z";

    private TestModels() {}

    public static Path repoRoot() {
        return Paths.get(System.getProperty("towerflow.repo.root", "..")).toAbsolutePath().normalize();
    }

    /** The newest version directory under model-artifacts/. */
    public static Path bootstrapVersionDir() {
        Path root = repoRoot().resolve("model-artifacts");
        try (Stream<Path> dirs = Files.list(root)) {
            return dirs.filter(d -> Files.exists(d.resolve("manifest.json")))
                    .max(Comparator.comparing(Path::getFileName))
                    .orElseThrow(() -> new IllegalStateException("no model version in " + root));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A small, freshly initialised (untrained) version with text features under {@code root}: 40
     * titled items "1".."40" in categories "0".."3" (counts fall with the id), for tests of the
     * query and title paths.
     */
    public static Path textVersion(Path root, String version) throws IOException {
        ModelConfig config = ModelConfig.defaults().withBuckets(1024, 64, 64).withHidden(32).withDim(16)
                .withEmbeddingDim(16).withText(new TextConfig(4096, 16, 3, 4.0));
        int n = 40;
        String[] ids = new String[n];
        String[] cats = new String[n];
        String[] titles = new String[n];
        long[] counts = new long[n];
        String[][] words = {{"red", "shoes"}, {"blue", "dress"}, {"红色", "连衣裙"}, {"garden", "hose"}};
        for (int i = 0; i < n; i++) {
            ids[i] = Integer.toString(i + 1);
            cats[i] = Integer.toString(i % 4);
            titles[i] = String.join(" ", words[i % 4]) + " " + (i / 4);
            counts[i] = n - i;
        }
        try (TwoTowerModel model = TwoTowerModel.create(config, Device.cpu(), 7)) {
            ModelManifest m = new ModelManifest(version, null, CREATED_AT, config,
                    new ModelManifest.TrainingWindow(0, 0, 0), java.util.Map.of(), java.util.Map.of());
            return ModelArtifacts.write(root, m, model, new ItemCatalogue(ids, cats, counts, titles));
        }
    }

    /** The {@code n} most popular items of the bootstrap version. */
    public static String[] popularItems(int n) {
        try (ServingModel m = ServingModel.load(bootstrapVersionDir(), Device.cpu())) {
            return Arrays.stream(m.popular(n, Set.of())).map(s -> s.itemId).toArray(String[]::new);
        } catch (InvalidModelException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A copy of the bootstrap version named {@code version}, and the update that names it. */
    public static ModelUpdate copyOfBootstrap(Path root, String version) throws IOException {
        Path src = bootstrapVersionDir();
        Path dst = Files.createDirectories(root.resolve(version));
        try (Stream<Path> files = Files.list(src)) {
            for (Path f : files.toList()) {
                Files.copy(f, dst.resolve(f.getFileName()));
            }
        }
        Path manifest = dst.resolve("manifest.json");
        String original = src.getFileName().toString();
        Files.writeString(
                manifest,
                Files.readString(manifest)
                        .replace("\"version\" : \"" + original + "\"", "\"version\" : \"" + version + "\""));
        return new ModelUpdate(version, dst.toUri().toString(), ModelArtifacts.sha256(manifest));
    }
}
