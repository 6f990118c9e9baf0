package io.towerflow.devkit.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * Where the local cluster lives: everything it writes is under {@code <repo>/.run/cluster} —
 * Flink's conf/lib/plugins, logs, pid files, checkpoints, savepoints, the broker's data, and a
 * small state file with the ports and the current job.
 */
final class ClusterHome {
    final Path repo;
    final Path dir;

    ClusterHome(Path repo) {
        this(repo, "cluster");
    }

    /** A home of its own under {@code <repo>/.run/<name>} (the failure suite's broker: {@code chaos}). */
    ClusterHome(Path repo, String name) {
        this.repo = repo.toAbsolutePath().normalize();
        this.dir = this.repo.resolve(".run").resolve(name);
    }

    Path flinkHome() {
        return dir.resolve("flink");
    }

    Path conf() {
        return flinkHome().resolve("conf");
    }

    Path lib() {
        return flinkHome().resolve("lib");
    }

    Path plugins() {
        return flinkHome().resolve("plugins");
    }

    Path logs() {
        return dir.resolve("logs");
    }

    Path pids() {
        return dir.resolve("pids");
    }

    Path kafka() {
        return dir.resolve("kafka");
    }

    Path checkpoints() {
        return dir.resolve("checkpoints");
    }

    Path savepoints() {
        return dir.resolve("savepoints");
    }

    Path tmp() {
        return dir.resolve("tmp");
    }

    /** The project's DJL cache (libtorch extracted once, shared with the demo and the tests). */
    Path djlCache() {
        return repo.resolve(".cache").resolve("djl");
    }

    /** Ports, bootstrap servers and the current job, as {@code cluster up} and later commands left them. */
    Properties state() {
        Properties p = new Properties();
        Path f = dir.resolve("cluster.properties");
        if (Files.exists(f)) {
            try (InputStream in = Files.newInputStream(f)) {
                p.load(in);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return p;
    }

    void saveState(Properties p) {
        try {
            Files.createDirectories(dir);
            try (OutputStream out = Files.newOutputStream(dir.resolve("cluster.properties"))) {
                p.store(out, "local towerflow cluster (deploy/local/towerflow cluster)");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The first free port on localhost from {@code from} to {@code to}, or any free port if none. */
    static int freePort(int from, int to) {
        for (int port = from; port > 0 && port <= to; port++) {
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                s.setReuseAddress(true);
                return port;
            } catch (IOException busy) {
                // try the next one
            }
        }
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int freePort() {
        return freePort(0, -1);
    }
}
