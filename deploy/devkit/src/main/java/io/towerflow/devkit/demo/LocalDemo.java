package io.towerflow.devkit.demo;


import io.towerflow.cli.Cli;
import io.towerflow.cli.HelpOption;
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

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.util.TimeUtils;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * The embedded demo ({@code deploy/local/towerflow demo}). It composes the parts and owns none of
 * their work: a real KRaft broker ({@link EmbeddedKafka}, or the one at
 * {@code --bootstrap-servers}), the job on a MiniCluster of its own ({@link EmbeddedJob}), a feed
 * of synthetic or file events ({@link EventFeed}) produced at a rate ({@link RateProducer}), live
 * figures read back with a {@code read_committed} consumer ({@link OutputMonitor}), the optional
 * retraining loop ({@link RetrainSchedule}) and the summary ({@link TimelineReport}).
 */
@Command(name = "demo", sortOptions = false,
        description = {"The embedded demo: a Kafka broker, the job on a MiniCluster, a feed of synthetic or file events"
                + " at a rate, live figures read back read_committed, optional retraining rounds, and a summary.",
                "Exit status 0 when every event produced got its committed output."},
        footer = {"Any towerflow.* option: --towerflow.<key> V, e.g. --towerflow.recommend.top-k 50;"
                + " --towerflow.retrain.<option> V also goes to the --retrain-every rounds,"
                + " e.g. --towerflow.retrain.epochs 2."})
public final class LocalDemo implements Callable<Integer> {
    @Mixin
    HelpOption help;

    @Option(names = "--events", paramLabel = "FILE",
            description = "Replay a Taobao CSV or JSON-lines file (default: synthetic events).")
    String events;

    @Option(names = "--max-events", paramLabel = "N",
            description = "Stop once N events are produced and all their output is committed (synthetic default:"
                    + " run until Ctrl-C; file default: the whole file).")
    long maxEvents = -1;

    @Option(names = "--rate", paramLabel = "N",
            description = "Events per second to produce, 0 = as fast as possible; about half of what the demo sustained"
                    + " on a loaded 2-core machine (default: ${DEFAULT-VALUE}).")
    double rate = DEFAULT_RATE;

    @Option(names = "--users", paramLabel = "N", description = "Synthetic users (default: ${DEFAULT-VALUE}).")
    int users = new SyntheticGenerator.Config().users;

    @Option(names = "--items", paramLabel = "N", description = "Synthetic items (default: ${DEFAULT-VALUE}).")
    int items = new SyntheticGenerator.Config().items;

    @Option(names = "--categories", paramLabel = "N", description = "Synthetic categories (default: ${DEFAULT-VALUE}).")
    int categories = new SyntheticGenerator.Config().categories;

    @Option(names = "--seed", paramLabel = "N", description = "Synthetic generator seed (default: ${DEFAULT-VALUE}).")
    long seed = new SyntheticGenerator.Config().seed;

    @Option(names = "--drift-every", paramLabel = "N",
            description = "Synthetic population drift: every N events users' interests are drawn anew and the popular"
                    + " items of each category change; 0 = none (default: ${DEFAULT-VALUE}).")
    long driftEvery;

    @Option(names = "--model", paramLabel = "DIR", description = "Model version directory (default: newest under model-artifacts/).")
    String model;

    @Option(names = "--bootstrap-servers", paramLabel = "H:P", description = "Use this Kafka instead of starting one.")
    String bootstrapServers;

    @Option(names = "--parallelism", paramLabel = "N", description = "Job parallelism (default: ${DEFAULT-VALUE}).")
    int parallelism = 2;

    @Option(names = "--checkpoint-interval", paramLabel = "D", description = "e.g. 2s (default: ${DEFAULT-VALUE}).")
    String checkpointInterval = "2s";

    @Option(names = "--web-port", paramLabel = "P", description = "Flink web UI port or range (default: ${DEFAULT-VALUE}).")
    String webPort = "8081-8099";

    @Option(names = "--buffer-timeout", paramLabel = "D",
            description = "Flink network buffer timeout; Flink's own is 100ms (default: ${DEFAULT-VALUE}).")
    String bufferTimeout = "5ms";

    @Option(names = "--flink", paramLabel = "KEY=VALUE",
            description = "A Flink option for the embedded cluster, after the demo's own (repeatable),"
                    + " e.g. --flink state.backend.rocksdb.writebuffer.size=8mb.")
    Map<String, String> flink = new LinkedHashMap<>();

    @Option(names = "--work-dir", paramLabel = "DIR", description = "Checkpoints, logs, broker data (default: ${DEFAULT-VALUE}).")
    String workDir = ".run/demo";

    @Option(names = "--retrain-every", paramLabel = "D",
            description = "Run a retraining round every D (e.g. 2min) on the job's own feedback; promoted versions are"
                    + " published and swapped in while the demo runs.")
    String retrainEvery;

    @Option(names = "--retrain-margin", paramLabel = "M", description = "Promotion margin of those rounds (default: ${DEFAULT-VALUE}).")
    String retrainMargin = "0.0";

    @Option(names = "--retrain-min-examples", paramLabel = "N",
            description = "Fewest feedback records a round trains on (default: ${DEFAULT-VALUE}).")
    String retrainMinExamples = "1000";

    @Option(names = "--window", paramLabel = "D",
            description = "Window of the time series (lists, p50/p99, versions, HR@20 per window, swap vs steady p99)"
                    + " in the live output and the summary (default: ${DEFAULT-VALUE}).")
    String window = "5s";

    @Option(names = "--warmup", paramLabel = "D",
            description = "Lists emitted this long after the first one are not steady state (default: ${DEFAULT-VALUE}).")
    String warmup = "10s";

    @Option(names = "--summary-json", paramLabel = "FILE", description = "Write the final figures as JSON.")
    String summaryJson;

    @Option(names = "--no-uncommitted-view", negatable = false,
            description = "Do not also read the lists read_uncommitted (a front end that wants a list before its"
                    + " checkpoint commits); the bench's pipeline runs leave it out, one consumer fewer on the"
                    + " job's cores.")
    boolean noUncommittedView;

    @Option(names = "--new-items-every", paramLabel = "D",
            description = "Add a new item to item-catalog every D (e.g. 30s); the summary's \"exploration\" says how soon"
                    + " they were shown (and acted on, if ever).")
    String newItemsEvery;

    @Option(names = "--compare-explore", negatable = false,
            description = "Run twice on the same events, the second time with --towerflow.recommend.explore-slots 0"
                    + " (work dir <work-dir>/explore-off), and put both online HR@20 and the relative cost in"
                    + " \"exploration\" (needs --max-events).")
    boolean compareExplore;

    /** The new items' id tag; --compare-explore gives the second run the first one's, so both add the same ids. */
    @Option(names = "--act-on-shown", paramLabel = "P",
            description = "Synthetic events only: with probability P an event of a user who has a visible list becomes a"
                    + " click on an item drawn from that list (users who react to what they are shown; what makes first"
                    + " clicks on new items measurable). Default: ${DEFAULT-VALUE}, the plain stream.")
    double actOnShown = 0;

    @Option(names = "--new-items-tag", hidden = true)
    String newItemsTag;

    @Unmatched
    List<String> unmatched;

    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the demo with a command line; returns the exit status. */
    static int run(String... args) {
        return Cli.execute(new LocalDemo(), System.out, System.err, args);
    }

    /** Runs the demo; returns the exit status (0: every event produced got its committed output). */
    @Override
    public Integer call() throws Exception {
        if (compareExplore) {
            return compareExplore();
        }
        return newRun().call();
    }

    /** The run these options describe; a bad value is a usage error. */
    private Run newRun() {
        return newRun(Cli.towerflowOptions(spec, unmatched));
    }

    private Run newRun(Map<String, String> towerflow) {
        try {
            return new Run(this, towerflow);
        } catch (IllegalArgumentException e) {
            throw Cli.usage(spec, e.getMessage());
        }
    }

    /**
     * {@code --compare-explore}: the run as asked, then the same run with exploration off (same
     * seed, so the same events and the same model), and the second's online HR@20 and the relative
     * cost of exploring added to the first's summary.
     */
    private int compareExplore() throws Exception {
        if (maxEvents < 0) {
            throw Cli.usage(spec, "--compare-explore needs --max-events, so that both runs end");
        }
        Map<String, String> towerflow = Cli.towerflowOptions(spec, unmatched);
        Run explore = newRun(towerflow);
        int exit = explore.call();
        if (exit != 0) {
            return exit;
        }
        Map<String, String> off = new LinkedHashMap<>(towerflow);
        off.put(RecommendOptions.EXPLORE_SLOTS.key(), "0");
        summaryJson = null;
        workDir = explore.workDir.resolve("explore-off").toString();
        // the same new item ids, so that the item tower gives them the same vectors in both runs
        newItemsTag = Long.toString(explore.started, 36);
        Run plain = newRun(off);
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
        LocalDemo demo = new LocalDemo();
        Cli.of(demo).parseArgs(args);
        Run run = demo.newRun();
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
    /** Quantiles of the steady latency CDF in the summary ({@code steady.latencyCdfMs}). */
    static final double[] CDF_QUANTILES = {0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98,
        0.99, 0.995, 0.999, 1.0};

    private static final class Run {
        private final LocalDemo o;
        /** The {@code --towerflow.*} options of the command line. */
        private final Map<String, String> towerflow;
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
        /** Where {@link #writeJson} writes it; null: nowhere. */
        private final String summaryFile;

        Run(LocalDemo o, Map<String, String> towerflow) {
            this.o = o;
            this.towerflow = towerflow;
            this.workDir = Paths.get(o.workDir).toAbsolutePath();
            this.summaryFile = o.summaryJson;
            this.maxEvents = o.maxEvents;
            this.rate = o.rate;
            this.windowMs = TimeUtils.parseDuration(o.window).toMillis();
            this.warmupMs = TimeUtils.parseDuration(o.warmup).toMillis();
            this.driftEvery = o.driftEvery;
            if (windowMs <= 0 || warmupMs < 0 || driftEvery < 0) {
                throw new IllegalArgumentException("need --window > 0, --warmup >= 0 and --drift-every >= 0");
            }
            if (driftEvery > 0 && o.events != null) {
                throw new IllegalArgumentException("--drift-every is for synthetic events only");
            }
        }

        int call() throws Exception {
            Files.createDirectories(workDir);
            Path model = modelDir();
            String bootstrap = o.bootstrapServers;
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
                        o.parallelism, o.checkpointInterval, o.webPort, o.bufferTimeout, workDir, o.flink);
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
                            options.get(KafkaOptions.FEEDBACK_TOPIC), windowMs, !o.noUncommittedView);
                    EventFeed feed = feed(monitor)) {
                monitor.start();
                NewItems newItems = null;
                if (o.newItemsEvery != null) {
                    newItems = NewItems.start(kafka, options.get(KafkaOptions.CATALOG_TOPIC),
                            o.newItemsTag != null ? o.newItemsTag : Long.toString(started, 36),
                            new SyntheticGenerator(syntheticConfig()), o.seed,
                            TimeUtils.parseDuration(o.newItemsEvery).toMillis(), monitor, Run::log);
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
            String every = o.retrainEvery;
            if (every == null) {
                return null;
            }
            Map<String, String> retrain = new LinkedHashMap<>();
            retrain.put(RetrainOptions.MARGIN.key(), o.retrainMargin);
            retrain.put(RetrainOptions.MIN_EXAMPLES.key(), o.retrainMinExamples);
            towerflow.forEach((k, v) -> {
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


        private EventFeed feed(OutputMonitor monitor) throws Exception {
            String events = o.events;
            if (events != null) {
                log("replaying " + events);
                return EventFeed.file(Paths.get(events), maxEvents);
            }
            SyntheticGenerator.Config cfg = syntheticConfig();
            log(String.format(
                    "synthetic events: %,d users, %,d items, %,d categories, seed %d%s%s",
                    cfg.users, cfg.items, cfg.categories, cfg.seed,
                    driftEvery > 0 ? String.format(", drift every %,d events", driftEvery) : "",
                    o.actOnShown > 0 ? String.format(", %.0f %% of events clicks on the user's visible list", 100 * o.actOnShown) : ""));
            if (o.actOnShown > 0) {
                monitor.trackShownLists();
                return EventFeed.synthetic(cfg, maxEvents < 0 ? Long.MAX_VALUE : maxEvents,
                        EventFeed.actOnShown(o.actOnShown, monitor::lastShown, o.seed));
            }
            return EventFeed.synthetic(cfg, maxEvents < 0 ? Long.MAX_VALUE : maxEvents);
        }

        /** The synthetic world of this run (also the vocabulary of new items' titles). */
        private SyntheticGenerator.Config syntheticConfig() {
            SyntheticGenerator.Config cfg = new SyntheticGenerator.Config();
            cfg.users = o.users;
            cfg.items = o.items;
            cfg.categories = o.categories;
            cfg.seed = o.seed;
            cfg.driftEvery = driftEvery;
            cfg.startTs = System.currentTimeMillis();
            // event time advances about as fast as the wall clock: brokers refuse timestamps far
            // in the future (log.message.timestamp.after.max.ms, 1 h by default)
            cfg.meanGapMs = rate > 0 ? Math.max(1, Math.round(1000 / rate)) : 1;
            return cfg;
        }

        private Path modelDir() throws Exception {
            String m = o.model;
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
            towerflow.forEach(c::setString);
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
            if (monitor.hasUncommittedView()) {
                s.put("uncommittedP50Ms", monitor.uncommittedLatency(0.5, Long.MIN_VALUE));
                s.put("uncommittedP99Ms", monitor.uncommittedLatency(0.99, Long.MIN_VALUE));
            }
            s.put("modelVersion", monitor.modelVersion());
            s.putPOJO("versionsServed", monitor.versionsServed());
            ObjectNode hr = s.putObject("onlineHR@20ByVersion");
            monitor.onlineHitRateByVersion().forEach((v, r) -> hr.put(v, Math.round(r * 10_000) / 10_000.0));
            s.put("source", o.events != null ? o.events
                    : driftEvery > 0 ? "synthetic, drift every " + driftEvery + " events" : "synthetic");
            s.put("rate", rate);
            s.put("parallelism", o.parallelism);
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
                if (monitor.hasUncommittedView()) {
                    // the same lists as first seen by a read_uncommitted consumer
                    long from = first == null ? Long.MAX_VALUE : first.start + warmupMs;
                    steady.put("uncommittedP50Ms", monitor.uncommittedLatency(0.5, from));
                    steady.put("uncommittedP99Ms", monitor.uncommittedLatency(0.99, from));
                }
                // the latency CDF after the warm-up ({q, ms} points), for the bench's plot
                ArrayNode cdf = steady.putArray("latencyCdfMs");
                for (double[] point : t.steadyCdf(first == null ? Long.MAX_VALUE : first.start + warmupMs, CDF_QUANTILES)) {
                    cdf.addArray().add(point[0]).add((long) point[1]);
                }
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
            String key = RecommendOptions.EXPLORE_SLOTS.key();
            int slots = towerflow.containsKey(key) ? Integer.parseInt(towerflow.get(key))
                    : RecommendOptions.EXPLORE_SLOTS.defaultValue();
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
            if (summaryFile != null && summary != null) {
                Path f = Paths.get(summaryFile);
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
