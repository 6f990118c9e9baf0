package io.towerflow.devkit.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A background process of the local cluster, known by its pid file in {@code .run/cluster/pids}.
 * It outlives the command that started it; {@code cluster down} finds it again by the pid file and
 * stops it only if that pid still runs a command line that names the cluster directory, so a pid
 * reused by an unrelated process is never signalled.
 */
final class Daemon {
    final String name;
    private final ClusterHome home;

    Daemon(ClusterHome home, String name) {
        this.home = home;
        this.name = name;
    }

    Path pidFile() {
        return home.pids().resolve(name + ".pid");
    }

    Path outFile() {
        return home.logs().resolve(name + ".out");
    }

    /** Starts {@code command} with stdout and stderr to {@code logs/<name>.out} and writes the pid file. */
    static Daemon start(ClusterHome home, String name, List<String> command, Map<String, String> env) {
        Daemon d = new Daemon(home, name);
        try {
            Files.createDirectories(home.pids());
            Files.createDirectories(home.logs());
            ProcessBuilder pb = new ProcessBuilder(command);
            pb.environment().putAll(env);
            pb.directory(home.dir.toFile());
            pb.redirectErrorStream(true);
            pb.redirectOutput(d.outFile().toFile());
            pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            Process p = pb.start();
            Files.writeString(d.pidFile(), Long.toString(p.pid()) + "\n");
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException("could not start " + name, e);
        }
    }

    /** Every daemon that has a pid file, alive or not. */
    static List<Daemon> all(ClusterHome home) {
        List<Daemon> out = new ArrayList<>();
        if (!Files.isDirectory(home.pids())) {
            return out;
        }
        try (Stream<Path> files = Files.list(home.pids())) {
            files.map(f -> f.getFileName().toString())
                    .filter(n -> n.endsWith(".pid"))
                    .sorted()
                    .forEach(n -> out.add(new Daemon(home, n.substring(0, n.length() - 4))));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** The live process behind the pid file, if it is still one of ours. */
    Optional<ProcessHandle> handle() {
        try {
            if (!Files.exists(pidFile())) {
                return Optional.empty();
            }
            long pid = Long.parseLong(Files.readString(pidFile()).trim());
            return ProcessHandle.of(pid)
                    .filter(ProcessHandle::isAlive)
                    .filter(h -> h.info().commandLine().orElse("").contains(home.dir.toString()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    boolean alive() {
        return handle().isPresent();
    }

    long pid() {
        return handle().map(ProcessHandle::pid).orElse(-1L);
    }

    /** SIGKILL ({@code kill -9}): the process gets no chance to clean up. Removes the pid file. */
    boolean kill9() {
        return stop(Duration.ZERO);
    }

    /**
     * SIGTERM, then SIGKILL after {@code grace} (at once if zero); waits for the exit and removes
     * the pid file. True if it was running.
     */
    boolean stop(Duration grace) {
        Optional<ProcessHandle> h = handle();
        if (h.isPresent()) {
            ProcessHandle p = h.get();
            boolean exited = false;
            if (!grace.isZero()) {
                p.destroy();
                try {
                    p.onExit().get(grace.toMillis(), TimeUnit.MILLISECONDS);
                    exited = true;
                } catch (Exception notYet) {
                    // SIGKILL below
                }
            }
            if (!exited) {
                p.destroyForcibly();
                p.onExit().orTimeout(30, TimeUnit.SECONDS).join();
            }
        }
        try {
            Files.deleteIfExists(pidFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return h.isPresent();
    }

    /** The last lines of the process's stdout/stderr, for error messages. */
    String tail(int lines) {
        try {
            if (!Files.exists(outFile())) {
                return "";
            }
            List<String> all = Files.readAllLines(outFile());
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "";
        }
    }
}
