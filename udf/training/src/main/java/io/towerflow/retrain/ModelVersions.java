package io.towerflow.retrain;

import io.towerflow.model.InvalidModelException;
import io.towerflow.model.ModelArtifacts;
import io.towerflow.model.ModelManifest;
import io.towerflow.model.TwoTowerModel;

import ai.djl.Device;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The model versions under a model root, and the names of new ones.
 *
 * <p>Versions are compared by name as strings (the job and the demo serve the highest), so a new
 * version must sort after every existing one. Retrained versions are named {@code
 * v<yyyyMMdd>-r<HHmmss>} (UTC): among themselves they sort by time; the date decides against
 * other days; and on the same day they sort after {@code v<yyyyMMdd>-bootstrap} ('r' > 'b') and
 * after {@code TrainCommand}'s {@code v<yyyyMMdd>-<HHmm>} ('r' > any digit). When that name would
 * not sort after the highest existing one (a clock behind, two versions within a second), the
 * new name is the highest existing name followed by {@code -r<HHmmss>}, which does.
 */
public final class ModelVersions {
    private static final DateTimeFormatter DAY =
            DateTimeFormatter.ofPattern("yyyyMMdd", Locale.ROOT).withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("HHmmss", Locale.ROOT).withZone(ZoneOffset.UTC);

    private ModelVersions() {}

    /**
     * Names of the version directories under {@code root} (those holding a manifest.json; hidden
     * temporary directories are not versions), highest first. Empty when root does not exist.
     */
    public static List<String> names(Path root) {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> dirs = Files.list(root)) {
            return dirs.filter(d -> !d.getFileName().toString().startsWith("."))
                    .filter(d -> Files.isRegularFile(d.resolve(ModelArtifacts.MANIFEST)))
                    .map(d -> d.getFileName().toString())
                    .sorted(Comparator.reverseOrder())
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The highest version under {@code root} that loads; those that do not are reported and passed over. */
    public static Optional<ModelArtifacts> newestValid(Path root, ProgressLog log) {
        for (String name : names(root)) {
            try {
                return Optional.of(ModelArtifacts.load(root.resolve(name)));
            } catch (InvalidModelException e) {
                log.warn("version %s skipped: %s", name, e.getMessage());
            }
        }
        return Optional.empty();
    }

    /**
     * Writes {@code source}'s parameters and catalogue as a new version {@code version} under
     * {@code root} (parent = the source, same config, training window and metrics): how an older
     * version comes back when the highest version serves.
     */
    public static Path copyAs(ModelArtifacts source, Path root, String version, Instant now)
            throws InvalidModelException, IOException {
        ModelManifest m = source.manifest();
        ModelManifest copy = new ModelManifest(version, m.version(), now.truncatedTo(ChronoUnit.SECONDS).toString(),
                m.config(), m.trainingWindow(), m.metrics(), Map.of(), m.repeat());
        try (TwoTowerModel model = source.loadModel(Device.cpu())) {
            return ModelArtifacts.write(root, copy, model, source.catalogue());
        }
    }

    /** The name of a version made at {@code now} that sorts after every name in {@code taken}. */
    public static String next(Instant now, Collection<String> taken) {
        String name = "v" + DAY.format(now) + "-r" + TIME.format(now);
        String highest = taken.stream().max(Comparator.naturalOrder()).orElse(null);
        if (highest == null || name.compareTo(highest) > 0) {
            return name;
        }
        return highest + "-r" + TIME.format(now);
    }
}
