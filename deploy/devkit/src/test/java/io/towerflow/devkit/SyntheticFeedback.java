package io.towerflow.devkit;

import io.towerflow.operators.UserHistory;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.Feedback;
import io.towerflow.records.JsonCodec;
import io.towerflow.synthetic.SyntheticGenerator;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * rec-feedback records the way the recommend operator writes them: each synthetic event becomes
 * one record carrying the user's history before it, kept as the operator keeps it in keyed state
 * ({@link UserHistory#append}, the newest {@code historyLength}). No list was shown ({@code shown}
 * null).
 */
final class SyntheticFeedback {
    private SyntheticFeedback() {}

    /**
     * Records for events {@code skip} .. {@code skip + count} of the generator; the skipped events
     * still build up the users' histories, as a running job's state would have.
     */
    static List<Feedback> records(SyntheticGenerator.Config cfg, long skip, int count, int historyLength) {
        Iterator<BehaviorEvent> events = new SyntheticGenerator(cfg).events(skip + count);
        Map<String, UserHistory> history = new HashMap<>();
        List<Feedback> out = new ArrayList<>(count);
        for (long i = 0; events.hasNext(); i++) {
            BehaviorEvent e = events.next();
            UserHistory before = history.getOrDefault(e.userId, new UserHistory());
            if (i >= skip) {
                out.add(before.feedbackFor(e, null));
            }
            history.put(e.userId, before.append(e, historyLength));
        }
        return out;
    }

    /** A transactional producer for feedback records, as the operator's exactly-once sink writes them. */
    static KafkaProducer<String, byte[]> producer(String bootstrapServers, String transactionalId) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return new KafkaProducer<>(p);
    }

    /** Sends the records (key userId, timestamp = event time) in the producer's open transaction. */
    static void send(KafkaProducer<String, byte[]> producer, String topic, List<Feedback> records) {
        for (Feedback f : records) {
            producer.send(new ProducerRecord<>(topic, null, f.ts, f.userId, JsonCodec.feedback(f)));
        }
    }

    /**
     * Waits until read_committed readers see the whole topic: commit and abort markers are written
     * after commitTransaction/abortTransaction return, and until then the last stable offset lags.
     */
    static void awaitStable(String bootstrapServers, String topic) throws InterruptedException {
        try (KafkaConsumer<byte[], byte[]> committed = consumer(bootstrapServers, "read_committed");
                KafkaConsumer<byte[], byte[]> uncommitted = consumer(bootstrapServers, "read_uncommitted")) {
            List<TopicPartition> tps = new ArrayList<>();
            committed.partitionsFor(topic).forEach(i -> tps.add(new TopicPartition(topic, i.partition())));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!committed.endOffsets(tps).equals(uncommitted.endOffsets(tps))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("transaction markers of " + topic + " not written within 60 s");
                }
                Thread.sleep(50); // poll interval of the condition above
            }
        }
    }

    private static KafkaConsumer<byte[], byte[]> consumer(String bootstrapServers, String isolation) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return new KafkaConsumer<>(p);
    }
}
