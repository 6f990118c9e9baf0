package io.towerflow.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * The jar submitted to a cluster holds what runs there and nothing else: of our code exactly the
 * serving core's and the job's classes (no trainer, evaluation, demo, generator or cluster
 * tooling), and no Flink runtime classes (Flink is {@code provided}). Runs after {@code package}
 * (failsafe), against the shaded jar that {@code flink run} takes.
 */
class ClusterJarITCase {
    /** Packages of Flink's own runtime (flink-dist), which the cluster provides. */
    private static final List<String> FLINK_DIST = List.of(
            "org/apache/flink/api/", "org/apache/flink/configuration/", "org/apache/flink/runtime/",
            "org/apache/flink/streaming/api/", "org/apache/flink/streaming/runtime/",
            "org/apache/flink/core/", "org/apache/flink/util/", "org/apache/flink/state/");

    @Test
    void holdsTheCoreAndTheJobOnly() throws IOException {
        Path target = Paths.get("target");
        Path jar;
        try (Stream<Path> files = Files.list(target)) {
            jar = files.filter(f -> f.getFileName().toString().matches("towerflow-job-.*-cluster\\.jar"))
                    .findFirst().orElseThrow(() -> new AssertionError("no cluster jar in " + target.toAbsolutePath()));
        }
        Set<String> ours = new TreeSet<>();
        Set<String> flink = new TreeSet<>();
        try (JarFile j = new JarFile(jar.toFile())) {
            j.stream().map(e -> e.getName()).filter(n -> n.endsWith(".class")).forEach(n -> {
                if (n.startsWith("io/towerflow/") && !n.startsWith("io/towerflow/shaded/")) {
                    ours.add(n);
                } else if (FLINK_DIST.stream().anyMatch(n::startsWith)) {
                    flink.add(n);
                }
            });
        }
        Set<String> expected = new TreeSet<>();
        expected.addAll(classes(Paths.get("target/classes")));
        expected.addAll(classes(Paths.get("../udf/core/target/classes")));
        assertEquals(expected, ours, "our classes in " + jar.getFileName());
        assertTrue(flink.isEmpty(), "Flink classes in the job jar: " + flink.stream().limit(10).toList());
    }

    private static Set<String> classes(Path dir) throws IOException {
        Set<String> names = new TreeSet<>();
        try (Stream<Path> files = Files.walk(dir)) {
            files.filter(f -> f.toString().endsWith(".class"))
                    .forEach(f -> names.add(dir.relativize(f).toString().replace('\\', '/')));
        }
        return names;
    }
}
