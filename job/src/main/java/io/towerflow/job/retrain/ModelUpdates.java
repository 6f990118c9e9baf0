package io.towerflow.job.retrain;

import io.towerflow.job.kafka.Topics;
import io.towerflow.model.InvalidModelException;
import io.towerflow.model.ModelArtifacts;
import io.towerflow.records.JsonCodec;
import io.towerflow.records.ModelUpdate;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The {@code model-updates} topic: references {@code {version, uri, sha256}} to verified model
 * version directories, where sha256 is that of the version's {@code manifest.json} (which lists
 * the sha256 of every other file).
 */
public final class ModelUpdates {
    private ModelUpdates() {}

    /** An update together with the version it names, verified. */
    public record Verified(ModelUpdate update, ModelArtifacts artifacts) {}

    /**
     * The update of a version directory, after verifying the version: its manifest's version, the
     * directory's absolute {@code file:} URI and the sha256 of its manifest.json.
     */
    public static Verified of(Path versionDir) throws InvalidModelException, IOException {
        Path dir = versionDir.toAbsolutePath().normalize();
        ModelArtifacts a = ModelArtifacts.load(dir);
        String sha = ModelArtifacts.sha256(dir.resolve(ModelArtifacts.MANIFEST));
        return new Verified(new ModelUpdate(a.manifest().version(), dir.toUri().toString(), sha), a);
    }

    /**
     * Verifies that an update names a version that loads, whose manifest has the update's version
     * and sha256.
     */
    public static Verified verify(ModelUpdate u) throws InvalidModelException {
        Path dir;
        try {
            dir = u.uri.startsWith("file:") ? Paths.get(URI.create(u.uri)) : Paths.get(u.uri);
        } catch (RuntimeException e) {
            throw new InvalidModelException("unsupported uri " + u.uri + ": " + e.getMessage());
        }
        ModelArtifacts a = ModelArtifacts.load(dir);
        if (!a.manifest().version().equals(u.version)) {
            throw new InvalidModelException(
                    "manifest in " + dir + " is version " + a.manifest().version() + ", update says " + u.version);
        }
        String sha;
        try {
            sha = ModelArtifacts.sha256(dir.resolve(ModelArtifacts.MANIFEST));
        } catch (IOException e) {
            throw new InvalidModelException("cannot read the manifest in " + dir + ": " + e, e);
        }
        if (!sha.equalsIgnoreCase(u.sha256)) {
            throw new InvalidModelException("sha256 of " + dir.resolve(ModelArtifacts.MANIFEST) + " is " + sha
                    + ", update says " + u.sha256);
        }
        return new Verified(u, a);
    }

    /**
     * The newest update on the topic that verifies: the last published (by record timestamp, then
     * offset) is tried first, so publishing an older version's update is a rollback. Empty when
     * the topic does not exist or holds no update that verifies; the others are reported.
     */
    public static Optional<Verified> newestValid(String bootstrapServers, String topic, Duration timeout,
            ProgressLog log) throws TimeoutException {
        List<ConsumerRecord<byte[], byte[]>> all = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = BoundedReader.consumer(bootstrapServers, null, timeout)) {
            List<TopicPartition> tps = BoundedReader.partitions(consumer, topic);
            if (tps.isEmpty()) {
                return Optional.empty();
            }
            Map<TopicPartition, Long> start = consumer.beginningOffsets(tps);
            Map<TopicPartition, Long> end = consumer.endOffsets(tps);
            BoundedReader.read(consumer, start, end, timeout, all::add, () -> {});
        }
        all.sort(Comparator.<ConsumerRecord<byte[], byte[]>>comparingLong(ConsumerRecord::timestamp)
                .thenComparingLong(ConsumerRecord::offset)
                .reversed());
        for (ConsumerRecord<byte[], byte[]> r : all) {
            String where = r.topic() + "-" + r.partition() + "@" + r.offset();
            ModelUpdate u;
            try {
                u = JsonCodec.parseModelUpdate(r.value() == null ? new byte[0] : r.value());
            } catch (IllegalArgumentException e) {
                log.warn("%s skipped: %s", where, e.getMessage());
                continue;
            }
            try {
                return Optional.of(verify(u));
            } catch (InvalidModelException e) {
                log.warn("%s (%s) skipped: %s", where, u.version, e.getMessage());
            }
        }
        return Optional.empty();
    }

    /**
     * Publishes {@code u} (key = version) with an idempotent producer and waits for the broker's
     * acknowledgement. Creates the topic with one partition if it does not exist (one partition
     * keeps updates in publication order).
     */
    public static RecordMetadata publish(String bootstrapServers, String topic, ModelUpdate u, Duration timeout)
            throws InterruptedException, ExecutionException, TimeoutException {
        Topics.ensureTopics(bootstrapServers, Map.of(topic, 1), Map.of(), timeout);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "towerflow-retrain");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.min(30_000, timeout.toMillis()));
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p)) {
            return producer.send(new ProducerRecord<>(topic, u.version, JsonCodec.modelUpdate(u)))
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
    }
}
