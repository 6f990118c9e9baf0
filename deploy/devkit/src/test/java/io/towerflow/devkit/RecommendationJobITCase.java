package io.towerflow.devkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.config.KafkaOptions;
import io.towerflow.config.ModelOptions;
import io.towerflow.config.ModelUpdateOptions;
import io.towerflow.config.RecommendOptions;
import io.towerflow.devkit.kafka.EmbeddedKafka;
import io.towerflow.job.RecommendationJob;
import io.towerflow.job.RecommendationPipeline;
import io.towerflow.kafka.Topics;
import io.towerflow.model.TestModels;
import io.towerflow.records.Action;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.CatalogueItem;
import io.towerflow.records.JsonCodec;
import io.towerflow.records.ModelUpdate;
import io.towerflow.records.RawRecord;
import io.towerflow.records.Recommendation;
import io.towerflow.records.ScoredItem;
import io.towerflow.synthetic.SyntheticGenerator;

import com.fasterxml.jackson.databind.JsonNode;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/**
 * The whole job on a MiniCluster (parallelism 2, RocksDB, exactly-once checkpoints) between real
 * Kafka topics of an in-process KRaft broker, serving the committed bootstrap model. The source is
 * bounded at the offsets present when the job starts, so the job finishes by itself and its last
 * checkpoint commits everything.
 */
class RecommendationJobITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(2)
                            .build());

    private static final List<String> MALFORMED =
            List.of(
                    "{\"userId\":\"u1\",",
                    "{\"userId\":\"\",\"itemId\":\"1\",\"action\":\"view\",\"ts\":1700000000000}",
                    "{\"userId\":\"u1\",\"itemId\":\"1\",\"action\":\"dance\",\"ts\":1700000000000}",
                    "{\"userId\":\"u1\",\"itemId\":\"1\",\"action\":\"view\",\"ts\":-5}",
                    "1,2,3,pv,15",
                    "");

    @TempDir static Path tmp;
    static EmbeddedKafka kafka;

    @BeforeAll
    static void startKafka() throws Exception {
        kafka = EmbeddedKafka.start(tmp);
    }

    @AfterAll
    static void stopKafka() {
        kafka.close();
    }

    /** Topics of one test run, and what was written to the input. */
    static final class Run {
        final String suffix = UUID.randomUUID().toString().substring(0, 8);
        final String in = "behavior-" + suffix;
        final String out = "recs-" + suffix;
        final String dlq = "dlq-" + suffix;
        final String feedback = "feedback-" + suffix;
        final String updates = "updates-" + suffix;
        final String catalog = "catalog-" + suffix;
        final List<BehaviorEvent> valid = new ArrayList<>();
    }

    @Test
    void everyValidEventGetsExactlyOneListAndEveryBadOneADeadLetter() throws Exception {
        SyntheticGenerator.Config cfg = new SyntheticGenerator.Config() /* the bootstrap version's world */;
        cfg.seed = 7;
        SyntheticGenerator gen = new SyntheticGenerator(cfg);
        Run run = produce(1_500, cfg, true);
        // a user whose whole history lies in category 7 (items 8, 108, 208, ...)
        long t0 = run.valid.get(run.valid.size() - 1).ts + 1_000;
        List<BehaviorEvent> focused = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            String item = Integer.toString(8 + i * cfg.categories);
            focused.add(new BehaviorEvent("focused-user", item, Action.VIEW, t0 + i, gen.categoryOf(item)));
        }
        send(run, focused);

        runJob(run, UnaryOperator.identity());
        List<Recommendation> lists = assertExactlyOnce(run, MALFORMED.size());
        String bootstrap = TestModels.bootstrapVersionDir().getFileName().toString();
        assertTrue(lists.stream().allMatch(r -> r.modelVersion.equals(bootstrap)));

        Recommendation last =
                lists.stream()
                        .filter(r -> r.userId.equals("focused-user"))
                        .max((a, b) -> Long.compare(a.eventTs, b.eventTs))
                        .orElseThrow();
        long inCategory = 0;
        for (ScoredItem s : last.items) {
            if (gen.categoryOf(s.itemId).equals("7")) {
                inCategory++;
            }
        }
        assertTrue(inCategory >= 12, "only " + inCategory + " of 20 items in the user's category: " + last);
    }

    @Test
    void aFailureAfterACheckpointLosesAndDuplicatesNothing() throws Exception {
        SyntheticGenerator.Config cfg = new SyntheticGenerator.Config() /* the bootstrap version's world */;
        cfg.seed = 11;
        List<BehaviorEvent> events = new ArrayList<>();
        new SyntheticGenerator(cfg).events(3_000).forEachRemaining(events::add);
        Run run = new Run();
        createTopics(run);
        FailOnce.reset(1_500);
        send(run, events.subList(0, 1_500));
        JobClient job = startJob(run, raw -> raw.map(new FailOnce()).name("fail-once"), false);
        try {
            // the first half is committed, so a checkpoint has completed ...
            waitForCommitted(run.out, 1_500);
            // ... and the second half meets a failure: restore from that checkpoint, replay
            send(run, events.subList(1_500, 3_000));
            waitForCommitted(run.out, 3_000);
            waitForCommitted(run.feedback, 3_000);
            // read while the job still runs: a cancelled job leaves its open transactions behind,
            // and they hold back what read_committed consumers may read until they time out
            assertExactlyOnce(run, 0);
            assertFewTransactionalIds(run);
        } finally {
            job.cancel().get();
        }
        assertTrue(FailOnce.failed.get(), "the fault was injected");
    }

    /**
     * The sinks reuse a few transactional ids (POOLING, the default): over a run of many 300-ms
     * checkpoints and a restart, each of the 3 sinks × 2 subtasks used at most 3 ids (10 in all
     * when written), where a new id per checkpoint (INCREMENTING) left 108 on the broker in the
     * same test, each kept there for 7 days.
     */
    static void assertFewTransactionalIds(Run run) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
            List<String> ids = admin.listTransactions().all().get().stream()
                    .map(TransactionListing::transactionalId)
                    .filter(id -> id.startsWith("it-" + run.suffix + "-"))
                    .sorted()
                    .collect(Collectors.toList());
            assertTrue(!ids.isEmpty() && ids.size() <= 3 * 2 * 3, ids.size() + " transactional ids: " + ids);
        }
    }

    @Test
    void aNewVersionPublishedMidStreamIsServedAndABadOneIsRefused() throws Exception {
        SyntheticGenerator.Config cfg = new SyntheticGenerator.Config() /* the bootstrap version's world */;
        cfg.seed = 13;
        List<BehaviorEvent> events = new ArrayList<>();
        new SyntheticGenerator(cfg).events(3_000).forEachRemaining(events::add);
        Run run = new Run();
        createTopics(run);
        String bootstrap = TestModels.bootstrapVersionDir().getFileName().toString();
        String[] popular = TestModels.popularItems(2);

        send(run, events.subList(0, 1_000));
        List<Recommendation> lists;
        JobClient job = startJob(run, UnaryOperator.identity(), false);
        try {
            waitForCommitted(run.out, 1_000);
            // a new version, then a "higher" but corrupted one, and two catalogue changes
            ModelUpdate next = TestModels.copyOfBootstrap(tmp.resolve("models-" + run.suffix), "v20991231-next");
            ModelUpdate bad = TestModels.copyOfBootstrap(tmp.resolve("models-" + run.suffix), "v20991231-zz-bad");
            Files.writeString(Path.of(java.net.URI.create(bad.uri)).resolve("items.csv"), "1,2,3\n", StandardOpenOption.APPEND);
            try (KafkaProducer<byte[], byte[]> p = producer()) {
                p.send(new ProducerRecord<>(run.updates, JsonCodec.modelUpdate(next)));
                p.send(new ProducerRecord<>(run.catalog, "brand-new-item".getBytes(StandardCharsets.UTF_8),
                        JsonCodec.catalogueItem(new CatalogueItem("brand-new-item", "7", true))));
                p.send(new ProducerRecord<>(run.catalog, popular[0].getBytes(StandardCharsets.UTF_8),
                        JsonCodec.catalogueItem(new CatalogueItem(popular[0], null, false))));
            }
            // keep events flowing until both subtasks serve the new version
            int sent = 1_000;
            while (countVersion(run.out, next.version) < 2 && sent < 2_000) {
                send(run, events.subList(sent, sent + 50));
                sent += 50;
                waitForCommitted(run.out, sent);
            }
            try (KafkaProducer<byte[], byte[]> p = producer()) {
                p.send(new ProducerRecord<>(run.updates, JsonCodec.modelUpdate(bad)));
            }
            send(run, events.subList(sent, 3_000));
            List<BehaviorEvent> probes = new ArrayList<>();
            long t = events.get(2_999).ts + 1;
            probes.add(new BehaviorEvent("cold-probe", "an-item-no-one-knows", Action.VIEW, t, null));
            probes.add(new BehaviorEvent("new-item-probe", "brand-new-item", Action.VIEW, t + 1, "7"));
            send(run, probes);
            waitForCommitted(run.out, 3_002);
            waitForCommitted(run.feedback, 3_002);
            lists = assertExactlyOnce(run, 0);
        } finally {
            job.cancel().get();
        }

        for (Recommendation r : lists) {
            assertTrue(r.modelVersion.equals(bootstrap) || r.modelVersion.equals("v20991231-next"), r.modelVersion);
        }
        Map<String, Recommendation> byUser = new HashMap<>();
        lists.forEach(r -> byUser.put(r.userId, r));
        Recommendation cold = byUser.get("cold-probe");
        assertEquals("v20991231-next", cold.modelVersion, "the corrupted version was refused, the new one serves");
        assertEquals(popular[1], cold.items[0].itemId, "the unavailable item left the popular list");
        for (ScoredItem s : cold.items) {
            assertTrue(!s.itemId.equals(popular[0]));
        }
        // the new item is in the index: a user who saw only it is no cold start (a model list)
        Recommendation fresh = byUser.get("new-item-probe");
        assertTrue(!Arrays.equals(cold.items, fresh.items));
    }

    private static long countVersion(String topic, String version) {
        return readCommitted(topic).stream()
                .map(r -> JsonCodec.parseRecommendation(r.value()))
                .filter(r -> r.modelVersion.equals(version))
                .count();
    }

    /** Throws once, at the first record after the first {@code after} records. */
    static final class FailOnce implements MapFunction<RawRecord, RawRecord> {
        static final AtomicBoolean failed = new AtomicBoolean();
        static final AtomicInteger seen = new AtomicInteger();
        static volatile int after;

        static void reset(int failAfter) {
            failed.set(false);
            seen.set(0);
            after = failAfter;
        }

        @Override
        public RawRecord map(RawRecord r) {
            if (seen.incrementAndGet() > after && failed.compareAndSet(false, true)) {
                throw new IllegalStateException("injected failure");
            }
            return r;
        }
    }

    static void waitForCommitted(String topic, int count) {
        long deadline = System.currentTimeMillis() + 120_000;
        try (KafkaConsumer<byte[], byte[]> c = readCommittedConsumer()) {
            List<TopicPartition> parts = fromBeginning(c, topic);
            int seen = 0;
            while (seen < count) {
                if (System.currentTimeMillis() > deadline) {
                    throw new AssertionError("only " + seen + " of " + count + " records committed in " + topic);
                }
                seen += c.poll(Duration.ofMillis(200)).count();
            }
        }
    }

    private Run produce(int events, SyntheticGenerator.Config cfg, boolean withMalformed) throws Exception {
        Run run = new Run();
        createTopics(run);
        new SyntheticGenerator(cfg).events(events).forEachRemaining(run.valid::add);
        List<BehaviorEvent> events0 = new ArrayList<>(run.valid);
        run.valid.clear();
        send(run, events0);
        if (withMalformed) {
            try (KafkaProducer<byte[], byte[]> p = producer()) {
                for (String m : MALFORMED) {
                    p.send(new ProducerRecord<>(run.in, m.getBytes(StandardCharsets.UTF_8)));
                }
            }
        }
        return run;
    }

    static void createTopics(Run run) throws Exception {
        kafka.createTopics(
                Map.of(run.in, 2, run.out, 2, run.dlq, 1, run.feedback, 2, run.updates, 1, run.catalog, 1),
                Map.of(run.catalog, Map.of("cleanup.policy", "compact")));
    }

    static void send(Run run, List<BehaviorEvent> events) {
        try (KafkaProducer<byte[], byte[]> p = producer()) {
            for (BehaviorEvent e : events) {
                p.send(new ProducerRecord<>(run.in, null, e.ts, e.userId.getBytes(StandardCharsets.UTF_8), JsonCodec.behaviorEvent(e)));
                run.valid.add(e);
            }
        }
    }

    private static void runJob(Run run, UnaryOperator<DataStream<RawRecord>> tap) throws Exception {
        startJob(run, tap, true).getJobExecutionResult().get();
    }

    /** Starts the job; a bounded one finishes by itself once it has read what is in the topic. */
    static JobClient startJob(Run run, UnaryOperator<DataStream<RawRecord>> tap, boolean bounded)
            throws Exception {
        Configuration options = new Configuration();
        options.set(KafkaOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
        options.set(KafkaOptions.BEHAVIOR_TOPIC, run.in);
        options.set(KafkaOptions.RECOMMENDATIONS_TOPIC, run.out);
        options.set(KafkaOptions.DLQ_TOPIC, run.dlq);
        options.set(KafkaOptions.FEEDBACK_TOPIC, run.feedback);
        options.set(KafkaOptions.MODEL_UPDATES_TOPIC, run.updates);
        options.set(KafkaOptions.CATALOG_TOPIC, run.catalog);
        options.set(KafkaOptions.START_FROM, KafkaOptions.StartFrom.EARLIEST);
        options.set(KafkaOptions.BOUNDED, bounded);
        options.set(KafkaOptions.TRANSACTIONAL_ID_PREFIX, "it-" + run.suffix);
        options.set(ModelOptions.PATH, TestModels.bootstrapVersionDir().toString());
        options.set(ModelUpdateOptions.ALLOWED_ROOTS, List.of(tmp.toString()));
        options.set(RecommendOptions.TOP_K, 20);
        options.set(RecommendOptions.BATCH_MAX_SIZE, 32);

        Configuration flink = new Configuration();
        flink.setString("state.backend.type", "rocksdb");
        flink.setString("execution.checkpointing.interval", "300ms");
        flink.setString("execution.checkpointing.dir", tmp.resolve("checkpoints-" + run.suffix).toUri().toString());
        flink.setString("restart-strategy.type", "fixed-delay");
        flink.setString("restart-strategy.fixed-delay.attempts", "2");
        flink.setString("restart-strategy.fixed-delay.delay", "100ms");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
        env.setParallelism(2);
        Configuration conf = RecommendationJob.effectiveOptions(env, options);
        DataStream<RawRecord> raw = tap.apply(RecommendationJob.source(env, conf));
        RecommendationJob.sinks(
                conf, RecommendationPipeline.define(conf, raw, RecommendationJob.controlSource(env, conf)));
        return env.executeAsync("towerflow-it-" + run.suffix);
    }

    /** One list per valid event (no loss, no duplicate) and one dead letter per bad record. */
    static List<Recommendation> assertExactlyOnce(Run run, int malformed) throws Exception {
        List<Recommendation> lists = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : readCommitted(run.out)) {
            Recommendation rec = JsonCodec.parseRecommendation(r.value());
            assertEquals(rec.userId, new String(r.key(), StandardCharsets.UTF_8));
            lists.add(rec);
        }
        Map<String, Long> expected =
                run.valid.stream().collect(Collectors.groupingBy(e -> e.userId + "|" + e.ts, Collectors.counting()));
        Map<String, Long> actual =
                lists.stream().collect(Collectors.groupingBy(r -> r.userId + "|" + r.eventTs, Collectors.counting()));
        assertEquals(run.valid.size(), lists.size(), "one list per valid event");
        assertEquals(expected, actual, "no event lost, none duplicated");
        for (Recommendation r : lists) {
            assertEquals(20, r.items.length);
            assertTrue(r.emittedTs > 0);
        }

        assertEquals(run.valid.size(), readCommitted(run.feedback).size(), "one feedback example per act");

        List<ConsumerRecord<byte[], byte[]>> dead = readCommitted(run.dlq);
        assertEquals(malformed, dead.size(), "every malformed record dead-lettered");
        for (ConsumerRecord<byte[], byte[]> d : dead) {
            JsonNode n = JsonCodec.mapper().readTree(d.value());
            assertEquals(run.in, n.get("sourceTopic").asText());
            assertTrue(n.get("reason").asText().length() > 0);
            assertTrue(n.has("rawBase64"));
        }
        return lists;
    }

    private static KafkaConsumer<byte[], byte[]> readCommittedConsumer() {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        return new KafkaConsumer<>(p);
    }

    private static List<TopicPartition> fromBeginning(KafkaConsumer<?, ?> c, String topic) {
        List<TopicPartition> parts =
                c.partitionsFor(topic).stream()
                        .map(i -> new TopicPartition(topic, i.partition()))
                        .collect(Collectors.toList());
        c.assign(parts);
        c.seekToBeginning(parts);
        return parts;
    }

    static KafkaProducer<byte[], byte[]> producer() {
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        return new KafkaProducer<>(p);
    }

    /** Everything committed in a topic, read up to its end offsets. */
    static List<ConsumerRecord<byte[], byte[]>> readCommitted(String topic) {
        List<ConsumerRecord<byte[], byte[]>> all = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = readCommittedConsumer()) {
            List<TopicPartition> parts = fromBeginning(c, topic);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            long deadline = System.currentTimeMillis() + 60_000;
            while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                if (System.currentTimeMillis() > deadline) {
                    throw new AssertionError("could not read " + topic + " to its end " + end);
                }
                c.poll(Duration.ofMillis(200)).forEach(all::add);
            }
        }
        return all;
    }
}
