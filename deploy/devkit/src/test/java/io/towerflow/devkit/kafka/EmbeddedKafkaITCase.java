package io.towerflow.devkit.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.FinalizedVersionRange;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;

class EmbeddedKafkaITCase {

    private static final Duration DEADLINE = Duration.ofSeconds(60);

    @TempDir
    Path workDir;

    @Test
    void transactionalRoundTripIsExactlyOnceAndHidesAbortedRecords() throws Exception {
        long t0 = System.nanoTime();
        Path dataDir;
        try (EmbeddedKafka kafka = EmbeddedKafka.start(workDir)) {
            System.out.printf("EmbeddedKafka started in %d ms at %s%n",
                    (System.nanoTime() - t0) / 1_000_000, kafka.bootstrapServers());
            try (var dirs = Files.list(workDir)) {
                List<Path> l = dirs.toList();
                assertEquals(1, l.size(), "one data dir under workDir: " + l);
                dataDir = l.get(0);
            }

            assertTransactionVersion2(kafka.bootstrapServers());

            String topic = "it-" + UUID.randomUUID();
            kafka.createTopics(Map.of(topic, 2));
            kafka.createTopics(Map.of(topic, 2)); // already existing: fine

            try (KafkaProducer<String, String> producer = producer(kafka.bootstrapServers())) {
                producer.initTransactions();

                producer.beginTransaction();
                for (int i = 0; i < 100; i++) {
                    producer.send(new ProducerRecord<>(topic, "k" + i, "committed-" + i));
                }
                producer.commitTransaction();

                producer.beginTransaction();
                for (int i = 0; i < 50; i++) {
                    producer.send(new ProducerRecord<>(topic, "k" + i, "aborted-" + i));
                }
                producer.flush();
                producer.abortTransaction();

                // one committed marker per partition after the aborted batch: seeing both proves the
                // consumer read past the aborted records rather than stopping before them
                producer.beginTransaction();
                for (int p = 0; p < 2; p++) {
                    producer.send(new ProducerRecord<>(topic, p, "end", "end-" + p));
                }
                producer.commitTransaction();
            }

            List<String> values = consumeUntilEndMarkers(kafka.bootstrapServers(), topic);
            List<String> committed = new ArrayList<>();
            for (String v : values) {
                assertFalse(v.startsWith("aborted-"), "aborted record visible to read_committed: " + v);
                if (v.startsWith("committed-")) {
                    committed.add(v);
                }
            }
            assertEquals(100, committed.size(), "committed records: " + committed);
            Set<String> expected = new HashSet<>();
            for (int i = 0; i < 100; i++) {
                expected.add("committed-" + i);
            }
            assertEquals(expected, new HashSet<>(committed));
            assertEquals(102, values.size(), "100 committed + 2 end markers, nothing else: " + values);
        }
        assertFalse(Files.exists(dataDir), "data dir deleted on close: " + dataDir);
    }

    private static void assertTransactionVersion2(String bootstrap) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            Map<String, FinalizedVersionRange> finalized =
                    admin.describeFeatures().featureMetadata().get().finalizedFeatures();
            FinalizedVersionRange tv = finalized.get("transaction.version");
            assertTrue(tv != null && tv.maxVersionLevel() == 2, "transaction.version finalized: " + finalized);
        }
    }

    private static KafkaProducer<String, String> producer(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "it-tx-" + UUID.randomUUID());
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        return new KafkaProducer<>(p);
    }

    private static List<String> consumeUntilEndMarkers(String bootstrap, String topic) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        List<String> values = new ArrayList<>();
        Map<Integer, Boolean> endSeen = new HashMap<>();
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
            List<TopicPartition> tps = List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1));
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            while (endSeen.size() < 2) {
                if (System.nanoTime() - deadline > 0) {
                    fail("timed out; end markers seen " + endSeen.keySet() + ", values " + values);
                }
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    values.add(r.value());
                    if (r.value().startsWith("end-")) {
                        endSeen.put(r.partition(), true);
                    }
                }
            }
        }
        return values;
    }
}
