package io.towerflow.devkit.cluster;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The jars of a cluster process, resolved by Maven from {@code deploy/local/cluster/pom.xml}
 * (profile {@code flink} or {@code kafka}) with the project's own versions, and cached in
 * {@code .run/cluster/classpath-<profile>.txt} until that pom or the root pom changes.
 */
final class ProcessClasspath {
    private ProcessClasspath() {}

    static List<Path> resolve(ClusterHome home, String profile) throws IOException, InterruptedException {
        Path pom = home.repo.resolve("deploy/local/cluster/pom.xml");
        Path cache = home.dir.resolve("classpath-" + profile + ".txt");
        if (!Files.exists(cache)
                || Files.getLastModifiedTime(cache).compareTo(Files.getLastModifiedTime(pom)) < 0
                || Files.getLastModifiedTime(cache).compareTo(Files.getLastModifiedTime(home.repo.resolve("pom.xml"))) < 0) {
            Files.createDirectories(cache.getParent());
            Path tmp = cache.resolveSibling(cache.getFileName() + ".tmp");
            List<String> cmd = List.of(
                    "mvn", "-B", "-q", "-f", pom.toString(), "-P" + profile,
                    "dependency:build-classpath", "-Dmdep.outputFile=" + tmp, "-Dmdep.includeScope=runtime");
            Process p = new ProcessBuilder(cmd).directory(home.repo.toFile()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (p.waitFor() != 0 || !Files.exists(tmp)) {
                throw new IOException("resolving the " + profile + " classpath failed: " + String.join(" ", cmd) + "\n" + out);
            }
            Files.move(tmp, cache, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        List<Path> jars = new ArrayList<>();
        for (String entry : Files.readString(cache).trim().split(File.pathSeparator)) {
            if (!entry.isBlank()) {
                Path jar = Path.of(entry);
                if (!Files.exists(jar)) {
                    Files.delete(cache);
                    throw new UncheckedIOException(new IOException(jar + " is gone; run the command again to resolve anew"));
                }
                jars.add(jar);
            }
        }
        return jars;
    }
}
