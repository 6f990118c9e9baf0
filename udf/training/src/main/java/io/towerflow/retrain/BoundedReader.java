package io.towerflow.retrain;

import io.towerflow.config.KafkaEndpoint;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Reads fixed offset ranges of a topic with a {@code read_committed} consumer: records of
 * transactions that are still open or were aborted are never seen, and each range ends at an
 * offset fixed before reading (at most the last stable offset), so a read always finishes.
 */
final class BoundedReader {
    private static final Duration POLL = Duration.ofMillis(200);

    private BoundedReader() {}

    /** A byte-array consumer with the endpoint's client properties: read_committed, no auto-commit, no topic auto-creation. */
    static KafkaConsumer<byte[], byte[]> consumer(KafkaEndpoint kafka, String groupId, Duration apiTimeout) {
        Properties p = kafka.properties();
        if (groupId != null) {
            p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        }
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
        // a feedback record carries its history (~3 KB): fetch more than the 1 MiB default per partition
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 << 20);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "towerflow-retrain");
        p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) Math.min(Integer.MAX_VALUE, apiTimeout.toMillis()));
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return new KafkaConsumer<>(p);
    }

    /** The topic's partitions; empty when the topic does not exist. */
    static List<TopicPartition> partitions(KafkaConsumer<?, ?> consumer, String topic) {
        List<PartitionInfo> infos = consumer.partitionsFor(topic);
        List<TopicPartition> tps = new ArrayList<>();
        if (infos != null) {
            infos.forEach(i -> tps.add(new TopicPartition(i.topic(), i.partition())));
        }
        tps.sort((a, b) -> Integer.compare(a.partition(), b.partition()));
        return tps;
    }

    /**
     * Hands every record of [start, end) of each partition to {@code handler}, calling {@code
     * afterPoll} after each poll. Fails when no partition's position moves for {@code stall}.
     */
    static void read(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> start,
            Map<TopicPartition, Long> end, Duration stall,
            Consumer<ConsumerRecord<byte[], byte[]>> handler, Runnable afterPoll) throws TimeoutException {
        Map<TopicPartition, Long> position = new HashMap<>();
        for (Map.Entry<TopicPartition, Long> e : start.entrySet()) {
            if (e.getValue() < end.get(e.getKey())) {
                position.put(e.getKey(), e.getValue());
            }
        }
        consumer.assign(position.keySet());
        position.forEach(consumer::seek);
        long lastProgress = System.nanoTime();
        while (!position.isEmpty()) {
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(POLL)) {
                TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                if (position.containsKey(tp) && r.offset() < end.get(tp)) {
                    handler.accept(r);
                }
            }
            List<TopicPartition> done = new ArrayList<>();
            for (Map.Entry<TopicPartition, Long> e : position.entrySet()) {
                long now = consumer.position(e.getKey());
                if (now != e.getValue()) {
                    e.setValue(now);
                    lastProgress = System.nanoTime();
                }
                if (now >= end.get(e.getKey())) {
                    done.add(e.getKey());
                }
            }
            if (!done.isEmpty()) {
                done.forEach(position::remove);
                consumer.pause(done);
            }
            afterPoll.run();
            if (!position.isEmpty() && System.nanoTime() - lastProgress > stall.toNanos()) {
                throw new TimeoutException("no progress reading " + position.keySet() + " for " + stall
                        + " (positions " + position + ", ends " + end + ")");
            }
        }
    }
}
