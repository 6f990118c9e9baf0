package io.towerflow.devkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.devkit.kafka.EmbeddedKafka;
import io.towerflow.model.ModelArtifacts;
import io.towerflow.model.ModelManifest;
import io.towerflow.model.ServingModel;
import io.towerflow.model.TestModels;
import io.towerflow.operators.UserHistory;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.Feedback;
import io.towerflow.records.JsonCodec;
import io.towerflow.records.ModelUpdate;
import io.towerflow.retrain.RetrainJob;
import io.towerflow.synthetic.SyntheticGenerator;

import ai.djl.Device;

import com.fasterxml.jackson.databind.JsonNode;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * RetrainJob against an in-process broker: synthetic feedback (written the way the operator
 * writes it, in a committed transaction, beside an aborted one and a record that is not feedback)
 * and a model root holding a copy of the bootstrap version.
 */
class RetrainJobITCase {
    /** Events of the bootstrap's generator after the ones it was trained on: the same world, new acts. */
    private static final long SKIP = 1_000_000;
    /** -Dtowerflow.retrain.it.records=N for a bigger window (and figures worth quoting). */
    private static final int RECORDS = Integer.getInteger("towerflow.retrain.it.records", 4_000);
    private static final String BOOTSTRAP = "v20261207-bootstrap";

    @TempDir static Path shared;
    static EmbeddedKafka kafka;
    static String feedbackTopic;
    static List<Feedback> feedback;

    @BeforeAll
    static void startKafkaAndWriteFeedback() throws Exception {
        kafka = EmbeddedKafka.start(shared.resolve("kafka"));
        feedbackTopic = "rec-feedback-" + UUID.randomUUID();
        // the synthetic acts are a year old by the broker's clock: without these, every batch rolls
        // a segment (segment.ms, 7 d) and retention (7 d) deletes them once its check runs
        kafka.createTopics(Map.of(feedbackTopic, 2), Map.of(feedbackTopic,
                Map.of("retention.ms", "-1", "segment.ms", Long.toString(Duration.ofDays(3650).toMillis()))));
        feedback = SyntheticFeedback.records(new SyntheticGenerator.Config() /* the bootstrap version's world */, SKIP, RECORDS, 50);
        try (KafkaProducer<String, byte[]> producer = SyntheticFeedback.producer(kafka.bootstrapServers(), "feedback-writer")) {
            producer.initTransactions();
            producer.beginTransaction();
            SyntheticFeedback.send(producer, feedbackTopic, feedback);
            Feedback last = feedback.get(feedback.size() - 1);
            producer.send(new ProducerRecord<>(feedbackTopic, null, last.ts, "x", "not json".getBytes(StandardCharsets.UTF_8)));
            producer.commitTransaction();
            // an aborted transaction: a read_committed reader never sees it
            producer.beginTransaction();
            for (Feedback f : feedback.subList(0, 500)) {
                Feedback g = new UserHistory()
                        .feedbackFor(new BehaviorEvent(f.userId, "999999", f.action, f.ts, f.categoryId), null);
                producer.send(new ProducerRecord<>(feedbackTopic, null, f.ts, g.userId, JsonCodec.feedback(g)));
            }
            producer.flush();
            producer.abortTransaction();
        }
        SyntheticFeedback.awaitStable(kafka.bootstrapServers(), feedbackTopic);
        assertEquals(RECORDS + 1, readAll(feedbackTopic).size(), "read_committed sees the committed transaction");
    }

    @AfterAll
    static void stopKafka() {
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void promotesWritesAVerifiedVersionAndPublishesItsUpdate(@TempDir Path tmp) throws Exception {
        Path root = modelRootWithBootstrap(tmp);
        String updates = "model-updates-" + UUID.randomUUID();
        String group = "retrain-" + UUID.randomUUID();
        Path summaryFile = tmp.resolve("summary.json");
        // margin 1: promoted whatever the hit rates; this test is about what a promotion writes and
        // publishes, and the few thousand examples here say little about quality either way
        Run run = retrain("--feedback-topic", feedbackTopic, "--model-updates-topic", updates,
                "--model-root", root.toString(), "--group-id", group, "--summary-json", summaryFile.toString(),
                "--margin", "1");
        assertEquals(0, run.rc, run.output());

        JsonNode s = JsonCodec.mapper().readTree(summaryFile.toFile());
        System.out.println("summary: " + s);
        assertEquals(BOOTSTRAP, s.get("servingVersion").asText());
        assertTrue(s.get("promoted").asBoolean(), run.output());
        assertTrue(s.get("published").asBoolean());
        assertEquals(RECORDS, s.get("window").get("examples").asInt(), "the aborted transaction is not read");
        assertEquals(1, s.get("window").get("records").get("notFeedback").asInt());
        int heldOut = s.get("heldOut").get("examples").asInt();
        assertTrue(heldOut >= RECORDS / 5 && heldOut < RECORDS / 4, "newest ~20% held out: " + heldOut);
        assertTrue(s.get("heldOut").get("current").get("HR@20").isNumber());
        assertTrue(s.get("heldOut").get("candidate").get("HR@20").isNumber());
        assertTrue(s.get("trainSeconds").asDouble() > 0);

        String version = s.get("candidateVersion").asText();
        assertTrue(version.compareTo(BOOTSTRAP) > 0, version + " sorts after the bootstrap");
        Path dir = root.resolve(version);
        ModelManifest m = ModelArtifacts.load(dir).manifest();
        assertEquals(version, m.version());
        assertEquals(BOOTSTRAP, m.parent());
        assertEquals(RECORDS - heldOut, m.trainingWindow().events());
        assertEquals(feedback.get(0).ts, m.trainingWindow().fromTs());
        assertTrue(m.trainingWindow().toTs() < s.get("heldOut").get("fromTs").asLong());
        assertEquals(s.get("heldOut").get("candidate").get("HR@20").asDouble(), m.metrics().get("heldOut.hr@20.model"));
        assertEquals(s.get("heldOut").get("current").get("HR@20").asDouble(), m.metrics().get("heldOut.hr@20.current"));
        assertEquals(RECORDS, m.metrics().get("window.examples"));
        assertEquals(Set.of(ModelArtifacts.PARAMETERS, ModelArtifacts.ITEMS), m.files().keySet());
        try (ServingModel served = ServingModel.load(dir, Device.cpu())) {
            assertEquals(version, served.version());
            assertTrue(served.catalogueSize() >= ModelArtifacts.load(root.resolve(BOOTSTRAP)).catalogue().size());
        }
        try (Stream<Path> files = Files.list(root)) {
            assertEquals(Set.of(BOOTSTRAP, version),
                    files.map(f -> f.getFileName().toString()).collect(Collectors.toSet()),
                    "no temporary directory left");
        }

        List<ConsumerRecord<byte[], byte[]>> published = readAll(updates);
        assertEquals(1, published.size());
        assertEquals(version, new String(published.get(0).key(), StandardCharsets.UTF_8));
        ModelUpdate u = JsonCodec.parseModelUpdate(published.get(0).value());
        assertEquals(version, u.version);
        assertEquals(ModelArtifacts.sha256(dir.resolve(ModelArtifacts.MANIFEST)), u.sha256);
        assertEquals(dir.toAbsolutePath(), Paths.get(URI.create(u.uri)));

        // the group committed up to where the held-out slice begins: it is trained on next time
        Map<TopicPartition, OffsetAndMetadata> committed = committed(group);
        long total = 0;
        for (OffsetAndMetadata om : committed.values()) {
            total += om.offset();
        }
        assertEquals(2, committed.size());
        assertTrue(total > 0 && total <= RECORDS - heldOut + 1, "committed " + committed);
    }

    @Test
    void aCandidateThatIsNotGoodEnoughIsNeitherWrittenNorPublished(@TempDir Path tmp) throws Exception {
        Path root = modelRootWithBootstrap(tmp);
        String updates = "model-updates-" + UUID.randomUUID();
        Path summaryFile = tmp.resolve("summary.json");
        // a margin of -1 demands an improvement of HR@20 by 1: impossible
        Run run = retrain("--feedback-topic", feedbackTopic, "--model-updates-topic", updates,
                "--model-root", root.toString(), "--group-id", "retrain-" + UUID.randomUUID(),
                "--summary-json", summaryFile.toString(), "--margin", "-1");
        assertEquals(0, run.rc, run.output());
        assertTrue(run.stdout.contains("not promoted: candidate HR@20"), run.output());
        JsonNode s = JsonCodec.mapper().readTree(summaryFile.toFile());
        assertFalse(s.get("promoted").asBoolean());
        assertFalse(s.get("published").asBoolean());
        assertNotNull(s.get("candidateVersion").asText());
        try (Stream<Path> files = Files.list(root)) {
            assertEquals(List.of(BOOTSTRAP), files.map(f -> f.getFileName().toString()).toList());
        }
        assertEquals(0, readAll(updates).size());
    }

    @Test
    void aRollbackPublishesAHigherCopyWhichIsWhatServesAndTimeBoundsCutTheWindow(@TempDir Path tmp) throws Exception {
        Path root = modelRootWithBootstrap(tmp);
        Path empty = Files.createDirectories(tmp.resolve("empty-root"));
        String updates = "model-updates-" + UUID.randomUUID();
        // roll back to the bootstrap: its parameters again, as a version higher than any published
        Run rollback = retrain("--model-updates-topic", updates, "--model-root", root.toString(),
                "--rollback-to", root.resolve(BOOTSTRAP).toString());
        assertEquals(0, rollback.rc, rollback.output());
        List<String> versions;
        try (Stream<Path> files = Files.list(root)) {
            versions = files.map(f -> f.getFileName().toString()).sorted().toList();
        }
        assertEquals(2, versions.size(), versions.toString());
        String copy = versions.get(1);
        ModelManifest copied = ModelArtifacts.load(root.resolve(copy)).manifest();
        ModelManifest original = ModelArtifacts.load(root.resolve(BOOTSTRAP)).manifest();
        assertEquals(BOOTSTRAP, copied.parent());
        assertEquals(original.files(), copied.files(), "the same parameters and catalogue, bit for bit");
        // then the bootstrap as it is (last, but lower), and a higher update that does not verify
        Run pub = retrain("--model-updates-topic", updates, "--publish", root.resolve(BOOTSTRAP).toString());
        assertEquals(0, pub.rc, pub.output());
        publishRaw(updates, new ModelUpdate("v20991231-r000000", root.resolve(BOOTSTRAP).toUri().toString(), "00"));

        long from = feedback.get(1_000).ts;
        long to = feedback.get(3_000).ts;
        Path summaryFile = tmp.resolve("summary.json");
        String group = "retrain-" + UUID.randomUUID();
        Run run = retrain("--feedback-topic", feedbackTopic, "--model-updates-topic", updates,
                "--model-root", empty.toString(), "--group-id", group, "--from-ts", Long.toString(from),
                "--to-ts", Instant.ofEpochMilli(to).toString(), "--dry-run",
                "--summary-json", summaryFile.toString());
        assertEquals(0, run.rc, run.output());
        assertTrue(run.stderr.contains("(v20991231-r000000) skipped: "), run.output());
        JsonNode s = JsonCodec.mapper().readTree(summaryFile.toFile());
        assertEquals(copy, s.get("servingVersion").asText(), "the highest valid update, as the job serves");
        assertTrue(s.get("candidateVersion").asText().compareTo("v20991231-r000000") > 0,
                "a new version sorts after every published one, valid or not");
        long inWindow = feedback.stream().filter(f -> f.ts >= from && f.ts < to).count();
        assertEquals(inWindow, s.get("window").get("examples").asLong());
        assertEquals(from, s.get("window").get("fromTs").asLong());
        assertTrue(s.get("window").get("toTs").asLong() < to);
        assertTrue(s.get("dryRun").asBoolean());
        assertFalse(s.get("published").asBoolean());
        assertNull(s.get("path").textValue());
        try (Stream<Path> files = Files.list(empty)) {
            assertEquals(0, files.count(), "a dry run writes nothing");
        }
        assertEquals(3, readAll(updates).size(), "a dry run publishes nothing");
        assertTrue(committed(group).isEmpty(), "a window by time commits no offsets");
    }

    // --- helpers

    record Run(int rc, String stdout, String stderr) {
        String output() {
            return stdout + stderr;
        }
    }

    private static Run retrain(String... args) {
        List<String> all = new ArrayList<>(List.of("--bootstrap-servers", kafka.bootstrapServers()));
        all.addAll(List.of(args));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
                PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            rc = RetrainJob.run(all.toArray(new String[0]), o, e);
        }
        Run r = new Run(rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        System.out.print(r.output());
        return r;
    }

    private static Path modelRootWithBootstrap(Path tmp) throws IOException {
        Path root = Files.createDirectories(tmp.resolve("model-artifacts"));
        Path src = TestModels.repoRoot().resolve("model-artifacts").resolve(BOOTSTRAP);
        Path dst = Files.createDirectories(root.resolve(BOOTSTRAP));
        try (Stream<Path> files = Files.list(src)) {
            for (Path f : files.toList()) {
                Files.copy(f, dst.resolve(f.getFileName()));
            }
        }
        return root;
    }

    private static KafkaConsumer<byte[], byte[]> consumer(String group) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        if (group != null) {
            p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        }
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return new KafkaConsumer<>(p);
    }

    /** Every committed record of a topic (none when it does not exist). */
    private static List<ConsumerRecord<byte[], byte[]>> readAll(String topic) {
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = consumer(null)) {
            List<TopicPartition> tps = new ArrayList<>();
            c.partitionsFor(topic).forEach(i -> tps.add(new TopicPartition(topic, i.partition())));
            if (tps.isEmpty()) {
                return out;
            }
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = c.endOffsets(tps);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }

    private static Map<TopicPartition, OffsetAndMetadata> committed(String group) {
        try (KafkaConsumer<byte[], byte[]> c = consumer(group)) {
            Set<TopicPartition> tps = new HashSet<>();
            c.partitionsFor(feedbackTopic).forEach(i -> tps.add(new TopicPartition(feedbackTopic, i.partition())));
            Map<TopicPartition, OffsetAndMetadata> m = new HashMap<>(c.committed(tps));
            m.values().removeIf(v -> v == null);
            return m;
        }
    }

    private static void publishRaw(String topic, ModelUpdate u) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p)) {
            producer.send(new ProducerRecord<>(topic, u.version, JsonCodec.modelUpdate(u))).get();
        }
    }
}
