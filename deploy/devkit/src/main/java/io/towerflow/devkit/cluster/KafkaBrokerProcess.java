package io.towerflow.devkit.cluster;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A single-node KRaft Kafka broker (broker and controller in one JVM) as its own process, from the
 * Maven Central jars of {@code org.apache.kafka:kafka_2.13}: {@code kafka.tools.StorageTool format
 * --standalone} once, then {@code kafka.Kafka server.properties}. Data and config live in {@code
 * .run/cluster/kafka}, its log in {@code .run/cluster/logs/kafka.log}.
 */
final class KafkaBrokerProcess {
    static final String NAME = "kafka";
    private final ClusterHome home;
    private final List<Path> classpath;

    KafkaBrokerProcess(ClusterHome home, List<Path> classpath) {
        this.home = home;
        this.classpath = classpath;
    }

    /** Formats the storage and starts the broker; returns at once (see {@link #awaitReady}). */
    Daemon start(int port, int controllerPort) throws IOException, InterruptedException {
        Path dir = home.kafka();
        Files.createDirectories(dir.resolve("data"));
        Path props = dir.resolve("server.properties");
        Files.writeString(props, serverProperties(dir.resolve("data"), port, controllerPort));

        List<String> format = new ArrayList<>(java());
        format.addAll(List.of("kafka.tools.StorageTool", "format", "--standalone",
                "-t", Uuid.randomUuid().toString(), "-c", props.toString()));
        Process p = new ProcessBuilder(format).redirectErrorStream(true)
                .redirectOutput(home.logs().resolve("kafka-format.out").toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException("formatting the broker's storage failed; see " + home.logs().resolve("kafka-format.out"));
        }
        List<String> run = new ArrayList<>(java());
        run.add("kafka.Kafka");
        run.add(props.toString());
        return Daemon.start(home, NAME, run, Map.of());
    }

    /** Starts the broker again on its existing data (after {@link #start} and a stop). */
    Daemon restart() throws IOException {
        List<String> run = new ArrayList<>(java());
        run.add("kafka.Kafka");
        run.add(home.kafka().resolve("server.properties").toString());
        return Daemon.start(home, NAME, run, Map.of());
    }

    private List<String> java() {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of("-Xms256m", "-Xmx512m", "-XX:+UseG1GC",
                "-Dkafka.logs.dir=" + home.logs(),
                "-Dlog4j2.configurationFile=" + home.repo.resolve("deploy/local/cluster/log4j2-kafka.properties"),
                "-Djava.io.tmpdir=" + home.tmp(),
                "-cp", classpath.stream().map(Path::toString).collect(Collectors.joining(File.pathSeparator))));
        return cmd;
    }

    static String serverProperties(Path data, int port, int controllerPort) {
        return String.join("\n",
                "# single-node KRaft broker of the local towerflow cluster (written by `cluster up`)",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.bootstrap.servers=localhost:" + controllerPort,
                "listeners=PLAINTEXT://localhost:" + port + ",CONTROLLER://localhost:" + controllerPort,
                "advertised.listeners=PLAINTEXT://localhost:" + port + ",CONTROLLER://localhost:" + controllerPort,
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "log.dirs=" + data,
                "auto.create.topics.enable=false",
                // records carry their event time as timestamp; replays are older than any retention
                "log.retention.ms=-1",
                "num.partitions=1",
                "default.replication.factor=1",
                "min.insync.replicas=1",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=4",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "transaction.state.log.num.partitions=4",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "");
    }

    /** Waits until the broker answers a metadata request, or fails early if its process died. */
    static void awaitReady(String bootstrap, Daemon daemon, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, Object> conf = Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 2_000,
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000);
        try (Admin admin = Admin.create(conf)) {
            while (true) {
                try {
                    admin.describeCluster().nodes().get(3, TimeUnit.SECONDS);
                    return;
                } catch (Exception notYet) {
                    if (!daemon.alive()) {
                        throw new IllegalStateException("the Kafka broker exited:\n" + daemon.tail(20));
                    }
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("the Kafka broker did not answer within " + timeout, notYet);
                    }
                }
            }
        }
    }
}
