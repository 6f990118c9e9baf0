package io.towerflow.devkit.demo;

import io.towerflow.config.KafkaEndpoint;

import org.apache.flink.api.common.JobStatus;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Produces the demo's events into the behaviour topic at a target rate while the job runs, and
 * prints what the {@link OutputMonitor} reads back: a progress line every 2 s and a line per
 * window of the time series. Ends when the feed is exhausted and every event's output is
 * committed (exit 0 when each valid event got its list), when the job ends (1), when producing
 * fails (1), or when no output arrives for 120 s with events outstanding (1).
 */
final class RateProducer {
    /** How often the loop asks for the job's status. */
    private static final long STATUS_EVERY_MS = 500;

    private final KafkaEndpoint kafka;
    private final String topic;
    /** Events per second; 0 or less: as fast as the feed goes. */
    private final double rate;
    private final long windowMs;
    private final long driftEvery;
    private final Consumer<String> log;

    private long produced;
    private long producedValid;
    private long firstProducedMs;
    /** Wall time at which the first event of each drift epoch was produced. */
    private final List<Long> epochStarts = new ArrayList<>();
    private final AtomicReference<Exception> sendError = new AtomicReference<>();

    RateProducer(KafkaEndpoint kafka, String topic, double rate, long windowMs, long driftEvery, Consumer<String> log) {
        this.kafka = kafka;
        this.topic = topic;
        this.rate = rate;
        this.windowMs = windowMs;
        this.driftEvery = driftEvery;
        this.log = log;
    }

    long produced() {
        return produced;
    }

    long firstProducedMs() {
        return firstProducedMs;
    }

    List<Long> epochStarts() {
        return epochStarts;
    }

    /** Produces {@code feed} until one of the ends above; returns the exit status. */
    int run(EventFeed feed, OutputMonitor monitor, EmbeddedJob job) throws Exception {
        Properties p = kafka.properties();
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "2");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        long lastReport = System.currentTimeMillis();
        long lastCount = 0;
        long lastProgressMs = System.currentTimeMillis();
        long lastDone = 0;
        firstProducedMs = System.currentTimeMillis();
        long nextWindowLine = Long.MIN_VALUE;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            long lastStatusMs = 0;
            while (true) {
                // the job's status is an RPC to the JobMaster that ships the whole execution graph
                // back: asked every loop (each millisecond at --rate 0) it took 7 % of the demo's
                // CPU at saturation (docs/benchmarks.md); twice a second is soon enough to stop
                if (System.currentTimeMillis() - lastStatusMs >= STATUS_EVERY_MS) {
                    lastStatusMs = System.currentTimeMillis();
                    JobStatus status = job.status();
                    if (status.isGloballyTerminalState()) {
                        log.accept("job ended: " + status + "; see " + System.getProperty("log.file", "the log"));
                        return 1;
                    }
                }
                produceDue(producer, feed, monitor);
                if (sendError.get() != null) {
                    log.accept("producing to " + topic + " failed: " + sendError.get());
                    return 1;
                }

                long now = System.currentTimeMillis();
                long done = monitor.lists() + monitor.deadLetters();
                if (done != lastDone) {
                    lastDone = done;
                    lastProgressMs = now;
                }
                if (now - lastReport >= 2_000) {
                    log.accept(progressLine(monitor, (done - lastCount) * 1000.0 / (now - lastReport)));
                    lastReport = now;
                    lastCount = done;
                }
                // a window's line once lists emitted 5 s after its end are visible (commits
                // come with checkpoints); its HR@20 still grows as later acts arrive
                long latest = monitor.lastEmittedTs();
                if (nextWindowLine == Long.MIN_VALUE && latest > 0) {
                    nextWindowLine = latest - Math.floorMod(latest, windowMs);
                }
                while (nextWindowLine != Long.MIN_VALUE && latest >= nextWindowLine + windowMs + 5_000) {
                    String line = monitor.windowLine(nextWindowLine);
                    if (line != null) {
                        log.accept(line);
                    }
                    nextWindowLine += windowMs;
                }
                if (!feed.hasNext()) {
                    if (done >= produced) {
                        log.accept(String.format("all %,d events processed and committed: %,d lists, %,d dead letters",
                                produced, monitor.lists(), monitor.deadLetters()));
                        return monitor.lists() == producedValid ? 0 : 1;
                    }
                    if (now - lastProgressMs > 120_000) {
                        log.accept("no output for 120 s with " + (produced - done) + " events outstanding; giving up");
                        return 1;
                    }
                }
                Thread.sleep(rate <= 0 ? 1 : 10);
            }
        }
    }

    /** Sends what the target rate makes due by now, a slice at a time. */
    private void produceDue(KafkaProducer<byte[], byte[]> producer, EventFeed feed, OutputMonitor monitor) {
        long now = System.currentTimeMillis();
        long due = rate <= 0 ? produced + 2_000 : (long) ((now - firstProducedMs) / 1000.0 * rate) + 1;
        while (produced < due && feed.hasNext()) {
            EventFeed.Item item = feed.next();
            long wall = System.currentTimeMillis();
            byte[] key = null;
            Long ts = null;
            if (driftEvery > 0 && produced % driftEvery == 0) {
                epochStarts.add(wall);
                if (produced > 0) {
                    log.accept(String.format("drift: epoch %d starts at event %,d", produced / driftEvery, produced));
                }
            }
            if (item.event() != null) {
                key = item.event().userId.getBytes(StandardCharsets.UTF_8);
                ts = item.event().ts;
                monitor.produced(item.event().userId, item.event().ts, wall);
                producedValid++;
            }
            producer.send(new ProducerRecord<>(topic, null, ts, key, item.bytes()), (meta, error) -> {
                if (error != null) {
                    sendError.compareAndSet(null, error);
                }
            });
            produced++;
        }
        producer.flush();
    }

    private String progressLine(OutputMonitor monitor, double eventsPerSecond) {
        return String.format(
                "events in %,d | lists out %,d | DLQ %,d | %,.0f events/s | "
                        + "event->list p50 %d ms p99 %d ms (visible p50 %d ms%s) | model %s | online HR@20 %s",
                produced,
                monitor.lists(),
                monitor.deadLetters(),
                eventsPerSecond,
                monitor.emitLatency(0.5),
                monitor.emitLatency(0.99),
                monitor.visibleLatency(0.5),
                monitor.hasUncommittedView()
                        ? ", uncommitted " + monitor.uncommittedLatency(0.5, Long.MIN_VALUE) + " ms"
                        : "",
                monitor.modelVersion(),
                formatRates(monitor.onlineHitRateByVersion()));
    }

    private static String formatRates(Map<String, Double> rates) {
        StringBuilder b = new StringBuilder();
        rates.forEach((v, r) -> b.append(b.length() == 0 ? "" : ", ").append(v).append('=').append(String.format("%.3f", r)));
        return b.length() == 0 ? "-" : b.toString();
    }
}
