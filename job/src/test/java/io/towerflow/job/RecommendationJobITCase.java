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
import io.towerflow.records.Recommendation;
import io.towerflow.records.ScoredItem;
import io.towerflow.synthetic.SyntheticGenerator;

import com.fasterxml.jackson.databind.JsonNode;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
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
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * The whole job on a MiniCluster (parallelism 2, RocksDB, exactly-once checkpoints) between real
 * Kafka topics of an in-process KRaft broker, serving the committed bootstrap model.
 */
class RecommendationJobITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(2)
                            .build());

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

    @Test
    void everyValidEventGetsExactlyOneListAndEveryBadOneADeadLetter() throws Exception {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        String in = "behavior-" + suffix;
        String out = "recs-" + suffix;
        String dlq = "dlq-" + suffix;
        kafka.createTopics(Map.of(in, 2, out, 2, dlq, 1));

        SyntheticGenerator.Config cfg = TestModels.syntheticConfigOfBootstrap();
        cfg.seed = 7;
        List<BehaviorEvent> valid = new ArrayList<>();
        Iterator<BehaviorEvent> it = new SyntheticGenerator(cfg).events(1_500);
        it.forEachRemaining(valid::add);
        // a user whose whole history lies in one category
        SyntheticGenerator gen = new SyntheticGenerator(cfg);
        long t0 = valid.get(valid.size() - 1).ts + 1_000;
        String focusedCategory = "7";
        for (int i = 0; i < 8; i++) {
            int item = 1 + 7 + i * cfg.categories; // items 8, 108, 208, ... are category 7
            valid.add(new BehaviorEvent("focused-user", Integer.toString(item), Action.VIEW, t0 + i, gen.categoryOf(Integer.toString(item))));
        }
        List<String> malformed =
                List.of(
                        "{\"userId\":\"u1\",",
                        "{\"userId\":\"\",\"itemId\":\"1\",\"action\":\"view\",\"ts\":1700000000000}",
                        "{\"userId\":\"u1\",\"itemId\":\"1\",\"action\":\"dance\",\"ts\":1700000000000}",
                        "{\"userId\":\"u1\",\"itemId\":\"1\",\"action\":\"view\",\"ts\":-5}",
                        "1,2,3,pv,15",
                        "");
        try (KafkaProducer<byte[], byte[]> p = producer()) {
            int m = 0;
            for (int i = 0; i < valid.size(); i++) {
                BehaviorEvent e = valid.get(i);
                p.send(new ProducerRecord<>(in, null, e.ts, e.userId.getBytes(StandardCharsets.UTF_8), JsonCodec.behaviorEvent(e)));
                if (i % 250 == 0 && m < malformed.size()) {
                    p.send(new ProducerRecord<>(in, malformed.get(m++).getBytes(StandardCharsets.UTF_8)));
                }
            }
            while (m < malformed.size()) {
                p.send(new ProducerRecord<>(in, malformed.get(m++).getBytes(StandardCharsets.UTF_8)));
            }
            p.flush();
        }

        Configuration options = new Configuration();
        options.set(KafkaOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
        options.set(KafkaOptions.BEHAVIOR_TOPIC, in);
        options.set(KafkaOptions.RECOMMENDATIONS_TOPIC, out);
        options.set(KafkaOptions.DLQ_TOPIC, dlq);
        options.set(KafkaOptions.START_FROM, KafkaOptions.StartFrom.EARLIEST);
        options.set(KafkaOptions.BOUNDED, true);
        options.set(KafkaOptions.TRANSACTIONAL_ID_PREFIX, "it-" + suffix);
        options.set(ModelOptions.PATH, TestModels.bootstrapVersionDir().toString());
        options.set(RecommendOptions.TOP_K, 20);
        options.set(RecommendOptions.BATCH_MAX_SIZE, 32);

        Configuration flink = new Configuration();
        flink.setString("state.backend.type", "rocksdb");
        flink.setString("execution.checkpointing.interval", "500ms");
        flink.setString("execution.checkpointing.dir", tmp.resolve("checkpoints").toUri().toString());
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
        env.setParallelism(2);
        RecommendationJob.define(env, options);
        env.execute("towerflow-it");

        // the bounded job has finished: everything it committed is visible now
        List<Recommendation> lists = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : readCommitted(out)) {
            Recommendation rec = JsonCodec.parseRecommendation(r.value());
            assertEquals(rec.userId, new String(r.key(), StandardCharsets.UTF_8));
            lists.add(rec);
        }
        Map<String, Long> expected =
                valid.stream().collect(Collectors.groupingBy(e -> e.userId + "|" + e.ts, Collectors.counting()));
        Map<String, Long> actual =
                lists.stream().collect(Collectors.groupingBy(r -> r.userId + "|" + r.eventTs, Collectors.counting()));
        assertEquals(valid.size(), lists.size(), "one list per valid event");
        assertEquals(expected, actual, "no event lost, none duplicated");
        for (Recommendation r : lists) {
            assertEquals(20, r.items.length);
            assertTrue(r.emittedTs > 0);
            assertEquals(TestModels.bootstrapVersionDir().getFileName().toString(), r.modelVersion);
        }

        List<ConsumerRecord<byte[], byte[]>> dead = readCommitted(dlq);
        assertEquals(malformed.size(), dead.size(), "every malformed record dead-lettered");
        for (ConsumerRecord<byte[], byte[]> d : dead) {
            JsonNode n = JsonCodec.mapper().readTree(d.value());
            assertEquals(in, n.get("sourceTopic").asText());
            assertTrue(n.get("reason").asText().length() > 0);
            assertTrue(n.has("rawBase64"));
        }

        // the user who only looked at category 7 is shown mostly category 7
        Recommendation last =
                lists.stream()
                        .filter(r -> r.userId.equals("focused-user"))
                        .max((a, b) -> Long.compare(a.eventTs, b.eventTs))
                        .orElseThrow();
        long inCategory = 0;
        for (ScoredItem s : last.items) {
            if (gen.categoryOf(s.itemId).equals(focusedCategory)) {
                inCategory++;
            }
        }
        assertTrue(inCategory >= 12, "only " + inCategory + " of 20 items in the user's category");
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
    static List<ConsumerRecord<byte[], byte[]>> readCommitted(String topic) {
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
