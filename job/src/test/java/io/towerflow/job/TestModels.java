package io.towerflow.job;

import io.towerflow.synthetic.SyntheticGenerator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Comparator;
import java.util.stream.Stream;

/** The committed bootstrap model version, for tests that need a real model. */
public final class TestModels {
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

    /** The generator settings the bootstrap version was trained on (see model-artifacts/README.md). */
    public static SyntheticGenerator.Config syntheticConfigOfBootstrap() {
        return new SyntheticGenerator.Config();
    }
}
