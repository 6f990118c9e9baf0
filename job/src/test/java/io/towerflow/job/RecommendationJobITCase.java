package io.towerflow.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.config.KafkaOptions;
import io.towerflow.config.ModelOptions;
import io.towerflow.config.RecommendOptions;
import io.towerflow.job.kafka.EmbeddedKafka;
import io.towerflow.records.Action;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.JsonCodec;
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
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
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
    private static final class Run {
        final String suffix = UUID.randomUUID().toString().substring(0, 8);
        final String in = "behavior-" + suffix;
        final String out = "recs-" + suffix;
        final String dlq = "dlq-" + suffix;
        final List<BehaviorEvent> valid = new ArrayList<>();
    }

    @Test
    void everyValidEventGetsExactlyOneListAndEveryBadOneADeadLetter() throws Exception {
        SyntheticGenerator.Config cfg = TestModels.syntheticConfigOfBootstrap();
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
        SyntheticGenerator.Config cfg = TestModels.syntheticConfigOfBootstrap();
        cfg.seed = 11;
        List<BehaviorEvent> events = new ArrayList<>();
        new SyntheticGenerator(cfg).events(3_000).forEachRemaining(events::add);
        Run run = new Run();
        kafka.createTopics(Map.of(run.in, 2, run.out, 2, run.dlq, 1));
        FailOnce.reset(1_500);
        send(run, events.subList(0, 1_500));
        JobClient job = startJob(run, raw -> raw.map(new FailOnce()).name("fail-once"), false);
        try {
            // the first half is committed, so a checkpoint has completed ...
            waitForCommitted(run.out, 1_500);
            // ... and the second half meets a failure: restore from that checkpoint, replay
            send(run, events.subList(1_500, 3_000));
            waitForCommitted(run.out, 3_000);
        } finally {
            job.cancel().get();
        }
        assertTrue(FailOnce.failed.get(), "the fault was injected");
        assertExactlyOnce(run, 0);
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

    private static void waitForCommitted(String topic, int count) {
        long deadline = System.currentTimeMillis() + 120_000;
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> parts =
                    c.partitionsFor(topic).stream()
                            .map(i -> new TopicPartition(topic, i.partition()))
                            .collect(Collectors.toList());
            c.assign(parts);
            c.seekToBeginning(parts);
            int seen = 0;
            while (seen < count) {
                if (System.currentTimeMillis() > deadline) {
                    throw new AssertionError("only " + seen + " of " + count + " lists committed in " + topic);
                }
                seen += c.poll(Duration.ofMillis(200)).count();
            }
        }
    }

    private Run produce(int events, SyntheticGenerator.Config cfg, boolean withMalformed) throws Exception {
        Run run = new Run();
        kafka.createTopics(Map.of(run.in, 2, run.out, 2, run.dlq, 1));
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

    private static void send(Run run, List<BehaviorEvent> events) {
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
    private static JobClient startJob(Run run, UnaryOperator<DataStream<RawRecord>> tap, boolean bounded)
            throws Exception {
        Configuration options = new Configuration();
        options.set(KafkaOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
        options.set(KafkaOptions.BEHAVIOR_TOPIC, run.in);
        options.set(KafkaOptions.RECOMMENDATIONS_TOPIC, run.out);
        options.set(KafkaOptions.DLQ_TOPIC, run.dlq);
        options.set(KafkaOptions.START_FROM, KafkaOptions.StartFrom.EARLIEST);
        options.set(KafkaOptions.BOUNDED, bounded);
        options.set(KafkaOptions.TRANSACTIONAL_ID_PREFIX, "it-" + run.suffix);
        options.set(ModelOptions.PATH, TestModels.bootstrapVersionDir().toString());
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
        RecommendationJob.sinks(conf, RecommendationPipeline.define(conf, raw));
        return env.executeAsync("towerflow-it-" + run.suffix);
    }

    /** One list per valid event (no loss, no duplicate) and one dead letter per bad record. */
    private static List<Recommendation> assertExactlyOnce(Run run, int malformed) throws Exception {
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
        String version = TestModels.bootstrapVersionDir().getFileName().toString();
        for (Recommendation r : lists) {
            assertEquals(20, r.items.length);
            assertTrue(r.emittedTs > 0);
            assertEquals(version, r.modelVersion);
        }

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

    private static KafkaProducer<byte[], byte[]> producer() {
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        return new KafkaProducer<>(p);
    }

    /** Everything committed in a topic, read up to its end offsets. */
    private static List<ConsumerRecord<byte[], byte[]>> readCommitted(String topic) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        List<ConsumerRecord<byte[], byte[]>> all = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> parts =
                    c.partitionsFor(topic).stream()
                            .map(i -> new TopicPartition(topic, i.partition()))
                            .collect(Collectors.toList());
            c.assign(parts);
            c.seekToBeginning(parts);
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
