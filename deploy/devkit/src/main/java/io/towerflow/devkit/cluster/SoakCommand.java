package io.towerflow.devkit.cluster;



import io.towerflow.cli.Cli;
import io.towerflow.cli.HelpOption;
import io.towerflow.config.KafkaEndpoint;
import io.towerflow.devkit.eval.Plots;
import io.towerflow.devkit.kafka.EmbeddedKafka;
import io.towerflow.model.ModelArtifacts;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.CatalogueItem;
import io.towerflow.records.JsonCodec;
import io.towerflow.records.ModelUpdate;
import io.towerflow.records.Recommendation;
import io.towerflow.synthetic.SyntheticGenerator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * {@code deploy/local/towerflow soak --minutes N}: the embedded pipeline (in-process KRaft broker,
 * RecommendationJob on a MiniCluster, parallelism 2, RocksDB, exactly-once checkpoints every 2 s)
 * run at 70 % of the capacity measured first on the same machine, with a hot model swap every
 * 3 minutes and catalogue changes every minute. Per minute: heap after GC, committed heap, RSS,
 * the mean size and duration of the checkpoints completed in the minute, p99
 * event→committed-list latency, lists per second. Writes a PNG per series,
 * checks each is flat (mean of the last 5 minutes within 10 % of minutes 5–10) and that every
 * event got exactly one list. Events carry a sequence number as their event time, so accounting
 * is a bit set, not a map of keys, and the harness's own memory stays flat.
 */
@Command(name = "soak", sortOptions = false,
        description = {"Long run at a share of the measured capacity on a MiniCluster: heap after GC, RSS, checkpoint"
                + " size and duration, p99 latency and lists per second per minute, each plotted and checked flat;"
                + " every event must get exactly one list.",
                "Exit status 0 when every check passed, 2 on bad usage or when the run could not go on."})
public final class SoakCommand implements Callable<Integer> {
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");
    /** Event time of sequence number 0; event n has ts = BASE_TS + n. */
    private static final long BASE_TS = 1_764_547_200_000L;
    /** One event in SAMPLE has its send time kept, for latency. */
    private static final int SAMPLE = 20;

    @Mixin
    HelpOption help;

    @Option(names = "--minutes", paramLabel = "N", description = "Length of the run (default: ${DEFAULT-VALUE}).")
    int minutes = 20;

    @Option(names = "--summary-json", paramLabel = "FILE", description = "Write the per-minute figures and checks as JSON.")
    Path summaryJson;

    @Option(names = "--plots", paramLabel = "DIR", description = "Where the PNGs go, relative to the repository (default: ${DEFAULT-VALUE}).")
    String plotsDir = "docs/img";

    @Option(names = "--capacity-events", paramLabel = "N",
            description = "Events of the capacity measurement before the run (default: ${DEFAULT-VALUE}).")
    int capacityEvents = 12_000;

    @Option(names = "--load", paramLabel = "F", description = "Share of the measured capacity to run at (default: ${DEFAULT-VALUE}).")
    double load = 0.7;

    private final Path repo = Path.of("").toAbsolutePath();
    private final Path work = repo.resolve(".run").resolve("soak");

    public static void main(String[] argv) {
        System.exit(Cli.execute(new SoakCommand(), System.out, System.err, argv));
    }

    @Override
    public Integer call() {
        try {
            return run();
        } catch (Exception e) {
            System.err.println("[soak] " + e);
            e.printStackTrace(System.err);
            return 2;
        }
    }

    private static void log(String s) {
        System.out.println("[soak " + LocalTime.now().format(CLOCK) + "] " + s);
    }

    /** What the output consumer has seen: which sequence numbers got a list, and sampled latencies. */
    private static final class Accounting {
        final BitSet seen = new BitSet();
        long lists;
        long duplicated;
        long deadLetters;
        /** latencies (ms) of sampled events whose list arrived in the current minute */
        final List<Long> minuteLatencies = new ArrayList<>();
        /** while measuring capacity: when the job emitted each list (its own clock, not commit time) */
        List<Long> emitted;
    }

    private int run() throws Exception {
        Path plots = repo.resolve(plotsDir);
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        if (heap.getInit() != heap.getMax()) {
            // G1 grows a heap that starts below its maximum after a burst of collections and keeps
            // it: RSS and heap after GC then step up once, whenever that happens (a model swap)
            log(String.format("warning: heap %d MB initial, %d MB max: G1 may resize it during the run, and RSS with it; "
                    + "the launcher fixes it (-Xms = -Xmx) as Flink does for TaskManagers", heap.getInit() >> 20, heap.getMax() >> 20));
        }
        deleteRecursively(work);
        Files.createDirectories(work);
        // the model store: the newest committed version, copied, so hot swaps can add versions beside it
        Path store = Files.createDirectories(work.resolve("models"));
        Path source;
        try (Stream<Path> dirs = Files.list(repo.resolve("model-artifacts"))) {
            source = dirs.filter(d -> Files.exists(d.resolve("manifest.json"))).max(Comparator.comparing(Path::getFileName)).orElseThrow();
        }
        Path model = copyVersion(source, store, source.getFileName().toString());

        try (EmbeddedKafka kafka = EmbeddedKafka.start(work.resolve("kafka"));
                ChaosScenario s = new ChaosScenario("soak", kafka.endpoint(), work, model)) {
            s.createTopics();
            // the checkpoint history must hold a whole minute (30 at one per 2 s): each minute's
            // checkpoint figures are means over the checkpoints completed in it
            s.startJob(Map.of("execution.checkpointing.interval", "2s", "web.checkpoints.history", "45"));
            log("job running; Flink web UI " + s.restAddress());
            Feeder feeder = new Feeder(kafka.endpoint(), s.in);
            Accounting acc = new Accounting();
            Map<Long, Long> sentAt = feeder.sentAt;
            try (KafkaConsumer<byte[], byte[]> out = consumer(kafka.endpoint(), s.out, s.dlq);
                    KafkaProducer<byte[], byte[]> control = producer(kafka.endpoint())) {
                // 1. capacity: a backlog as fast as possible; the job's emit rate between the 20th and
                // 80th percentile of its lists' emit times (commit times come in bursts, one per checkpoint)
                acc.emitted = new ArrayList<>(capacityEvents);
                feeder.sendBurst(capacityEvents);
                long capacityDeadline = System.currentTimeMillis() + 600_000;
                while (acc.lists < capacityEvents) {
                    if (System.currentTimeMillis() > capacityDeadline) {
                        throw new IllegalStateException("only " + acc.lists + " of " + capacityEvents + " lists in 10 min");
                    }
                    consume(out, s.out, acc, sentAt);
                }
                List<Long> emitted = acc.emitted;
                acc.emitted = null;
                emitted.sort(Long::compare);
                long e20 = emitted.get(capacityEvents / 5);
                long e80 = emitted.get(capacityEvents * 4 / 5);
                double capacity = (capacityEvents * 0.6) / Math.max(0.001, (e80 - e20) / 1000.0);
                double rate = load * capacity;
                log(String.format("capacity %.0f events/s (the job's emit rate between the 20th and 80th percentile of a "
                        + "%d-event backlog); soaking at %.0f events/s for %d min", capacity, capacityEvents, rate, minutes));
                acc.minuteLatencies.clear();

                // 2. the soak: a feeder thread at the rate, this thread consumes and samples per minute
                feeder.startSteady(rate);
                List<ObjectNode> perMinute = new ArrayList<>();
                long start = System.currentTimeMillis();
                long listsAtMinuteStart = acc.lists;
                int swaps = 0;
                Random rnd = new Random(5);
                for (int minute = 1; minute <= minutes; minute++) {
                    long end = start + minute * 60_000L;
                    while (System.currentTimeMillis() < end) {
                        consume(out, s.out, acc, sentAt);
                    }
                    // along the way: catalogue changes every minute, a new model version every 3 minutes
                    for (int i = 0; i < 200; i++) {
                        String item = Integer.toString(rnd.nextInt(20_000));
                        control.send(new ProducerRecord<>(s.catalog, item.getBytes(StandardCharsets.UTF_8),
                                JsonCodec.catalogueItem(new CatalogueItem(item, Integer.toString(rnd.nextInt(100)), rnd.nextInt(10) > 0))));
                    }
                    if (minute % 3 == 0) {
                        String version = source.getFileName() + String.format("-soak%02d", ++swaps);
                        Path dir = copyVersion(source, store, version);
                        control.send(new ProducerRecord<>(s.updates,
                                JsonCodec.modelUpdate(new ModelUpdate(version, dir.toUri().toString(), ModelArtifacts.sha256(dir.resolve("manifest.json"))))));
                    }
                    control.flush();
                    ObjectNode m = sample(minute, s, acc, (acc.lists - listsAtMinuteStart) / 60.0);
                    listsAtMinuteStart = acc.lists;
                    perMinute.add(m);
                    log("minute " + minute + ": " + m);
                }
                long sent = feeder.stop();
                // 3. drain: every event sent must get its list
                long deadline = System.currentTimeMillis() + 120_000;
                while (acc.seen.cardinality() < sent && System.currentTimeMillis() < deadline) {
                    consume(out, s.out, acc, sentAt);
                }
                long lost = sent - acc.seen.cardinality();
                return report(minutes, capacity, rate, sent, acc, lost, swaps, perMinute, plots);
            } finally {
                feeder.stop();
            }
        }
    }

    private int report(int minutes, double capacity, double rate, long sent, Accounting acc, long lost, int swaps,
            List<ObjectNode> perMinute, Path plots) throws Exception {
        ObjectNode summary = JsonCodec.mapper().createObjectNode();
        summary.put("minutes", minutes);
        summary.put("capacityEventsPerSecond", Math.round(capacity));
        summary.put("rateEventsPerSecond", Math.round(rate));
        summary.put("eventsIn", sent);
        summary.put("lists", acc.lists);
        summary.put("lost", lost);
        summary.put("duplicated", acc.duplicated);
        summary.put("deadLetters", acc.deadLetters);
        summary.put("modelSwaps", swaps);
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        summary.put("heapInitMb", heap.getInit() >> 20);
        summary.put("heapMaxMb", heap.getMax() >> 20);
        ArrayNode series = summary.putArray("perMinute");
        perMinute.forEach(series::add);
        ObjectNode flat = summary.putObject("flat");
        boolean allFlat = true;
        Files.createDirectories(plots);
        for (String key : List.of("heapAfterGcMb", "heapCommittedMb", "rssMb", "checkpointSizeKb", "checkpointDurationMs",
                "p99LatencyMs")) {
            double[] x = new double[perMinute.size()];
            double[] y = new double[perMinute.size()];
            for (int i = 0; i < y.length; i++) {
                x[i] = i + 1;
                y[i] = perMinute.get(i).path(key).asDouble();
            }
            Plots.timeSeries("soak: " + key + " per minute (" + Math.round(rate) + " events/s)", "minute", key, x, y,
                    plots.resolve("soak-" + key + ".png"));
            ObjectNode f = flat.putObject(key);
            // minutes 5-10 against the last 5; a shorter run compares its middle with its end
            int refFrom = minutes >= 15 ? 5 : Math.max(1, minutes / 3);
            int refTo = minutes >= 15 ? 10 : Math.max(refFrom, 2 * minutes / 3 - 1);
            int lastFrom = minutes >= 15 ? minutes - 4 : 2 * minutes / 3;
            double ref = mean(y, refFrom, refTo);
            double last = mean(y, lastFrom, minutes);
            double change = ref == 0 ? 0 : (last - ref) / ref;
            f.put("reference", "minutes " + refFrom + "-" + refTo);
            f.put("referenceMean", Math.round(ref * 10) / 10.0);
            f.put("last", "minutes " + lastFrom + "-" + minutes);
            f.put("lastMean", Math.round(last * 10) / 10.0);
            f.put("change", Math.round(change * 1000) / 1000.0);
            f.put("flat", Math.abs(change) <= 0.10);
            allFlat &= Math.abs(change) <= 0.10;
        }
        summary.put("allFlat", allFlat);
        summary.put("ok", allFlat && lost == 0 && acc.duplicated == 0);
        String json = JsonCodec.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(summary);
        System.out.println(json);
        if (summaryJson != null) {
            Path f = summaryJson;
            if (f.toAbsolutePath().getParent() != null) {
                Files.createDirectories(f.toAbsolutePath().getParent());
            }
            Files.writeString(f, json + "\n");
        }
        log("lost " + lost + ", duplicated " + acc.duplicated + ", flat " + allFlat + "; plots in " + plots);
        return lost + acc.duplicated > 0 ? 1 : allFlat ? 0 : 3;
    }

    /** 1-based minutes {@code from..to} inclusive. */
    private static double mean(double[] y, int from, int to) {
        double sum = 0;
        int n = 0;
        for (int m = from; m <= to && m <= y.length; m++) {
            sum += y[m - 1];
            n++;
        }
        return n == 0 ? 0 : sum / n;
    }

    private ObjectNode sample(int minute, ChaosScenario s, Accounting acc, double listsPerSecond) throws Exception {
        ObjectNode m = JsonCodec.mapper().createObjectNode();
        m.put("minute", minute);
        m.put("listsPerSecond", Math.round(listsPerSecond));
        // heap after GC: what the heap holds after a full collection, forced here once a minute.
        // Unforced, the pools' collection usage is the survivors of the last young collection plus
        // the old generation as of the last mixed one: it moves with when G1 happens to run mixed
        // collections (with a 2 GB heap it never did in 6 minutes and read 6-15 MB), not with
        // what the job keeps. The pause (a few hundred ms) falls in every minute alike.
        System.gc();
        long afterGc = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            MemoryUsage u = pool.getCollectionUsage();
            if (pool.getType() == MemoryType.HEAP && u != null) {
                afterGc += u.getUsed();
            }
        }
        m.put("heapAfterGcMb", Math.round(afterGc / 1048576.0 * 10) / 10.0);
        // what the JVM has taken from the OS for the heap: it moves only when G1 resizes the heap
        m.put("heapCommittedMb", Math.round(ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted() / 1048576.0 * 10) / 10.0);
        m.put("rssMb", Math.round(rssKb() / 1024.0 * 10) / 10.0);
        // the checkpoints completed in the last minute (about 30), averaged: one checkpoint's
        // duration (47-116 ms from minute to minute in a quiet run) is too noisy for a 10 % test
        JsonNode stats = s.checkpointStats();
        long since = System.currentTimeMillis() - 60_000;
        List<JsonNode> inMinute = new ArrayList<>();
        for (JsonNode c : stats.path("history")) {
            if ("COMPLETED".equals(c.path("status").asText()) && c.path("latest_ack_timestamp").asLong() >= since) {
                inMinute.add(c);
            }
        }
        int n = inMinute.size();
        if (n == 0) { // none completed in the minute: the latest one
            inMinute.add(stats.path("latest").path("completed"));
        }
        double size = inMinute.stream().mapToLong(c -> c.path("state_size").asLong()).average().orElse(0);
        double incremental = inMinute.stream().mapToLong(c -> c.path("checkpointed_size").asLong()).average().orElse(0);
        double duration = inMinute.stream().mapToLong(c -> c.path("end_to_end_duration").asLong()).average().orElse(0);
        m.put("checkpointSizeKb", Math.round(size / 1024.0 * 10) / 10.0);
        m.put("checkpointedSizeKb", Math.round(incremental / 1024.0 * 10) / 10.0);
        m.put("checkpointDurationMs", Math.round(duration * 10) / 10.0);
        m.put("checkpointsInMinute", n);
        List<Long> lat = new ArrayList<>(acc.minuteLatencies);
        acc.minuteLatencies.clear();
        lat.sort(Long::compare);
        m.put("p99LatencyMs", lat.isEmpty() ? -1 : lat.get(Math.min(lat.size() - 1, (int) Math.ceil(lat.size() * 0.99) - 1)));
        m.put("p50LatencyMs", lat.isEmpty() ? -1 : lat.get(lat.size() / 2));
        m.put("latencySamples", lat.size());
        return m;
    }

    private static long rssKb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (Exception e) {
            // not Linux: no RSS
        }
        return -1;
    }

    private static void consume(KafkaConsumer<byte[], byte[]> c, String listsTopic, Accounting acc, Map<Long, Long> sentAt) {
        long now = System.currentTimeMillis();
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(100))) {
            if (!r.topic().equals(listsTopic)) {
                acc.deadLetters++;
                continue;
            }
            Recommendation rec = JsonCodec.parseRecommendation(r.value());
            long seq = rec.eventTs - BASE_TS;
            acc.lists++;
            if (acc.emitted != null) {
                acc.emitted.add(rec.emittedTs);
            }
            if (seq < 0 || seq > Integer.MAX_VALUE) {
                continue;
            }
            if (acc.seen.get((int) seq)) {
                acc.duplicated++;
            } else {
                acc.seen.set((int) seq);
            }
            Long sent = sentAt.remove(seq);
            if (sent != null) {
                acc.minuteLatencies.add(now - sent);
            }
        }
    }

    private static KafkaConsumer<byte[], byte[]> consumer(KafkaEndpoint kafka, String... topics) {
        KafkaConsumer<byte[], byte[]> c = OutputLedger.readCommittedConsumer(kafka);
        List<TopicPartition> parts = new ArrayList<>();
        for (String t : topics) {
            c.partitionsFor(t).forEach(i -> parts.add(new TopicPartition(t, i.partition())));
        }
        c.assign(parts);
        c.seekToBeginning(parts);
        return c;
    }

    private static KafkaProducer<byte[], byte[]> producer(KafkaEndpoint kafka) {
        return EventFeeder.producer(kafka, Map.of(ProducerConfig.LINGER_MS_CONFIG, 5));
    }

    /**
     * Synthetic events (users, items and actions of the seeded generator) with event time
     * {@code BASE_TS + sequence number}, keyed by user; sends a burst, then a steady rate from a
     * thread of its own.
     */
    private static final class Feeder {
        final Map<Long, Long> sentAt = new ConcurrentHashMap<>();
        private final KafkaProducer<byte[], byte[]> producer;
        private final String topic;
        private final Iterator<BehaviorEvent> events;
        private final AtomicLong seq = new AtomicLong();
        private final AtomicBoolean running = new AtomicBoolean();
        private Thread thread;

        Feeder(KafkaEndpoint kafka, String topic) {
            this.producer = producer(kafka);
            this.topic = topic;
            SyntheticGenerator.Config cfg = new SyntheticGenerator.Config();
            cfg.seed = 61;
            this.events = new SyntheticGenerator(cfg).events(Long.MAX_VALUE);
        }

        private void sendOne() {
            BehaviorEvent e = events.next();
            long n = seq.getAndIncrement();
            e.ts = BASE_TS + n;
            if (n % SAMPLE == 0) {
                sentAt.put(n, System.currentTimeMillis());
            }
            producer.send(new ProducerRecord<>(topic, null, e.ts, e.userId.getBytes(StandardCharsets.UTF_8), JsonCodec.behaviorEvent(e)));
        }

        void sendBurst(int n) {
            for (int i = 0; i < n; i++) {
                sendOne();
            }
            producer.flush();
        }

        void startSteady(double perSecond) {
            running.set(true);
            thread = new Thread(() -> {
                long start = System.nanoTime();
                long sentHere = 0;
                while (running.get()) {
                    long due = start + (long) (sentHere * 1e9 / perSecond);
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        try {
                            TimeUnit.NANOSECONDS.sleep(wait);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                    sendOne();
                    sentHere++;
                }
            }, "soak-feeder");
            thread.setDaemon(true);
            thread.start();
        }

        /** Stops the steady feed; returns how many events were sent in all. */
        long stop() throws InterruptedException {
            running.set(false);
            if (thread != null) {
                thread.join(10_000);
                thread = null;
            }
            producer.flush();
            return seq.get();
        }
    }

    /** Copies a version directory under {@code store} as {@code version} (manifest renamed). */
    private static Path copyVersion(Path src, Path store, String version) throws Exception {
        Path dst = Files.createDirectories(store.resolve(version));
        try (Stream<Path> files = Files.list(src)) {
            for (Path f : files.toList()) {
                if (Files.isRegularFile(f)) {
                    Files.copy(f, dst.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        Path manifest = dst.resolve("manifest.json");
        String original = src.getFileName().toString();
        Files.writeString(manifest, Files.readString(manifest)
                .replace("\"version\" : \"" + original + "\"", "\"version\" : \"" + version + "\""));
        return dst;
    }

    private static void deleteRecursively(Path dir) throws Exception {
        if (Files.exists(dir)) {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }
}
