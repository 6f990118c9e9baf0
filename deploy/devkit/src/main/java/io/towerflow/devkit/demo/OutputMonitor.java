package io.towerflow.devkit.demo;

import io.towerflow.config.KafkaEndpoint;
import io.towerflow.records.Feedback;
import io.towerflow.records.JsonCodec;
import io.towerflow.records.Recommendation;
import io.towerflow.records.ScoredItem;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads what the job made visible ({@code read_committed}): the lists and the dead letters, and
 * measures for each list the time from when its event was produced to when it was emitted
 * (processing latency) and to when it became visible (which adds the wait for the checkpoint
 * that commits the sink's transaction). Optionally a second consumer reads the lists topic
 * {@code read_uncommitted}, as a front end that wants lists before their checkpoint would, and
 * measures when each list was first seen there. Keeps a time series of fixed windows of emit time
 * (lists, emit latency, versions, prequential HR@20 of the acts that followed the window's lists),
 * see {@link Timeline}.
 */
final class OutputMonitor implements AutoCloseable {
    static final int HIT_K = 20;
    private final Timeline timeline;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String recommendationsTopic;
    private final String feedbackTopic;
    /** Per model version: acts after a list of that version, and acts on an item in its top 20. */
    private final Map<String, long[]> actsAndHitsByVersion = new java.util.TreeMap<>();
    private final java.util.Set<String> versionsServed = new java.util.LinkedHashSet<>();
    private final Map<String, Deque<Long>> producedAt = new ConcurrentHashMap<>();
    private final AtomicLong lists = new AtomicLong();
    private final AtomicLong deadLetters = new AtomicLong();
    private final AtomicLong unmatched = new AtomicLong();
    /** New catalogue items (--new-items-every): arrival, first list that held one, first act on one shown. */
    private final Map<String, Long> newItemArrived = new ConcurrentHashMap<>();
    private final Map<String, Long> newItemFirstImpression = new ConcurrentHashMap<>();
    private final Map<String, Long> newItemFirstClick = new ConcurrentHashMap<>();
    /** With {@link #trackShownLists()}: each user's latest visible list (item ids), for a feed that reacts to it. */
    private final Map<String, String[]> lastShown = new ConcurrentHashMap<>();
    private volatile boolean trackShown;
    /** Acts on an item of an exploration slot of the list shown before. */
    private final AtomicLong exploreSlotHits = new AtomicLong();
    private final List<Long> visibleLatencies = new ArrayList<>();
    /** Lists first seen by the read_uncommitted consumer: "user|event time" → wall ms. */
    private final Map<String, Long> seenUncommitted = new ConcurrentHashMap<>();
    /** {emit time, produced → first seen read_uncommitted} per list. */
    private final List<long[]> uncommittedLatencies = new ArrayList<>();
    /** Null without the uncommitted view. */
    private final KafkaConsumer<byte[], byte[]> uncommitted;
    private final Thread uncommittedThread;
    private volatile String modelVersion = "";
    private volatile long lastOutputMs;
    private volatile long lastEmittedTs;
    private final Thread thread;
    private volatile boolean running = true;

    /**
     * @param uncommittedView also read the lists {@code read_uncommitted} (one more consumer and
     *     thread in the process)
     */
    OutputMonitor(KafkaEndpoint kafka, String recommendationsTopic, String dlqTopic, String feedbackTopic, long windowMs,
            boolean uncommittedView) {
        this.timeline = new Timeline(windowMs);
        this.consumer = consumer(kafka, "read_committed");
        this.recommendationsTopic = recommendationsTopic;
        this.feedbackTopic = feedbackTopic;
        assignAtEnd(consumer, recommendationsTopic, dlqTopic, feedbackTopic);
        this.thread = new Thread(this::run, "towerflow-demo-monitor");
        this.thread.setDaemon(true);
        if (uncommittedView) {
            this.uncommitted = consumer(kafka, "read_uncommitted");
            assignAtEnd(uncommitted, recommendationsTopic);
            this.uncommittedThread = new Thread(this::runUncommitted, "towerflow-demo-monitor-uncommitted");
            this.uncommittedThread.setDaemon(true);
        } else {
            this.uncommitted = null;
            this.uncommittedThread = null;
        }
    }

    /** Assigns every partition of {@code topics}, positioned at their ends now, before anything is produced. */
    private static void assignAtEnd(KafkaConsumer<byte[], byte[]> c, String... topics) {
        List<TopicPartition> parts = new ArrayList<>();
        for (String t : topics) {
            c.partitionsFor(t).forEach(i -> parts.add(new TopicPartition(t, i.partition())));
        }
        c.assign(parts);
        c.seekToEnd(parts);
        parts.forEach(c::position);
    }

    private static KafkaConsumer<byte[], byte[]> consumer(KafkaEndpoint kafka, String isolation) {
        Properties p = kafka.properties();
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        return new KafkaConsumer<>(p);
    }

    void start() {
        thread.start();
        if (uncommittedThread != null) {
            uncommittedThread.start();
        }
    }

    /**
     * Notes when each list is first seen read_uncommitted, by its record's key (the user id) and
     * its {@code eventTs} (read briefly: the record timestamp is the event time only when the
     * behaviour topic keeps CreateTime); the committed side turns it into a latency when it sees
     * the same list. Lists that never commit (an aborted transaction after a failure) are dropped
     * after a minute.
     */
    private void runUncommitted() {
        try {
            long nextSweep = System.currentTimeMillis() + 60_000;
            while (running) {
                for (ConsumerRecord<byte[], byte[]> r : uncommitted.poll(Duration.ofMillis(200))) {
                    if (r.key() == null) {
                        continue;
                    }
                    try {
                        String key = new String(r.key(), StandardCharsets.UTF_8) + '|'
                                + JsonCodec.parseRecommendationEventTs(r.value());
                        seenUncommitted.putIfAbsent(key, System.currentTimeMillis());
                    } catch (RuntimeException notAList) {
                        // not one of the job's lists: nothing to time (the committed side counts it)
                    }
                }
                long now = System.currentTimeMillis();
                if (now >= nextSweep) {
                    seenUncommitted.values().removeIf(seen -> seen < now - 60_000);
                    nextSweep = now + 60_000;
                }
            }
        } catch (WakeupException e) {
            // closing
        }
    }

    /** Remembers when the event of (user, event time) was produced. */
    void produced(String userId, long eventTs, long wallMs) {
        producedAt.computeIfAbsent(userId + '|' + eventTs, k -> new ArrayDeque<>()).addLast(wallMs);
    }

    private void run() {
        try {
            while (running) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    long now = System.currentTimeMillis();
                    lastOutputMs = now;
                    if (r.topic().equals(feedbackTopic)) {
                        // only the shown part: the history (up to 50 entries) is skipped unread
                        Feedback f = JsonCodec.parseFeedbackShown(r.value());
                        if (f.shownRank > 0 && f.shownExplore) {
                            exploreSlotHits.incrementAndGet();
                        }
                        if (f.shownRank > 0 && newItemArrived.containsKey(f.itemId)) {
                            newItemFirstClick.putIfAbsent(f.itemId, f.ts);
                        }
                        if (f.wasShown()) {
                            synchronized (this) {
                                long[] ah = actsAndHitsByVersion.computeIfAbsent(f.shownModelVersion, v -> new long[2]);
                                ah[0]++;
                                ah[1] += f.hitAt(HIT_K) ? 1 : 0;
                                timeline.act(f.shownTs, f.shownModelVersion, f.hitAt(HIT_K));
                            }
                        }
                    } else if (r.topic().equals(recommendationsTopic)) {
                        Recommendation rec = JsonCodec.parseRecommendation(r.value());
                        modelVersion = rec.modelVersion;
                        if (trackShown) {
                            String[] ids = new String[rec.items.length];
                            for (int i = 0; i < ids.length; i++) {
                                ids[i] = rec.items[i].itemId;
                            }
                            lastShown.put(rec.userId, ids);
                        }
                        lastEmittedTs = Math.max(lastEmittedTs, rec.emittedTs);
                        if (!newItemArrived.isEmpty()) {
                            for (ScoredItem it : rec.items) {
                                if (newItemArrived.containsKey(it.itemId)) {
                                    newItemFirstImpression.merge(it.itemId, rec.emittedTs, Math::min);
                                }
                            }
                        }
                        synchronized (this) {
                            versionsServed.add(rec.modelVersion);
                        }
                        String key = rec.userId + '|' + rec.eventTs;
                        Long at = takeProduced(key);
                        Long seen = uncommitted == null ? null : seenUncommitted.remove(key);
                        synchronized (this) {
                            if (at == null) {
                                unmatched.incrementAndGet();
                            } else {
                                visibleLatencies.add(Math.max(0, now - at));
                                if (seen != null) {
                                    uncommittedLatencies.add(new long[] {rec.emittedTs, Math.max(0, seen - at)});
                                }
                            }
                            timeline.list(rec.emittedTs, rec.modelVersion, at == null ? -1 : Math.max(0, rec.emittedTs - at));
                        }
                        lists.incrementAndGet();
                    } else {
                        deadLetters.incrementAndGet();
                    }
                }
            }
        } catch (WakeupException e) {
            // closing
        }
    }

    private Long takeProduced(String key) {
        Deque<Long> q = producedAt.get(key);
        if (q == null) {
            return null;
        }
        synchronized (q) {
            Long at = q.pollFirst();
            if (q.isEmpty()) {
                producedAt.remove(key);
            }
            return at;
        }
    }

    /** Keeps each user's latest visible list from now on ({@link #lastShown}). */
    void trackShownLists() {
        trackShown = true;
    }

    /** The item ids of the user's latest visible list, null if none was seen (or not tracked). */
    String[] lastShown(String userId) {
        return lastShown.get(userId);
    }

    /** Watches a new catalogue item that arrived at {@code arrivedMs} (wall clock). */
    void watchNewItem(String itemId, long arrivedMs) {
        newItemArrived.put(itemId, arrivedMs);
    }

    /**
     * Seconds from each watched new item's arrival to its first impression (the emit time of the
     * first list that held it), for the items shown so far.
     */
    double[] secondsToFirstImpression() {
        return secondsSinceArrival(newItemFirstImpression);
    }

    /** Seconds from arrival to the first act on it in a list shown (event time of the act). */
    double[] secondsToFirstClick() {
        return secondsSinceArrival(newItemFirstClick);
    }

    private double[] secondsSinceArrival(Map<String, Long> firsts) {
        return firsts.entrySet().stream()
                .filter(e -> newItemArrived.containsKey(e.getKey()))
                .mapToDouble(e -> Math.max(0, e.getValue() - newItemArrived.get(e.getKey())) / 1000.0)
                .toArray();
    }

    long exploreSlotHits() {
        return exploreSlotHits.get();
    }

    /** Prequential HR@20 over all versions: of the acts after a list, the share on one of its top 20. */
    synchronized double onlineHitRate() {
        long acts = 0;
        long hits = 0;
        for (long[] ah : actsAndHitsByVersion.values()) {
            acts += ah[0];
            hits += ah[1];
        }
        return acts == 0 ? Double.NaN : (double) hits / acts;
    }

    /** Acts that followed a list (the denominator of {@link #onlineHitRate}). */
    synchronized long actsAfterList() {
        return actsAndHitsByVersion.values().stream().mapToLong(ah -> ah[0]).sum();
    }

    /** Prequential HR@20 per version: of the acts after a list of that version, the share on one of its top 20. */
    synchronized Map<String, Double> onlineHitRateByVersion() {
        Map<String, Double> out = new java.util.LinkedHashMap<>();
        actsAndHitsByVersion.forEach((v, ah) -> out.put(v, ah[0] == 0 ? 0.0 : (double) ah[1] / ah[0]));
        return out;
    }

    /** Applies {@code f} to the time series while nothing is added to it. */
    synchronized <T> T timeline(java.util.function.Function<Timeline, T> f) {
        return f.apply(timeline);
    }

    /** Latest emit time of a list seen; 0 before the first. */
    long lastEmittedTs() {
        return lastEmittedTs;
    }

    /** A short line about the window that starts at {@code start}; null when it has no lists. */
    synchronized String windowLine(long start) {
        Timeline.Window w = timeline.window(start);
        if (w == null || w.lists == 0) {
            return null;
        }
        double hr = w.hitRate();
        return String.format("window %tT | lists %,d | p50 %d ms p99 %d ms | %s | HR@20 %s (%,d acts so far)",
                start, w.lists, w.latency(0.5), w.latency(0.99),
                String.join(",", w.versions), Double.isNaN(hr) ? "-" : String.format("%.3f", hr), w.acts());
    }

    synchronized List<String> versionsServed() {
        return new ArrayList<>(versionsServed);
    }

    long lists() {
        return lists.get();
    }

    long deadLetters() {
        return deadLetters.get();
    }

    String modelVersion() {
        return modelVersion;
    }

    long lastOutputMs() {
        return lastOutputMs;
    }

    /** The q-quantile (0..1) of the emit latencies, ms; -1 when none. */
    synchronized long emitLatency(double q) {
        return timeline.latency(q);
    }

    synchronized long visibleLatency(double q) {
        return Timeline.quantile(visibleLatencies.stream().mapToLong(Long::longValue).toArray(), q);
    }

    /**
     * The q-quantile of event produced → list first seen by a read_uncommitted consumer, over the
     * lists emitted from {@code fromEmittedTs} on that also committed, ms; -1 when none (or without
     * the uncommitted view).
     */
    synchronized long uncommittedLatency(double q, long fromEmittedTs) {
        return Timeline.quantile(
                uncommittedLatencies.stream().filter(l -> l[0] >= fromEmittedTs).mapToLong(l -> l[1]).toArray(), q);
    }

    boolean hasUncommittedView() {
        return uncommitted != null;
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        consumer.wakeup();
        thread.join(5_000);
        consumer.close();
        if (uncommitted != null) {
            uncommitted.wakeup();
            if (uncommittedThread.isAlive()) {
                uncommittedThread.join(5_000);
            }
            uncommitted.close();
        }
    }
}
