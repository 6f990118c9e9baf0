package io.towerflow.devkit.demo;

import io.towerflow.config.KafkaEndpoint;
import io.towerflow.config.KafkaOptions;
import io.towerflow.config.ModelOptions;
import io.towerflow.config.ModelUpdateOptions;
import io.towerflow.devkit.kafka.EmbeddedKafka;
import io.towerflow.job.RecommendationJob;
import io.towerflow.kafka.Topics;
import io.towerflow.records.JsonCodec;
import io.towerflow.retrain.RetrainJob;
import io.towerflow.synthetic.SyntheticGenerator;

import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.runtime.execution.ExecutionState;
import org.apache.flink.runtime.executiongraph.AccessExecutionGraph;
import org.apache.flink.runtime.executiongraph.AccessExecutionVertex;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.util.ParameterTool;
import org.apache.flink.util.TimeUtils;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * The embedded demo ({@code deploy/local/towerflow demo}): a real KRaft broker (in-process, or the
 * one at {@code --bootstrap-servers}), the recommendation job on a local Flink environment with
 * RocksDB, checkpoints and the web UI, a feed of synthetic or file events, and live figures read
 * back with a {@code read_committed} consumer.
 */
public final class LocalDemo {
    private static final String USAGE =
            String.join(
                    "\n",
                    "usage: towerflow demo [options]",
                    "  --events FILE            replay a Taobao CSV or JSON-lines file (default: synthetic events)",
                    "  --max-events N           stop once N events are produced and all their output is committed",
                    "                           (synthetic default: run until Ctrl-C; file default: the whole file)",
                    "  --rate N                 events per second to produce, 0 = as fast as possible (default 2000)",
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
        return new Run(params).call();
    }

    /** Windows on each side of a swap over which the HR@20 of the two versions is compared. */
    static final int COMPARE_WINDOWS = 4;

    private static final class Run {
        private final ParameterTool params;
        private final Path workDir;
        private final long maxEvents;
        private final double rate;
        private final long started = System.currentTimeMillis();
        private long produced;
        private long producedValid;
        private long firstProducedMs;
        private final long windowMs;
        private final long warmupMs;
        private final long driftEvery;
        /** Wall time at which the first event of each drift epoch was produced. */
        private final List<Long> epochStarts = new ArrayList<>();
        /** What each retraining round did, from its summary, with the time it returned. */
        private final List<ObjectNode> rounds = new CopyOnWriteArrayList<>();
        private final AtomicReference<Exception> sendError = new AtomicReference<>();

        Run(ParameterTool params) {
            this.params = params;
            this.workDir = Paths.get(params.get("work-dir", ".run/demo")).toAbsolutePath();
            this.maxEvents = params.getLong("max-events", -1);
            this.rate = params.getDouble("rate", 2000);
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
            EmbeddedKafka broker = null;
            String bootstrap = params.get("bootstrap-servers");
            if (bootstrap == null) {
                log("starting an in-process Kafka broker (KRaft) ...");
                broker = EmbeddedKafka.start(workDir.resolve("kafka"));
                bootstrap = broker.bootstrapServers();
            }
            log("Kafka at " + bootstrap);
            Configuration options = jobOptions(bootstrap, model);
            KafkaEndpoint kafka = KafkaEndpoint.of(options);
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

            // a local cluster of our own, so that we know its web UI address and can wait until
            // every task runs (models loaded, Kafka partitions assigned) before producing
            int parallelism = params.getInt("parallelism", 2);
            Configuration flinkConf = flinkConfig();
            MiniCluster cluster =
                    new MiniCluster(
                            new MiniClusterConfiguration.Builder()
                                    .setConfiguration(flinkConf)
                                    .setNumTaskManagers(1)
                                    .setNumSlotsPerTaskManager(parallelism)
                                    .build());
            cluster.start();
            startAtCurrentEnd(kafka, options);
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flinkConf);
            env.setParallelism(parallelism);
            RecommendationJob.define(env, options);
            StreamGraph graph = env.getStreamGraph();
            graph.setJobName("towerflow-demo");
            JobID job = cluster.submitJob(graph).get().getJobID();
            log("job " + job + " submitted; Flink web UI at " + cluster.getRestAddress().get());
            awaitAllTasksRunning(cluster, job);
            log("all tasks running");

            ScheduledExecutorService retrainer = startRetraining(kafka, model);
            int exit = 0;
            try (OutputMonitor monitor =
                            new OutputMonitor(
                                    kafka,
                                    options.get(KafkaOptions.RECOMMENDATIONS_TOPIC),
                                    options.get(KafkaOptions.DLQ_TOPIC),
                                    options.get(KafkaOptions.FEEDBACK_TOPIC),
                                    windowMs);
                    EventFeed feed = feed()) {
                monitor.start();
                exit = produceAndWatch(kafka, options, feed, monitor, cluster, job);
                stopRetraining(retrainer); // before the summary, which lists the rounds
                writeSummary(monitor);
            } finally {
                stopRetraining(retrainer);
                cluster.cancelJob(job).get(60, TimeUnit.SECONDS);
                cluster.close();
                log("job cancelled");
                if (broker != null) {
                    broker.close();
                }
            }
            return exit;
        }

        private int produceAndWatch(
                KafkaEndpoint kafka,
                Configuration options,
                EventFeed feed,
                OutputMonitor monitor,
                MiniCluster cluster,
                JobID job)
                throws Exception {
            Properties p = kafka.properties();
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
            p.put(ProducerConfig.LINGER_MS_CONFIG, "2");
            p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
            p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
            String topic = options.get(KafkaOptions.BEHAVIOR_TOPIC);
            long lastReport = System.currentTimeMillis();
            long lastCount = 0;
            long lastProgressMs = System.currentTimeMillis();
            long lastDone = 0;
            firstProducedMs = System.currentTimeMillis();
            long nextWindowLine = Long.MIN_VALUE;
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
                while (true) {
                    JobStatus status = cluster.getJobStatus(job).get();
                    if (status.isGloballyTerminalState()) {
                        log("job ended: " + status + "; see " + System.getProperty("log.file", "the log"));
                        return 1;
                    }
                    // produce at the target rate, a slice at a time
                    long now = System.currentTimeMillis();
                    long due =
                            rate <= 0
                                    ? produced + 2_000
                                    : (long) ((now - firstProducedMs) / 1000.0 * rate) + 1;
                    while (produced < due && feed.hasNext()) {
                        EventFeed.Item item = feed.next();
                        long wall = System.currentTimeMillis();
                        byte[] key = null;
                        Long ts = null;
                        if (driftEvery > 0 && produced % driftEvery == 0) {
                            epochStarts.add(wall);
                            if (produced > 0) {
                                log(String.format("drift: epoch %d starts at event %,d", produced / driftEvery, produced));
                            }
                        }
                        if (item.event() != null) {
                            key = item.event().userId.getBytes(StandardCharsets.UTF_8);
                            ts = item.event().ts;
                            monitor.produced(item.event().userId, item.event().ts, wall);
                            producedValid++;
                        }
                        producer.send(
                                new ProducerRecord<>(topic, null, ts, key, item.bytes()),
                                (meta, error) -> {
                                    if (error != null) {
                                        sendError.compareAndSet(null, error);
                                    }
                                });
                        produced++;
                    }
                    producer.flush();
                    if (sendError.get() != null) {
                        log("producing to " + topic + " failed: " + sendError.get());
                        return 1;
                    }

                    now = System.currentTimeMillis();
                    long done = monitor.lists() + monitor.deadLetters();
                    if (done != lastDone) {
                        lastDone = done;
                        lastProgressMs = now;
                    }
                    if (now - lastReport >= 2_000) {
                        double eps = (done - lastCount) * 1000.0 / (now - lastReport);
                        log(String.format(
                                "events in %,d | lists out %,d | DLQ %,d | %,.0f events/s | "
                                        + "event->list p50 %d ms p99 %d ms (visible p50 %d ms) | model %s | online HR@20 %s",
                                produced,
                                monitor.lists(),
                                monitor.deadLetters(),
                                eps,
                                monitor.emitLatency(0.5),
                                monitor.emitLatency(0.99),
                                monitor.visibleLatency(0.5),
                                monitor.modelVersion(),
                                formatRates(monitor.onlineHitRateByVersion())));
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
                            log(line);
                        }
                        nextWindowLine += windowMs;
                    }
                    if (!feed.hasNext()) {
                        if (done >= produced) {
                            log(String.format(
                                    "all %,d events processed and committed: %,d lists, %,d dead letters",
                                    produced, monitor.lists(), monitor.deadLetters()));
                            return monitor.lists() == producedValid ? 0 : 1;
                        }
                        if (now - lastProgressMs > 120_000) {
                            log("no output for 120 s with " + (produced - done) + " events outstanding; giving up");
                            return 1;
                        }
                    }
                    Thread.sleep(rate <= 0 ? 1 : 10);
                }
            }
        }

        /**
         * With {@code --retrain-every D}: a RetrainJob round every D on the job's own feedback,
         * into a model root of the demo's (seeded with the serving version), publishing what it
         * promotes to model-updates, which the running job swaps in.
         */
        private ScheduledExecutorService startRetraining(KafkaEndpoint kafka, Path model) throws Exception {
            String every = params.get("retrain-every");
            if (every == null) {
                return null;
            }
            long periodMs = TimeUtils.parseDuration(every).toMillis();
            Path root = workDir.resolve("model-artifacts");
            Path seeded = root.resolve(model.getFileName());
            if (!Files.exists(seeded)) {
                Files.createDirectories(seeded);
                try (Stream<Path> files = Files.list(model)) {
                    for (Path f : files.toList()) {
                        Files.copy(f, seeded.resolve(f.getFileName()));
                    }
                }
            }
            // rounds warm-start from the highest version on model-updates, else the highest under
            // the model root: publish the one the job starts with, or a round on a fresh broker
            // would start from a version an earlier demo left in this work directory (the job
            // ignores an update of the version it serves)
            List<String> publish = kafkaArgs(kafka);
            publish.addAll(List.of("--publish", seeded.toString()));
            if (RetrainJob.run(publish.toArray(new String[0]), System.out, System.err) != 0) {
                throw new IllegalStateException("could not publish " + seeded + " to model-updates");
            }
            Path roundSummary = workDir.resolve("retrain-round.json");
            List<String> argList = kafkaArgs(kafka);
            argList.addAll(List.of(
                "--model-root", root.toString(),
                "--margin", params.get("retrain-margin", "0.0"),
                "--min-examples", params.get("retrain-min-examples", "1000"),
                "--summary-json", roundSummary.toString()));
            params.toMap().forEach((k, v) -> {
                if (k.startsWith("towerflow.retrain.")) {
                    argList.add("--" + k);
                    argList.add(v);
                }
            });
            String[] args = argList.toArray(new String[0]);
            log("retraining every " + every + " into " + root);
            ScheduledExecutorService s =
                    Executors.newSingleThreadScheduledExecutor(
                            r -> {
                                Thread t = new Thread(r, "towerflow-demo-retrain");
                                t.setDaemon(true);
                                return t;
                            });
            s.scheduleWithFixedDelay(
                    () -> {
                        log("retrain round starts");
                        long t0 = System.currentTimeMillis();
                        try {
                            Files.deleteIfExists(roundSummary);
                        } catch (java.io.IOException e) {
                            log("cannot delete " + roundSummary + ": " + e);
                        }
                        int code = RetrainJob.run(args, System.out, System.err);
                        long t1 = System.currentTimeMillis();
                        log("retrain round ended (exit " + code + ")");
                        ObjectNode round = JsonCodec.mapper().createObjectNode();
                        round.put("startedAt", t0);
                        round.put("endedAt", t1);
                        round.put("exit", code);
                        try {
                            if (Files.exists(roundSummary)) {
                                round.set("summary", JsonCodec.mapper().readTree(roundSummary.toFile()));
                            }
                        } catch (java.io.IOException e) {
                            log("cannot read " + roundSummary + ": " + e);
                        }
                        rounds.add(round);
                    },
                    periodMs,
                    periodMs,
                    TimeUnit.MILLISECONDS);
            return s;
        }

        private static void stopRetraining(ScheduledExecutorService retrainer) throws InterruptedException {
            if (retrainer != null && !retrainer.isTerminated()) {
                retrainer.shutdown(); // no new rounds; one under way may finish
                if (!retrainer.awaitTermination(120, TimeUnit.SECONDS)) {
                    retrainer.shutdownNow();
                }
            }
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

        private static void awaitAllTasksRunning(MiniCluster cluster, JobID job) throws Exception {
            long deadline = System.currentTimeMillis() + 120_000;
            while (true) {
                AccessExecutionGraph graph = cluster.getExecutionGraph(job).get();
                if (graph.getState().isGloballyTerminalState()) {
                    throw new IllegalStateException("job " + graph.getState() + " while starting: " + graph.getFailureInfo());
                }
                // an initializing job answers with an empty graph: require every vertex, and some
                int vertices = 0;
                boolean running = true;
                for (AccessExecutionVertex v : graph.getAllExecutionVertices()) {
                    vertices++;
                    running &= v.getExecutionState() == ExecutionState.RUNNING;
                }
                if (vertices > 0 && running) {
                    return;
                }
                if (System.currentTimeMillis() > deadline) {
                    throw new IllegalStateException("tasks not running after 120 s");
                }
                Thread.sleep(100);
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

        /** RetrainJob's arguments that connect it as the job is connected (client properties too). */
        private static List<String> kafkaArgs(KafkaEndpoint kafka) {
            List<String> args = new ArrayList<>();
            kafka.asOptions().forEach((k, v) -> {
                args.add("--" + k);
                args.add(v);
            });
            return args;
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

        private Configuration flinkConfig() {
            Configuration c = new Configuration();
            c.setString("state.backend.type", "rocksdb");
            c.setString("execution.checkpointing.incremental", "true");
            c.setString("execution.checkpointing.interval", params.get("checkpoint-interval", "2s"));
            c.setString("execution.checkpointing.mode", "EXACTLY_ONCE");
            c.setString("execution.checkpointing.dir", workDir.resolve("checkpoints").toUri().toString());
            c.setString("io.tmp.dirs", workDir.resolve("tmp").toString());
            c.setString("restart-strategy.type", "fixed-delay");
            c.setString("restart-strategy.fixed-delay.attempts", "3");
            c.set(RestOptions.BIND_PORT, params.get("web-port", "8081-8099"));
            // ship records downstream within 5 ms instead of Flink's default 100 ms buffer timeout
            c.setString("execution.buffer-timeout.interval", params.get("buffer-timeout", "5ms"));
            return c;
        }

        private void writeSummary(OutputMonitor monitor) throws Exception {
            long endMs = Math.max(monitor.lastOutputMs(), firstProducedMs + 1);
            double seconds = (endMs - firstProducedMs) / 1000.0;
            ObjectNode s = JsonCodec.mapper().createObjectNode();
            s.put("eventsIn", produced);
            s.put("recommendationsOut", monitor.lists());
            s.put("dlq", monitor.deadLetters());
            s.put("eventsPerSecond", Math.round(produced / seconds));
            s.put("p50Ms", monitor.emitLatency(0.5));
            s.put("p99Ms", monitor.emitLatency(0.99));
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
            monitor.timeline(t -> {
                TimelineReport.write(s, t, warmupMs, COMPARE_WINDOWS, epochStarts, driftEvery, rounds);
                return null;
            });
            String json = JsonCodec.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(s);
            ObjectNode brief = s.deepCopy();
            brief.remove(List.of("windows", "retrainRounds"));
            log("summary (without the windows and rounds) " + brief.toString());
            String file = params.get("summary-json");
            if (file != null) {
                Path f = Paths.get(file);
                if (f.getParent() != null) {
                    Files.createDirectories(f.getParent());
                }
                Files.writeString(f, json + "\n");
                log("wrote " + f.toAbsolutePath());
            }
        }

        private static String formatRates(Map<String, Double> rates) {
            StringBuilder b = new StringBuilder();
            rates.forEach((v, r) -> b.append(b.length() == 0 ? "" : ", ").append(v).append('=').append(String.format("%.3f", r)));
            return b.length() == 0 ? "-" : b.toString();
        }

        private static void log(String msg) {
            System.out.printf("[towerflow %tT] %s%n", System.currentTimeMillis(), msg);
        }
    }
}
