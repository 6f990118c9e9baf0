package io.towerflow.devkit.cluster;

import io.towerflow.config.KafkaEndpoint;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.JsonCodec;
import io.towerflow.records.Recommendation;

import com.fasterxml.jackson.databind.JsonNode;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Predicate;

/**
 * What a job has committed, read as a downstream consumer reads it ({@code read_committed}, from
 * the beginning of the lists and dead-letter topics), and checked against what was sent: each
 * valid event must have exactly one list (same user and event time), each malformed record exactly
 * one dead letter, and no list may hold an item of the user's history (the job excludes seen
 * items, so a list that does shows a history lost from state).
 */
final class OutputLedger implements AutoCloseable {
    /** A committed list: its event's key, its item ids, and when this consumer saw it. */
    record Received(String key, String[] items, long receivedAtMs) {}

    /** The verdict on everything read. */
    record Verdict(
            long expected, long received, long lost, long duplicated,
            long deadLettersExpected, long deadLetters, long deadLettersLost, long deadLettersDuplicated,
            long seenItemsRecommended, List<String> examples) {
        boolean exact() {
            return lost == 0 && duplicated == 0 && deadLettersLost == 0 && deadLettersDuplicated == 0;
        }
    }

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String listsTopic;
    private final List<TopicPartition> partitions = new ArrayList<>();
    private final List<Received> lists = new ArrayList<>();
    private final List<String> deadLetterOrigins = new ArrayList<>();
    private final Map<String, String> deadLetterReasons = new HashMap<>();

    OutputLedger(KafkaEndpoint kafka, String listsTopic, String deadLetterTopic) {
        this.listsTopic = listsTopic;
        this.consumer = readCommittedConsumer(kafka);
        for (String topic : List.of(listsTopic, deadLetterTopic)) {
            consumer.partitionsFor(topic).forEach(i -> partitions.add(new TopicPartition(topic, i.partition())));
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
    }

    /** A consumer of bytes that sees committed transactions only and commits no offsets. */
    static KafkaConsumer<byte[], byte[]> readCommittedConsumer(KafkaEndpoint kafka) {
        Map<String, Object> p = kafka.map();
        p.putAll(Map.of(
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class));
        return new KafkaConsumer<>(p);
    }

    /** One poll; whatever committed output it returns is recorded. */
    void poll(Duration timeout) {
        long now = System.currentTimeMillis();
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(timeout)) {
            if (r.topic().equals(listsTopic)) {
                Recommendation rec = JsonCodec.parseRecommendation(r.value());
                String[] items = new String[rec.items.length];
                for (int i = 0; i < items.length; i++) {
                    items[i] = rec.items[i].itemId;
                }
                lists.add(new Received(EventFeeder.key(rec.userId, rec.eventTs), items, now));
            } else {
                try {
                    JsonNode d = JsonCodec.mapper().readTree(r.value());
                    String origin = d.path("sourceTopic").asText() + "/" + d.path("sourcePartition").asInt()
                            + "@" + d.path("sourceOffset").asLong();
                    deadLetterOrigins.add(origin);
                    deadLetterReasons.put(origin, d.path("reason").asText());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
    }

    long lists() {
        return lists.size();
    }

    long deadLetters() {
        return deadLetterOrigins.size();
    }

    /** The reason of each dead letter read, by origin ({@code topic/partition@offset}). */
    Map<String, String> deadLetterReasons() {
        return deadLetterReasons;
    }

    /** When the first list seen at or after {@code epochMs} was seen. */
    OptionalLong firstReceivedAfter(long epochMs) {
        return lists.stream().mapToLong(Received::receivedAtMs).filter(t -> t >= epochMs).min();
    }

    /** When the first list whose key satisfies {@code filter} was seen. */
    OptionalLong firstReceived(Predicate<String> filter) {
        return lists.stream().filter(r -> filter.test(r.key())).mapToLong(Received::receivedAtMs).min();
    }

    /**
     * Reads up to the end: the offsets a {@code read_committed} consumer may read now (the last
     * stable offsets), so every transaction before them is decided and read.
     */
    void readToEnd(Duration timeout) {
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("could not read the output to its end " + end);
            }
            poll(Duration.ofMillis(200));
        }
    }

    /**
     * Checks everything read against the valid events sent (in send order), the number of malformed
     * records sent, and the job's history length.
     */
    Verdict verify(List<BehaviorEvent> sentInOrder, long malformedSent, int historyLength) {
        return judge(lists, deadLetterOrigins, sentInOrder, malformedSent, historyLength);
    }

    /** The verdict on {@code lists} and dead letters (by origin) against what was sent. */
    static Verdict judge(
            List<Received> lists, List<String> deadLetterOrigins,
            List<BehaviorEvent> sentInOrder, long malformedSent, int historyLength) {
        Map<String, Integer> expected = new HashMap<>();
        Map<String, Set<String>> historyAt = new HashMap<>();
        Map<String, Deque<String>> histories = new HashMap<>();
        for (BehaviorEvent e : sentInOrder) {
            String key = EventFeeder.key(e.userId, e.ts);
            expected.merge(key, 1, Integer::sum);
            Deque<String> h = histories.computeIfAbsent(e.userId, u -> new ArrayDeque<>());
            h.addLast(e.itemId);
            while (h.size() > historyLength) {
                h.removeFirst();
            }
            historyAt.putIfAbsent(key, new HashSet<>(h));
        }
        Map<String, Integer> received = new HashMap<>();
        long seen = 0;
        List<String> examples = new ArrayList<>();
        for (Received r : lists) {
            received.merge(r.key(), 1, Integer::sum);
            Set<String> history = historyAt.getOrDefault(r.key(), Set.of());
            for (String item : r.items()) {
                if (history.contains(item)) {
                    seen++;
                    if (examples.size() < 5) {
                        examples.add("list for " + r.key() + " recommends " + item + ", already in the user's history");
                    }
                    break;
                }
            }
        }
        long lost = 0;
        long duplicated = 0;
        Set<String> keys = new HashSet<>(expected.keySet());
        keys.addAll(received.keySet());
        for (String k : keys) {
            int diff = received.getOrDefault(k, 0) - expected.getOrDefault(k, 0);
            if (diff < 0) {
                lost -= diff;
                if (examples.size() < 10) {
                    examples.add("no list for " + k);
                }
            } else if (diff > 0) {
                duplicated += diff;
                if (examples.size() < 10) {
                    examples.add(diff + " extra list(s) for " + k);
                }
            }
        }
        long distinctDead = distinct(deadLetterOrigins);
        return new Verdict(
                sentInOrder.size(), lists.size(), lost, duplicated,
                malformedSent, deadLetterOrigins.size(),
                Math.max(0, malformedSent - distinctDead), deadLetterOrigins.size() - distinctDead,
                seen, examples);
    }

    private static long distinct(Collection<String> c) {
        return new HashSet<>(c).size();
    }

    @Override
    public void close() {
        consumer.close();
    }
}
