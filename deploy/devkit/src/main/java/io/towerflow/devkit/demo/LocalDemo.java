package io.towerflow.devkit.demo;


import io.towerflow.config.KafkaEndpoint;
import io.towerflow.config.KafkaOptions;
import io.towerflow.config.ModelOptions;
import io.towerflow.config.ModelUpdateOptions;
import io.towerflow.config.RecommendOptions;
import io.towerflow.config.RetrainOptions;
import io.towerflow.devkit.kafka.EmbeddedKafka;
import io.towerflow.kafka.Topics;
import io.towerflow.records.JsonCodec;
import io.towerflow.synthetic.SyntheticGenerator;

import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.util.ParameterTool;
import org.apache.flink.util.TimeUtils;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The embedded demo ({@code deploy/local/towerflow demo}). It composes the parts and owns none of
 * their work: a real KRaft broker ({@link EmbeddedKafka}, or the one at
 * {@code --bootstrap-servers}), the job on a MiniCluster of its own ({@link EmbeddedJob}), a feed
 * of synthetic or file events ({@link EventFeed}) produced at a rate ({@link RateProducer}), live
 * figures read back with a {@code read_committed} consumer ({@link OutputMonitor}), the optional
 * retraining loop ({@link RetrainSchedule}) and the summary ({@link TimelineReport}).
 */
public final class LocalDemo {
    private static final String USAGE =
            String.join(
                    "\n",
                    "usage: towerflow demo [options]",
                    "  --events FILE            replay a Taobao CSV or JSON-lines file (default: synthetic events)",
                    "  --max-events N           stop once N events are produced and all their output is committed",
                    "                           (synthetic default: run until Ctrl-C; file default: the whole file)",
                    "  --rate N                 events per second to produce, 0 = as fast as possible (default " + (long) LocalDemo.DEFAULT_RATE + ",",
                    "                           about half of what the demo sustained on a loaded 2-core machine)",
                    "  --users N --items N --categories N --seed N   synthetic catalogue (10000/20000/100/42)",
                    "  --drift-every N          synthetic population drift: every N events users' interests are drawn",
                    "                           anew and the popular items of each category change (default 0: none)",
                    "  --model DIR              model version directory (default: newest under model-artifacts/)",
                    "  --bootstrap-servers H:P  use this Kafka instead of starting one",
                    "  --parallelism N          (default 2)",
                    "  --checkpoint-interval D  e.g. 2s (default 2s)",
                    "  --web-port P             Flink web UI port or range (default 8081-8099)",
                    "  --buffer-timeout D       Flink network buffer timeout (default 5ms; Flink's own is 100ms)",
                    "  --work-dir DIR           checkpoints, logs, broker data (default .run/demo)",
                    "  --retrain-every D        run a RetrainJob round every D (e.g. 2min) on the job's own feedback;",
                    "                           promoted versions are published and swapped in while the demo runs",
                    "  --retrain-margin M       promotion margin of those rounds (default 0.0)",
                    "  --retrain-min-examples N  fewest feedback records a round trains on (default 1000)",
                    "  --towerflow.retrain.<option> V   passed on to those rounds, e.g. --towerflow.retrain.epochs 2",
                    "  --window D               window of the time series (lists, p50/p99, versions, HR@20 per window,",
                    "                           swap vs steady p99) in the live output and the summary (default 5s)",
                    "  --warmup D               lists emitted this long after the first one are not steady state (default 10s)",
                    "  --summary-json FILE      write the final figures as JSON",
                    "  --new-items-every D      add a new item to item-catalog every D (e.g. 30s); the summary's",
                    "                           \"exploration\" says how soon they were shown (and acted on, if ever)",
                    "  --compare-explore        run twice on the same events, the second time with",
                    "                           --towerflow.recommend.explore-slots 0 (work dir <work-dir>/explore-off),",
                    "                           and put both online HR@20 and the relative cost in \"exploration\"",
                    "                           (needs --max-events)",
                    "  --<towerflow option> V   any towerflow.* option, e.g. --towerflow.recommend.top-k 50");

    private LocalDemo() {}

    public static void main(String[] args) throws Exception {
        System.exit(run(args));
    }

    /** Runs the demo; returns the exit status (0: every event produced got its committed output). */
    static int run(String[] args) throws Exception {
        ParameterTool params = ParameterTool.fromArgs(args);
        if (params.has("help")) {
            System.out.println(USAGE);
            return 0;
        }
        if (params.has("compare-explore")) {
            return compareExplore(params);
        }
        return new Run(params).call();
    }

    /**
     * {@code --compare-explore}: the run as asked, then the same run with exploration off (same
     * seed, so the same events and the same model), and the second's online HR@20 and the relative
     * cost of exploring added to the first's summary.
     */
    private static int compareExplore(ParameterTool params) throws Exception {
        if (!params.has("max-events")) {
            throw new IllegalArgumentException("--compare-explore needs --max-events, so that both runs end");
        }
        Map<String, String> on = new LinkedHashMap<>(params.toMap());
        on.remove("compare-explore");
        Run explore = new Run(ParameterTool.fromMap(on));
        int exit = explore.call();
        if (exit != 0) {
            return exit;
        }
        Map<String, String> off = new LinkedHashMap<>(on);
        off.remove("summary-json");
        off.put(RecommendOptions.EXPLORE_SLOTS.key(), "0");
        off.put("work-dir", explore.workDir.resolve("explore-off").toString());
        // the same new item ids, so that the item tower gives them the same vectors in both runs
        off.put("new-items-tag", Long.toString(explore.started, 36));
        Run plain = new Run(ParameterTool.fromMap(off));
        exit = plain.call();
        if (exit != 0) {
            return exit;
        }
        ObjectNode hr = (ObjectNode) explore.summary.with("exploration").with("onlineHR@20");
        double withExplore = hr.path("exploreOn").asDouble(Double.NaN);
        double without = plain.summary.path("exploration").path("onlineHR@20").path("exploreOff").asDouble(Double.NaN);
        hr.put("exploreOff", without);
        ObjectNode x = (ObjectNode) explore.summary.get("exploration");
        x.put("relativeCost", Math.round((without - withExplore) / without * 10_000) / 10_000.0);
        // the same new items without exploration: whether the model alone ever shows them
        ObjectNode offNew = x.putObject("exploreOff");
        for (String key : List.of("newItems", "newItemsShown", "medianSecondsToFirstImpression", "exploreSlotHits", "actsAfterList")) {
            offNew.set(key, plain.summary.path("exploration").path(key));
        }
        explore.writeJson();
        return 0;
    }

    /**
     * Runs the demo with {@code args} (the command line's options) and returns its whole summary,
     * as {@code --summary-json} would write it: the bench's pipeline section runs the embedded
     * pipeline this way. Throws when the run does not end with every event's output committed.
     */
    public static ObjectNode runForSummary(String... args) throws Exception {
        Run run = new Run(ParameterTool.fromArgs(args));
        int exit = run.call();
        if (exit != 0 || run.summary == null) {
            throw new IllegalStateException("demo run " + String.join(" ", args) + " ended with exit " + exit);
        }
        return run.summary;
    }

    /**
     * Events per second produced unless {@code --rate} says otherwise: about half of the saturation
     * rate of the whole demo (broker, job at parallelism 2, feed and monitor in one JVM) measured on
     * the shared 2-core machine under load (1,150-1,490 events/s, docs/benchmarks.md), so that the
     * first run shows the job's latency rather than a queue. 2,000 (the old default) was above it.
     */
    static final double DEFAULT_RATE = 500;

    /** Windows on each side of a swap over which the HR@20 of the two versions is compared. */
    static final int COMPARE_WINDOWS = 4;

    private static final class Run {
        private final ParameterTool params;
        private final Path workDir;
        private final long maxEvents;
        private final double rate;
        private final long started = System.currentTimeMillis();
        private final long windowMs;
        private final long warmupMs;
        private final long driftEvery;
        private final long cpuAtStart = processCpuNanos();
        /** The summary once written. */
        private ObjectNode summary;

        Run(ParameterTool params) {
            this.params = params;
            this.workDir = Paths.get(params.get("work-dir", ".run/demo")).toAbsolutePath();
            this.maxEvents = params.getLong("max-events", -1);
            this.rate = params.getDouble("rate", DEFAULT_RATE);
            this.windowMs = TimeUtils.parseDuration(params.get("window", "5s")).toMillis();
            this.warmupMs = TimeUtils.parseDuration(params.get("warmup", "10s")).toMillis();
            this.driftEvery = params.getLong("drift-every", 0);
            if (windowMs <= 0 || warmupMs < 0 || driftEvery < 0) {
                throw new IllegalArgumentException("need --window > 0, --warmup >= 0 and --drift-every >= 0");
            }
            if (driftEvery > 0 && params.has("events")) {
                throw new IllegalArgumentException("--drift-every is for synthetic events only");
            }
        }

        int call() throws Exception {
            Files.createDirectories(workDir);
            Path model = modelDir();
            String bootstrap = params.get("bootstrap-servers");
            EmbeddedKafka broker = null;
            if (bootstrap == null) {
                log("starting an in-process Kafka broker (KRaft) ...");
                broker = EmbeddedKafka.start(workDir.resolve("kafka"));
                bootstrap = broker.bootstrapServers();
            }
            try {
                log("Kafka at " + bootstrap);
                Configuration options = jobOptions(bootstrap, model);
                KafkaEndpoint kafka = KafkaEndpoint.of(options);
                createTopics(kafka, options);
                startAtCurrentEnd(kafka, options);
                EmbeddedJob.Settings settings = new EmbeddedJob.Settings(
                        params.getInt("parallelism", 2), params.get("checkpoint-interval", "2s"),
                        params.get("web-port", "8081-8099"), params.get("buffer-timeout", "5ms"), workDir);
                try (EmbeddedJob job = EmbeddedJob.start(settings, options, "towerflow-demo")) {
                    log("job " + job.id() + " running; Flink web UI at " + job.webUi());
                    return feedAndWatch(kafka, options, model, job);
                } finally {
                    log("job cancelled");
                }
            } finally {
                if (broker != null) {
                    broker.close();
                }
            }
        }

        private int feedAndWatch(KafkaEndpoint kafka, Configuration options, Path model, EmbeddedJob job)
                throws Exception {
            RateProducer producer = new RateProducer(kafka, options.get(KafkaOptions.BEHAVIOR_TOPIC), rate,
                    windowMs, driftEvery, Run::log);
            try (RetrainSchedule retraining = retraining(kafka, model);
                    OutputMonitor monitor = new OutputMonitor(kafka,
                            options.get(KafkaOptions.RECOMMENDATIONS_TOPIC), options.get(KafkaOptions.DLQ_TOPIC),
                            options.get(KafkaOptions.FEEDBACK_TOPIC), windowMs);
                    EventFeed feed = feed()) {
                monitor.start();
                NewItems newItems = null;
                if (params.has("new-items-every")) {
                    newItems = NewItems.start(kafka, options.get(KafkaOptions.CATALOG_TOPIC),
                            params.get("new-items-tag", Long.toString(started, 36)),
                            params.getInt("categories", new SyntheticGenerator.Config().categories),
                            params.getLong("seed", new SyntheticGenerator.Config().seed),
                            TimeUtils.parseDuration(params.get("new-items-every")).toMillis(), monitor, Run::log);
                }
                int exit;
                try {
                    exit = producer.run(feed, monitor, job);
                } finally {
                    if (newItems != null) {
                        newItems.close();
                    }
                }
                if (retraining != null) {
                    retraining.close(); // before the summary, which lists the rounds
                }
                writeSummary(monitor, producer, retraining == null ? List.of() : retraining.rounds(), newItems);
                return exit;
            }
        }

        /** With {@code --retrain-every D}: the closed loop, else null. */
        private RetrainSchedule retraining(KafkaEndpoint kafka, Path model) throws Exception {
            String every = params.get("retrain-every");
            if (every == null) {
                return null;
            }
            Map<String, String> retrain = new LinkedHashMap<>();
            retrain.put(RetrainOptions.MARGIN.key(), params.get("retrain-margin", "0.0"));
            retrain.put(RetrainOptions.MIN_EXAMPLES.key(), params.get("retrain-min-examples", "1000"));
            params.toMap().forEach((k, v) -> {
                if (k.startsWith("towerflow.retrain.")) {
                    retrain.put(k, v);
                }
            });
            return RetrainSchedule.start(kafka, model, workDir.resolve("model-artifacts"),
                    TimeUtils.parseDuration(every), retrain, Run::log);
        }

        private static void createTopics(KafkaEndpoint kafka, Configuration options) throws Exception {
            Topics.ensureTopics(
                    kafka,
                    Map.of(
                            options.get(KafkaOptions.BEHAVIOR_TOPIC), 2,
                            options.get(KafkaOptions.RECOMMENDATIONS_TOPIC), 2,
                            options.get(KafkaOptions.DLQ_TOPIC), 1,
                            options.get(KafkaOptions.FEEDBACK_TOPIC), 2,
                            options.get(KafkaOptions.MODEL_UPDATES_TOPIC), 1,
                            options.get(KafkaOptions.CATALOG_TOPIC), 1),
                    Map.of(
                            options.get(KafkaOptions.CATALOG_TOPIC), Map.of("cleanup.policy", "compact"),
                            // replayed events keep their (old) event time as record timestamp
                            options.get(KafkaOptions.BEHAVIOR_TOPIC), Map.of("retention.ms", "-1")),
                    Duration.ofSeconds(60));
        }

        /**
         * Commits the input topic's current end offsets for the job's fresh consumer group, so the
         * job reads exactly what the demo produces from now on, even on a broker with old data.
         * ("latest" would be resolved only when a reader starts, racing the first events.)
         */
        private static void startAtCurrentEnd(KafkaEndpoint kafka, Configuration options) throws Exception {
            String topic = options.get(KafkaOptions.BEHAVIOR_TOPIC);
            try (Admin admin = Admin.create(kafka.properties())) {
                Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
                admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions()
                        .forEach(p -> latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
                Map<TopicPartition, OffsetAndMetadata> start = new HashMap<>();
                admin.listOffsets(latest).all().get()
                        .forEach((tp, info) -> start.put(tp, new OffsetAndMetadata(info.offset())));
                admin.alterConsumerGroupOffsets(options.get(KafkaOptions.GROUP_ID), start).all().get();
            }
        }


        private EventFeed feed() throws Exception {
            String events = params.get("events");
            if (events != null) {
                log("replaying " + events);
                return EventFeed.file(Paths.get(events), maxEvents);
            }
            SyntheticGenerator.Config cfg = new SyntheticGenerator.Config();
            cfg.users = params.getInt("users", cfg.users);
            cfg.items = params.getInt("items", cfg.items);
            cfg.categories = params.getInt("categories", cfg.categories);
            cfg.seed = params.getLong("seed", cfg.seed);
            cfg.driftEvery = driftEvery;
            cfg.startTs = System.currentTimeMillis();
            // event time advances about as fast as the wall clock: brokers refuse timestamps far
            // in the future (log.message.timestamp.after.max.ms, 1 h by default)
            cfg.meanGapMs = rate > 0 ? Math.max(1, Math.round(1000 / rate)) : 1;
            log(String.format(
                    "synthetic events: %,d users, %,d items, %,d categories, seed %d%s",
                    cfg.users, cfg.items, cfg.categories, cfg.seed,
                    driftEvery > 0 ? String.format(", drift every %,d events", driftEvery) : ""));
            return EventFeed.synthetic(cfg, maxEvents < 0 ? Long.MAX_VALUE : maxEvents);
        }

        private Path modelDir() throws Exception {
            String m = params.get("model");
            if (m != null) {
                return Paths.get(m).toAbsolutePath();
            }
            Path root = Paths.get("model-artifacts");
            try (Stream<Path> dirs = Files.list(root)) {
                return dirs.filter(d -> Files.exists(d.resolve("manifest.json")))
                        .max(Comparator.comparing(Path::getFileName))
                        .orElseThrow(() -> new IllegalStateException("no model version under " + root.toAbsolutePath()))
                        .toAbsolutePath();
            }
        }


        private Configuration jobOptions(String bootstrap, Path model) {
            Configuration c = new Configuration();
            params.toMap().forEach((k, v) -> {
                if (k.startsWith("towerflow.")) {
                    c.setString(k, v);
                }
            });
            c.set(KafkaOptions.BOOTSTRAP_SERVERS, bootstrap);
            c.set(ModelOptions.PATH, model.toString());
            if (!c.contains(ModelUpdateOptions.ALLOWED_ROOTS)) {
                // the initial version's directory and where --retrain-every writes new versions
                c.set(ModelUpdateOptions.ALLOWED_ROOTS, List.of(
                        model.toAbsolutePath().getParent().toString(),
                        workDir.resolve("model-artifacts").toString()));
            }
            // start exactly where the input topic ends now (see startAtCurrentEnd)
            c.set(KafkaOptions.GROUP_ID, "towerflow-demo-" + started);
            c.set(KafkaOptions.START_FROM, KafkaOptions.StartFrom.COMMITTED);
            c.set(KafkaOptions.TRANSACTIONAL_ID_PREFIX, "towerflow-demo-" + started);
            return c;
        }


        private void writeSummary(OutputMonitor monitor, RateProducer producer, List<ObjectNode> rounds,
                NewItems newItems) throws Exception {
            long endMs = Math.max(monitor.lastOutputMs(), producer.firstProducedMs() + 1);
            double seconds = (endMs - producer.firstProducedMs()) / 1000.0;
            ObjectNode s = JsonCodec.mapper().createObjectNode();
            s.put("eventsIn", producer.produced());
            s.put("recommendationsOut", monitor.lists());
            s.put("dlq", monitor.deadLetters());
            s.put("eventsPerSecond", Math.round(producer.produced() / seconds));
            s.put("p50Ms", monitor.emitLatency(0.5));
            s.put("p99Ms", monitor.emitLatency(0.99));
            s.put("p999Ms", monitor.emitLatency(0.999));
            s.put("visibleP50Ms", monitor.visibleLatency(0.5));
            s.put("visibleP99Ms", monitor.visibleLatency(0.99));
            s.put("modelVersion", monitor.modelVersion());
            s.putPOJO("versionsServed", monitor.versionsServed());
            ObjectNode hr = s.putObject("onlineHR@20ByVersion");
            monitor.onlineHitRateByVersion().forEach((v, r) -> hr.put(v, Math.round(r * 10_000) / 10_000.0));
            s.put("source", params.get("events", driftEvery > 0 ? "synthetic, drift every " + driftEvery + " events" : "synthetic"));
            s.put("rate", rate);
            s.put("parallelism", params.getInt("parallelism", 2));
            s.put("wallSeconds", (System.currentTimeMillis() - started) / 1000.0);
            // CPU of the whole process: broker, generator and monitor included when they run here
            s.put("processCpuSeconds", Math.round((processCpuNanos() - cpuAtStart) / 1e7) / 100.0);
            monitor.timeline(t -> {
                // after the warm-up: the rate lists came out at and their latencies
                Timeline.Window first = t.windows().isEmpty() ? null : t.windows().get(0);
                long[] st = t.steady(first == null ? Long.MAX_VALUE : first.start + warmupMs);
                ObjectNode steady = s.putObject("steady");
                steady.put("lists", st[0]);
                steady.put("eventsPerSecond", st[1] == 0 ? 0 : Math.round(st[0] * 1000.0 / st[1]));
                steady.put("p50Ms", st[2]);
                steady.put("p99Ms", st[3]);
                steady.put("p999Ms", st[4]);
                return null;
            });
            monitor.timeline(t -> {
                TimelineReport.write(s, t, warmupMs, COMPARE_WINDOWS, producer.epochStarts(), driftEvery, rounds);
                return null;
            });
            exploration(s, monitor, newItems);
            summary = s;
            ObjectNode brief = s.deepCopy();
            brief.remove(List.of("windows", "retrainRounds"));
            log("summary (without the windows and rounds) " + brief.toString());
            writeJson();
        }

        /**
         * The summary's {@code "exploration"}: the new items added, how soon they were first shown
         * and first acted on from a list, acts on exploration slots, and the online HR@20 of this
         * run under {@code exploreOn} or {@code exploreOff} (--compare-explore adds the other).
         */
        private void exploration(ObjectNode s, OutputMonitor monitor, NewItems newItems) {
            int slots = params.getInt(RecommendOptions.EXPLORE_SLOTS.key(), RecommendOptions.EXPLORE_SLOTS.defaultValue());
            ObjectNode x = s.putObject("exploration");
            x.put("exploreSlots", slots);
            int added = newItems == null ? 0 : newItems.arrivals().size();
            x.put("newItems", added);
            double[] shown = monitor.secondsToFirstImpression();
            double[] clicked = monitor.secondsToFirstClick();
            x.put("newItemsShown", shown.length);
            putMedian(x, "medianSecondsToFirstImpression", shown);
            x.put("newItemsActedOn", clicked.length);
            putMedian(x, "medianSecondsToFirstClick", clicked);
            x.put("exploreSlotHits", monitor.exploreSlotHits());
            x.put("actsAfterList", monitor.actsAfterList());
            double hr = monitor.onlineHitRate();
            ObjectNode h = x.putObject("onlineHR@20");
            h.put(slots > 0 ? "exploreOn" : "exploreOff", Double.isNaN(hr) ? null : Math.round(hr * 10_000) / 10_000.0);
        }

        private static void putMedian(ObjectNode x, String key, double[] values) {
            if (values.length == 0) {
                x.putNull(key);
                return;
            }
            double[] v = values.clone();
            java.util.Arrays.sort(v);
            double m = v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
            x.put(key, Math.round(m * 1000) / 1000.0);
        }

        /** Writes the summary to {@code --summary-json}, if given. */
        private void writeJson() throws Exception {
            String file = params.get("summary-json");
            if (file != null && summary != null) {
                Path f = Paths.get(file);
                if (f.getParent() != null) {
                    Files.createDirectories(f.getParent());
                }
                Files.writeString(f, JsonCodec.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(summary) + "\n");
                log("wrote " + f.toAbsolutePath());
            }
        }


        private static long processCpuNanos() {
            return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                    .getOperatingSystemMXBean()).getProcessCpuTime();
        }

        private static void log(String msg) {
            System.out.printf("[towerflow %tT] %s%n", System.currentTimeMillis(), msg);
        }
    }
}
