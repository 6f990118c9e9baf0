package io.towerflow.retrain;

import io.towerflow.config.KafkaEndpoint;
import io.towerflow.kafka.Topics;
import io.towerflow.model.InvalidModelException;
import io.towerflow.model.ModelArtifacts;
import io.towerflow.operators.ModelLoader;
import io.towerflow.operators.ModelStore;
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
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
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
     * and sha256 (the checks of the operator's {@code ModelLoader}, short of building the item
     * matrix).
     */
    public static Verified verify(ModelUpdate u) throws InvalidModelException {
        Path dir;
        try {
            dir = ModelLoader.pathOf(u.uri);
        } catch (RuntimeException e) {
            throw new InvalidModelException("bad uri " + u.uri + ": " + e.getMessage());
        }
        ModelArtifacts a = ModelArtifacts.load(dir);
        if (!a.manifest().version().equals(u.version)) {
            throw new InvalidModelException(
                    "manifest in " + dir + " names version " + a.manifest().version() + ", the update " + u.version);
        }
        String sha;
        try {
            sha = ModelArtifacts.sha256(dir.resolve(ModelArtifacts.MANIFEST));
        } catch (IOException e) {
            throw new InvalidModelException("cannot read the manifest in " + dir + ": " + e, e);
        }
        if (!sha.equalsIgnoreCase(u.sha256)) {
            throw new InvalidModelException("manifest sha256 " + sha + " does not match the update's " + u.sha256);
        }
        return new Verified(u, a);
    }

    /** An update as read from the topic, with where it was. */
    public record Published(ModelUpdate update, String where) {}

    /**
     * Every update on the topic (read_committed, from the beginning to the end at the time of the
     * call); records that are not updates are reported and left out. Empty when the topic does
     * not exist.
     */
    public static List<Published> readAll(KafkaEndpoint kafka, String topic, Duration timeout, ProgressLog log)
            throws TimeoutException {
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = BoundedReader.consumer(kafka, null, timeout)) {
            List<TopicPartition> tps = BoundedReader.partitions(consumer, topic);
            if (tps.isEmpty()) {
                return List.of();
            }
            BoundedReader.read(consumer, consumer.beginningOffsets(tps), consumer.endOffsets(tps), timeout,
                    records::add, () -> {});
        }
        List<Published> out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            String where = r.topic() + "-" + r.partition() + "@" + r.offset();
            try {
                out.add(new Published(JsonCodec.parseModelUpdate(r.value() == null ? new byte[0] : r.value()), where));
            } catch (IllegalArgumentException e) {
                log.warn("%s skipped: %s", where, e.getMessage());
            }
        }
        return out;
    }

    /**
     * What the job serves: the highest version among the updates that verify (the operator's rule:
     * the highest valid version wins, whatever the order of arrival). Those passed over on the way
     * are reported. With a {@code store} (non-null), only versions it confines and verifies count,
     * as in the job.
     */
    public static Optional<Verified> highestValid(List<Published> updates, ModelStore store, ProgressLog log) {
        List<Published> byVersion = new ArrayList<>(updates);
        Collections.reverse(byVersion); // of equal versions, the later one first
        byVersion.sort(Comparator.comparing((Published p) -> p.update().version).reversed());
        for (Published p : byVersion) {
            try {
                if (store != null) {
                    store.verify(p.update());
                }
                return Optional.of(verify(p.update()));
            } catch (InvalidModelException e) {
                log.warn("%s (%s) skipped: %s", p.where(), p.update().version, e.getMessage());
            }
        }
        return Optional.empty();
    }

    /**
     * Publishes {@code u} (key = version) with an idempotent producer and waits for the broker's
     * acknowledgement. Creates the topic with one partition if it does not exist (one partition
     * keeps updates in publication order).
     */
    public static RecordMetadata publish(KafkaEndpoint kafka, String topic, ModelUpdate u, Duration timeout)
            throws InterruptedException, ExecutionException, TimeoutException {
        Topics.ensureTopics(kafka, Map.of(topic, 1), Map.of(), timeout);
        Properties p = kafka.properties();
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
