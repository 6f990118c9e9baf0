package io.towerflow.retrain;

import io.towerflow.config.KafkaEndpoint;
import io.towerflow.config.RetrainOptions.FromOffsets;
import io.towerflow.records.Feedback;
import io.towerflow.records.JsonCodec;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;

import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * One bounded read of the feedback topic ({@code rec-feedback}), {@code read_committed}.
 *
 * <p>The window of each partition starts at the retraining group's committed offset (else the
 * beginning), at the beginning ({@link FromOffsets#EARLIEST}), or at the first record whose
 * timestamp is at or after {@code fromTs} ({@code offsetsForTimes}). It ends at the partition's
 * last stable offset when the read starts, or earlier at the first record at or after {@code
 * toTs}. With time bounds, records whose timestamps lie outside [fromTs, toTs) are passed over too
 * (timestamps within a partition need not be in order).
 *
 * <p>Every record read is parsed ({@link JsonCodec#parseFeedback}) and offered to a sink (the
 * examples builder); the offset and event time of each accepted one are kept (16 bytes a record),
 * so that {@link #commitPositions(long)} can tell where the held-out slice begins.
 */
public final class FeedbackWindow {
    private static final int MAX_BAD_MESSAGES = 10;
    private static final long PROGRESS_EVERY_NS = 2_000_000_000L;

    /** Where a window starts and ends: by offsets (fromTs null), or by record timestamps. */
    public record Bounds(FromOffsets fromOffsets, Long fromTs, Long toTs) {
        public Bounds {
            if (fromTs != null && toTs != null && fromTs >= toTs) {
                throw new IllegalArgumentException("from-ts must be before to-ts");
            }
        }

        /** Whether the start comes from the consumer group (so the run may commit offsets). */
        public boolean fromGroup() {
            return fromTs == null;
        }
    }

    private final String topic;
    private final Map<TopicPartition, Long> start;
    private final Map<TopicPartition, Long> end;
    private final Map<TopicPartition, Accepted> accepted = new HashMap<>();
    private long records;
    private long unparseable;
    private long refused;
    private long outside;
    private double seconds;

    FeedbackWindow(String topic, Map<TopicPartition, Long> start, Map<TopicPartition, Long> end) {
        this.topic = topic;
        this.start = start;
        this.end = end;
    }

    /**
     * Reads the window, offering each parsed record to {@code sink} (which returns whether it took
     * it as an example).
     */
    public static FeedbackWindow read(KafkaEndpoint kafka, String topic, String groupId, Bounds bounds,
            Duration stall, Predicate<Feedback> sink, ProgressLog log) throws TimeoutException {
        long t0 = System.nanoTime();
        try (KafkaConsumer<byte[], byte[]> consumer = BoundedReader.consumer(kafka, groupId, stall)) {
            List<TopicPartition> tps = BoundedReader.partitions(consumer, topic);
            if (tps.isEmpty()) {
                throw new IllegalStateException("feedback topic " + topic + " does not exist");
            }
            Map<TopicPartition, Long> end = new LinkedHashMap<>(consumer.endOffsets(tps));
            Map<TopicPartition, Long> start = new LinkedHashMap<>(consumer.beginningOffsets(tps));
            if (bounds.fromTs() != null) {
                atTime(consumer, tps, bounds.fromTs(), end).forEach(start::put);
            } else if (bounds.fromOffsets() == FromOffsets.COMMITTED) {
                consumer.committed(new HashSet<>(tps)).forEach((tp, om) -> {
                    if (om != null) {
                        start.put(tp, Math.max(start.get(tp), om.offset()));
                    }
                });
            }
            if (bounds.toTs() != null) {
                atTime(consumer, tps, bounds.toTs(), end).forEach((tp, o) -> end.put(tp, Math.min(end.get(tp), o)));
            }
            FeedbackWindow w = new FeedbackWindow(topic, start, end);
            long total = 0;
            for (TopicPartition tp : tps) {
                total += Math.max(0, end.get(tp) - start.get(tp));
            }
            log.info("reading %s: %d partitions, up to %,d records (offsets %s to %s)%s",
                    topic, tps.size(), total, compact(start), compact(end),
                    bounds.fromGroup() ? " from group " + groupId + (bounds.fromOffsets() == FromOffsets.EARLIEST ? " (earliest)" : "")
                            : "");
            long totalRecords = total;
            long[] lastProgress = {System.nanoTime()};
            BoundedReader.read(consumer, start, end, stall,
                    r -> w.offer(r, bounds, sink, log),
                    () -> {
                        if (System.nanoTime() - lastProgress[0] > PROGRESS_EVERY_NS) {
                            lastProgress[0] = System.nanoTime();
                            log.info("read %,d of up to %,d records (%.0f%%)", w.records, totalRecords,
                                    100.0 * w.records / Math.max(1, totalRecords));
                        }
                    });
            w.seconds = (System.nanoTime() - t0) / 1e9;
            return w;
        }
    }

    private static Map<TopicPartition, Long> atTime(KafkaConsumer<?, ?> consumer, List<TopicPartition> tps, long ts,
            Map<TopicPartition, Long> end) {
        Map<TopicPartition, Long> query = new HashMap<>();
        tps.forEach(tp -> query.put(tp, ts));
        Map<TopicPartition, Long> out = new HashMap<>();
        for (Map.Entry<TopicPartition, OffsetAndTimestamp> e : consumer.offsetsForTimes(query).entrySet()) {
            // no record at or after ts: the partition's window is empty from there
            out.put(e.getKey(), e.getValue() == null ? end.get(e.getKey()) : e.getValue().offset());
        }
        return out;
    }

    private void offer(ConsumerRecord<byte[], byte[]> r, Bounds bounds, Predicate<Feedback> sink, ProgressLog log) {
        records++;
        if ((bounds.fromTs() != null && r.timestamp() < bounds.fromTs())
                || (bounds.toTs() != null && r.timestamp() >= bounds.toTs())) {
            outside++;
            return;
        }
        Feedback f;
        try {
            f = r.value() == null ? null : JsonCodec.parseFeedback(r.value());
        } catch (RuntimeException e) {
            if (++unparseable <= MAX_BAD_MESSAGES) {
                log.warn("%s-%d@%d skipped: not a feedback record: %s", r.topic(), r.partition(), r.offset(),
                        firstLine(e.getMessage()));
            }
            return;
        }
        if (f == null || !sink.test(f)) {
            if (++refused <= MAX_BAD_MESSAGES) {
                log.warn("%s-%d@%d skipped: feedback without user, item or action, or with ragged history",
                        r.topic(), r.partition(), r.offset());
            }
            return;
        }
        accepted(new TopicPartition(r.topic(), r.partition()), r.offset(), f.ts);
    }

    /** Notes a record taken as an example: its partition, offset and event time. */
    void accepted(TopicPartition tp, long offset, long eventTs) {
        accepted.computeIfAbsent(tp, p -> new Accepted()).add(offset, eventTs);
    }

    /**
     * The offsets to commit once a run is done when examples with event time at or after {@code
     * cutTs} were held out: per partition, the first accepted record of the held-out slice, so
     * that the next window trains on it; the window's end where the partition had none.
     */
    public Map<TopicPartition, OffsetAndMetadata> commitPositions(long cutTs) {
        Map<TopicPartition, OffsetAndMetadata> out = new LinkedHashMap<>();
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            TopicPartition tp = e.getKey();
            long pos = e.getValue();
            Accepted a = accepted.get(tp);
            if (a != null) {
                pos = Math.min(pos, a.firstOffsetAtOrAfter(cutTs));
            }
            out.put(tp, new OffsetAndMetadata(Math.max(pos, start.get(tp))));
        }
        return out;
    }

    /** Commits {@code offsets} for {@code groupId} (a standalone commit: the group has no members). */
    public static void commit(KafkaEndpoint kafka, String groupId, Map<TopicPartition, OffsetAndMetadata> offsets,
            Duration timeout) {
        try (KafkaConsumer<byte[], byte[]> consumer = BoundedReader.consumer(kafka, groupId, timeout)) {
            consumer.commitSync(offsets, timeout);
        }
    }

    public String topic() {
        return topic;
    }

    /** Records read in the window's offset ranges. */
    public long records() {
        return records;
    }

    /** Records that did not parse as feedback. */
    public long unparseable() {
        return unparseable;
    }

    /** Parsed records the sink refused. */
    public long refused() {
        return refused;
    }

    /** Records whose timestamps lie outside the time bounds. */
    public long outside() {
        return outside;
    }

    public double seconds() {
        return seconds;
    }

    public Map<TopicPartition, Long> start() {
        return start;
    }

    public Map<TopicPartition, Long> end() {
        return end;
    }

    static String compact(Map<TopicPartition, Long> offsets) {
        StringBuilder b = new StringBuilder("[");
        offsets.forEach((tp, o) -> b.append(b.length() > 1 ? " " : "").append(tp.partition()).append(':').append(o));
        return b.append(']').toString();
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("");
    }

    /** Offsets and event times of the accepted records of one partition, in offset order. */
    private static final class Accepted {
        long[] offsets = new long[256];
        long[] ts = new long[256];
        int size;

        void add(long offset, long eventTs) {
            if (size == offsets.length) {
                offsets = Arrays.copyOf(offsets, size * 2);
                ts = Arrays.copyOf(ts, size * 2);
            }
            offsets[size] = offset;
            ts[size] = eventTs;
            size++;
        }

        long firstOffsetAtOrAfter(long cutTs) {
            for (int i = 0; i < size; i++) {
                if (ts[i] >= cutTs) {
                    return offsets[i];
                }
            }
            return Long.MAX_VALUE;
        }
    }
}
