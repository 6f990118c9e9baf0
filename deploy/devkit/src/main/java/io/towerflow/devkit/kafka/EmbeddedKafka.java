package io.towerflow.devkit.kafka;

import io.towerflow.config.KafkaEndpoint;
import io.towerflow.kafka.Topics;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.apache.kafka.metadata.bootstrap.BootstrapMetadata;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * An in-process, single-node KRaft Kafka broker (one combined broker + controller) for the local
 * demo and the integration tests, built on Kafka's own test kit.
 *
 * <p>The cluster is bootstrapped like a freshly formatted production broker: the latest
 * production metadata version with every production feature at its default level for it, so
 * {@code transaction.version} is 2 as on a real 4.2 broker (a bootstrap made of the metadata
 * version alone leaves it at 0). Internal topics have replication factor and min ISR 1.
 *
 * <p>All data lives in a fresh directory under the caller's work directory and is deleted on
 * {@link #close()}.
 */
public final class EmbeddedKafka implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);
    private static final Duration TOPIC_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

    private final KafkaClusterTestKit cluster;
    private final Path dataDir;
    private final String bootstrapServers;
    private final KafkaEndpoint endpoint;
    private boolean closed;

    private EmbeddedKafka(KafkaClusterTestKit cluster, Path dataDir, Map<String, String> clientProperties) {
        this.cluster = cluster;
        this.dataDir = dataDir;
        this.bootstrapServers = cluster.bootstrapServers();
        this.endpoint = new KafkaEndpoint(bootstrapServers, clientProperties);
    }

    /** Starts the broker with its data under {@code workDir} and waits until it serves clients. */
    public static EmbeddedKafka start(Path workDir) throws Exception {
        return start(workDir, Map.of(), Map.of());
    }

    /**
     * As {@link #start(Path)}, with broker settings over the defaults (e.g. a SASL_SSL client
     * listener: {@code listener.security.protocol.map}, {@code listener.name.external.*}) and the
     * client properties its clients need ({@link #endpoint()}).
     */
    public static EmbeddedKafka start(Path workDir, Map<String, String> brokerSettings,
            Map<String, String> clientProperties) throws Exception {
        long t0 = System.nanoTime();
        Files.createDirectories(workDir);
        Path dataDir = Files.createTempDirectory(workDir, "kafka-");
        KafkaClusterTestKit cluster = null;
        try {
            TestKitNodes nodes = new TestKitNodes.Builder(productionBootstrapMetadata())
                    .setCombined(true)
                    .setNumBrokerNodes(1)
                    .setNumControllerNodes(1)
                    .setBaseDirectory(dataDir)
                    .build();
            KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(nodes).setDeleteOnClose(true);
            brokerConfig().forEach(builder::setConfigProp);
            brokerSettings.forEach(builder::setConfigProp);
            cluster = builder.build();
            cluster.format();
            cluster.startup();
            cluster.waitForReadyBrokers();
            EmbeddedKafka kafka = new EmbeddedKafka(cluster, dataDir, clientProperties);
            kafka.awaitClientsServed();
            LOG.info("Embedded Kafka started at {} in {} ms (data in {})",
                    kafka.bootstrapServers,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
                    dataDir);
            return kafka;
        } catch (Exception | Error e) {
            if (cluster != null) {
                try {
                    cluster.close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            try {
                deleteRecursively(dataDir);
            } catch (UncheckedIOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * The latest production metadata version plus every production feature (transaction.version,
     * group.version, ...) at the level a real broker formats with, i.e. what {@code kafka-storage
     * format} does without a release version.
     */
    static BootstrapMetadata productionBootstrapMetadata() {
        MetadataVersion mv = MetadataVersion.latestProduction();
        Map<String, Short> levels = new LinkedHashMap<>();
        for (Feature f : Feature.PRODUCTION_FEATURES) {
            levels.put(f.featureName(), f.defaultLevel(mv));
        }
        return BootstrapMetadata.fromVersions(mv, levels, "towerflow-embedded-kafka");
    }

    private static Map<String, String> brokerConfig() {
        Map<String, String> c = new LinkedHashMap<>();
        c.put("offsets.topic.replication.factor", "1");
        c.put("offsets.topic.num.partitions", "1");
        c.put("transaction.state.log.replication.factor", "1");
        c.put("transaction.state.log.min.isr", "1");
        c.put("transaction.state.log.num.partitions", "1");
        c.put("share.coordinator.state.topic.replication.factor", "1");
        c.put("share.coordinator.state.topic.min.isr", "1");
        c.put("default.replication.factor", "1");
        c.put("min.insync.replicas", "1");
        c.put("group.initial.rebalance.delay.ms", "0");
        // Records carry their event time as timestamp, and replays (Taobao 2017, synthetic data)
        // are older than any time-based retention: never delete by time here, or a lagging job
        // would find parts of its input gone.
        c.put("log.retention.ms", "-1");
        // and replays may carry any event time: accept timestamps in the future too
        c.put("log.message.timestamp.after.max.ms", Long.toString(Long.MAX_VALUE));
        return c;
    }

    /** Waits until the broker's client listener answers a metadata request. */
    private void awaitClientsServed() throws Exception {
        Map<String, Object> props = endpoint.map();
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) READY_TIMEOUT.toMillis());
        try (Admin admin = Admin.create(props)) {
            admin.describeCluster().nodes().get(READY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** The broker's client listener with the client properties it needs. */
    public KafkaEndpoint endpoint() {
        return endpoint;
    }

    /** The {@code bootstrap.servers} string of the broker's client listener. */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    /**
     * Creates topics (given partition counts, replication factor 1) and waits until each
     * partition answers {@code listOffsets(latest)}: producing right after {@code createTopics}
     * can silently lose records (KAFKA-14359). Topics that already exist are fine.
     */
    public void createTopics(Map<String, Integer> partitionsByTopic) throws Exception {
        createTopics(partitionsByTopic, Map.of());
    }

    /**
     * As {@link #createTopics(Map)}, with per-topic configs of new topics, e.g. {@code
     * cleanup.policy=compact}.
     */
    public void createTopics(Map<String, Integer> partitionsByTopic, Map<String, Map<String, String>> configsByTopic)
            throws Exception {
        Topics.ensureTopics(endpoint, partitionsByTopic, configsByTopic, TOPIC_TIMEOUT);
    }

    /** Stops the broker and deletes its data directory. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            cluster.close();
        } catch (Exception e) {
            LOG.warn("Error stopping embedded Kafka at {}", bootstrapServers, e);
        } finally {
            deleteRecursively(dataDir);
        }
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
                    if (exc instanceof NoSuchFileException) {
                        return FileVisitResult.CONTINUE;
                    }
                    throw exc;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                    if (exc != null && !(exc instanceof NoSuchFileException)) {
                        throw exc;
                    }
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (NoSuchFileException ignored) {
            // already gone
        } catch (IOException e) {
            throw new UncheckedIOException("Could not delete " + dir, e);
        }
    }
}
