package io.towerflow.devkit.cluster;

import io.towerflow.config.FaultInjectionOptions;
import io.towerflow.config.KafkaEndpoint;
import io.towerflow.config.KafkaOptions;
import io.towerflow.config.ModelOptions;
import io.towerflow.config.ModelUpdateOptions;
import io.towerflow.config.RecommendOptions;
import io.towerflow.job.RecommendationJob;
import io.towerflow.kafka.Topics;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.JsonCodec;

import com.fasterxml.jackson.databind.JsonNode;

import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * One scenario of the failure suite: fresh topics on a broker, RecommendationJob on a MiniCluster
 * of its own (parallelism 2, RocksDB, exactly-once checkpoints, fixed-delay restarts, REST for its
 * exception history), a producer that remembers every valid event and where every bad record
 * landed, and a {@code read_committed} {@link OutputLedger} that accounts for the output: one list
 * per valid event, one dead letter (with its reason) per bad record.
 */
final class ChaosScenario implements AutoCloseable {

    /** What a scenario measured; {@code problems} empty when everything held. */
    record Result(String name, long eventsIn, long lists, long deadLetters, long lost, long duplicated,
            double recoverySeconds, int restarts, List<String> problems) {}

    final String name;
    final String suffix = UUID.randomUUID().toString().substring(0, 8);
    final String in;
    final String out;
    final String dlq;
    final String feedback;
    final String updates;
    final String catalog;

    private final KafkaEndpoint kafka;
    private final Path work;
    private final Path model;
    private final KafkaProducer<byte[], byte[]> producer;
    private final List<BehaviorEvent> validSent = new ArrayList<>();
    /** origin ({@code topic/partition@offset}) → the prefix its dead letter's reason must have. */
    private final Map<String, String> badSent = new LinkedHashMap<>();
    private final Map<String, String> badKinds = new HashMap<>();
    private MiniCluster cluster;
    private JobID job;
    private FlinkRest rest;
    private OutputLedger ledger;

    ChaosScenario(String name, KafkaEndpoint kafka, Path work, Path model) {
        this.name = name;
        this.kafka = kafka;
        this.work = work;
        this.model = model;
        String s = name.replaceAll("[^a-z0-9]+", "-") + "-" + suffix;
        in = "behavior-" + s;
        out = "recs-" + s;
        dlq = "dlq-" + s;
        feedback = "feedback-" + s;
        updates = "updates-" + s;
        catalog = "catalog-" + s;
        // the fuzzing corpus holds a 10 MB record
        producer = EventFeeder.producer(kafka, Map.of(
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 16 * 1024 * 1024,
                ProducerConfig.BUFFER_MEMORY_CONFIG, 64L * 1024 * 1024));
    }

    /** Creates the scenario's topics; the behaviour topic takes records up to 16 MB. */
    void createTopics() throws Exception {
        Topics.ensureTopics(
                kafka,
                Map.of(in, 2, out, 2, dlq, 1, feedback, 2, updates, 1, catalog, 1),
                Map.of(catalog, Map.of("cleanup.policy", "compact"),
                        in, Map.of("max.message.bytes", Integer.toString(16 * 1024 * 1024), "retention.ms", "-1")),
                Duration.ofSeconds(60));
        ledger = new OutputLedger(kafka, out, dlq);
    }

    /**
     * Starts the job from the earliest offsets (unbounded), with {@code options} over the
     * defaults ({@code towerflow.*} or Flink keys), and waits until every task runs.
     */
    void startJob(Map<String, String> options) throws Exception {
        Configuration job = new Configuration();
        kafka.asOptions().forEach(job::setString);
        job.set(KafkaOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
        job.set(KafkaOptions.BEHAVIOR_TOPIC, in);
        job.set(KafkaOptions.RECOMMENDATIONS_TOPIC, out);
        job.set(KafkaOptions.DLQ_TOPIC, dlq);
        job.set(KafkaOptions.FEEDBACK_TOPIC, feedback);
        job.set(KafkaOptions.MODEL_UPDATES_TOPIC, updates);
        job.set(KafkaOptions.CATALOG_TOPIC, catalog);
        job.set(KafkaOptions.START_FROM, KafkaOptions.StartFrom.EARLIEST);
        job.set(KafkaOptions.GROUP_ID, "chaos-" + suffix);
        job.set(KafkaOptions.TRANSACTIONAL_ID_PREFIX, "chaos-" + suffix);
        job.set(ModelOptions.PATH, model.toString());
        job.set(ModelUpdateOptions.ALLOWED_ROOTS, List.of(model.getParent().toString()));
        job.set(RecommendOptions.BATCH_MAX_SIZE, 32);

        Configuration flink = new Configuration();
        flink.setString("state.backend.type", "rocksdb");
        flink.setString("execution.checkpointing.incremental", "true");
        flink.setString("execution.checkpointing.interval", "500ms");
        flink.setString("execution.checkpointing.mode", "EXACTLY_ONCE");
        flink.setString("execution.checkpointing.dir", work.resolve("checkpoints-" + suffix).toUri().toString());
        flink.setString("io.tmp.dirs", work.resolve("tmp").toString());
        flink.setString("restart-strategy.type", "fixed-delay");
        flink.setString("restart-strategy.fixed-delay.attempts", "5");
        flink.setString("restart-strategy.fixed-delay.delay", "500ms");
        flink.setString("execution.buffer-timeout.interval", "5ms");
        flink.set(RestOptions.BIND_PORT, "0");
        options.forEach((k, v) -> (k.startsWith("towerflow.") ? job : flink).setString(k, v));

        cluster = new MiniCluster(new MiniClusterConfiguration.Builder()
                .setConfiguration(flink).setNumTaskManagers(1).setNumSlotsPerTaskManager(2).build());
        cluster.start();
        rest = new FlinkRest(cluster.getRestAddress().get().toString());
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
        env.setParallelism(2);
        RecommendationJob.define(env, job);
        StreamGraph graph = env.getStreamGraph();
        graph.setJobName("towerflow-chaos-" + name);
        this.job = cluster.submitJob(graph).get().getJobID();
        awaitAllTasksRunning();
    }

    private void awaitAllTasksRunning() throws Exception {
        MiniClusterTasks.awaitAllRunning(cluster, job, Duration.ofSeconds(180), () -> ledger.poll(Duration.ofMillis(100)));
    }

    /** Sends valid events to the behaviour topic at {@code perSecond} (0: at once), keyed by user. */
    void sendEvents(List<BehaviorEvent> events, double perSecond) throws Exception {
        List<FuzzCorpus.Entry> entries = new ArrayList<>(events.size());
        for (BehaviorEvent e : events) {
            entries.add(new FuzzCorpus.Entry(FuzzCorpus.Target.BEHAVIOR, e.userId.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    JsonCodec.behaviorEvent(e), e, "valid", null));
        }
        send(entries, perSecond);
    }

    /**
     * Sends the entries in order at {@code perSecond} (0: at once), polling the ledger meanwhile;
     * remembers every valid event and where each bad record landed.
     */
    void send(List<FuzzCorpus.Entry> entries, double perSecond) throws Exception {
        long start = System.nanoTime();
        List<Future<RecordMetadata>> pending = new ArrayList<>();
        List<FuzzCorpus.Entry> pendingBad = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            if (perSecond > 0) {
                long wait = start + (long) (i * 1e9 / perSecond) - System.nanoTime();
                if (wait > 0) {
                    if (wait > 50_000_000L) {
                        ledger.poll(Duration.ofMillis(1)); // keep receive times honest
                    }
                    long left = start + (long) (i * 1e9 / perSecond) - System.nanoTime();
                    if (left > 0) {
                        TimeUnit.NANOSECONDS.sleep(left);
                    }
                }
            }
            FuzzCorpus.Entry e = entries.get(i);
            String topic = switch (e.target()) {
                case BEHAVIOR -> in;
                case MODEL_UPDATES -> updates;
                case CATALOG -> catalog;
            };
            Long ts = e.valid() != null ? e.valid().ts : null;
            Future<RecordMetadata> f = producer.send(new ProducerRecord<>(topic, null, ts, e.key(), e.value()));
            if (e.bad()) {
                pending.add(f);
                pendingBad.add(e);
            } else {
                validSent.add(e.valid());
            }
        }
        producer.flush();
        for (int i = 0; i < pending.size(); i++) {
            RecordMetadata m = pending.get(i).get(60, TimeUnit.SECONDS);
            String origin = m.topic() + "/" + m.partition() + "@" + m.offset();
            badSent.put(origin, pendingBad.get(i).reasonPrefix());
            badKinds.put(origin, pendingBad.get(i).kind());
        }
    }

    long eventsIn() {
        return validSent.size() + badSent.size();
    }

    OutputLedger ledger() {
        return ledger;
    }

    /** Polls until a list per valid event and a dead letter per bad record are committed, or the timeout. */
    boolean awaitOutput(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (ledger.lists() < validSent.size() || ledger.deadLetters() < badSent.size()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            ledger.poll(Duration.ofMillis(200));
        }
        return true;
    }

    /** Polls for {@code d}, so that receive times stay accurate. */
    void pollFor(Duration d) {
        long end = System.nanoTime() + d.toNanos();
        while (System.nanoTime() < end) {
            ledger.poll(Duration.ofMillis(100));
        }
    }

    /** The failures of the job so far (Flink's exception history): one per restart, with its time and cause. */
    List<JsonNode> failures() throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode e : rest.get("/jobs/" + job + "/exceptions").path("exceptionHistory").path("entries")) {
            out.add(e);
        }
        return out;
    }

    /**
     * The job's {@code numRestarts} metric as the web UI shows it (the REST metric fetcher
     * refreshes every few seconds, so this waits up to 20 s for a value), or -1 if none came.
     */
    long numRestarts() throws Exception {
        long deadline = System.currentTimeMillis() + 20_000;
        while (System.currentTimeMillis() < deadline) {
            for (JsonNode m : rest.get("/jobs/" + job + "/metrics?get=numRestarts")) {
                if (m.has("value")) {
                    return m.path("value").asLong(-1);
                }
            }
            pollFor(Duration.ofMillis(500));
        }
        return -1;
    }

    /** The web UI / REST address of the scenario's MiniCluster. */
    String restAddress() {
        return rest.address();
    }

    /** {@code GET /jobs/<id>/checkpoints}: counts, summary, latest completed (size, duration). */
    JsonNode checkpointStats() throws Exception {
        return rest.get("/jobs/" + job + "/checkpoints");
    }

    /** Checkpoints completed so far. */
    long checkpointsCompleted() throws Exception {
        return rest.get("/jobs/" + job + "/checkpoints").path("counts").path("completed").asLong();
    }

    /**
     * The verdict: output read to its end and judged against what was sent; dead letters must
     * carry the expected reasons; recovery is from {@code faultAtMs} (0: none) to the first list
     * committed after it; {@code expectedRestarts} -1: any number.
     */
    Result finish(long faultAtMs, int expectedRestarts, Duration timeout) throws Exception {
        List<String> problems = new ArrayList<>();
        if (!awaitOutput(timeout)) {
            problems.add("output incomplete after " + timeout.toSeconds() + " s: " + ledger.lists() + " of "
                    + validSent.size() + " lists, " + ledger.deadLetters() + " of " + badSent.size() + " dead letters");
        }
        pollFor(Duration.ofSeconds(2)); // anything more (a duplicate) has had time to show
        ledger.readToEnd(Duration.ofSeconds(60));
        OutputLedger.Verdict v = ledger.verify(validSent, badSent.size(), RecommendOptions.HISTORY_LENGTH.defaultValue());
        problems.addAll(v.examples().stream().filter(x -> !x.contains("already in the user's history")).toList());
        Map<String, String> reasons = ledger.deadLetterReasons();
        for (Map.Entry<String, String> bad : badSent.entrySet()) {
            String reason = reasons.get(bad.getKey());
            if (reason == null) {
                problems.add("no dead letter for " + badKinds.get(bad.getKey()) + " at " + bad.getKey());
            } else if (reason.isBlank() || !reason.startsWith(bad.getValue())) {
                problems.add(badKinds.get(bad.getKey()) + " at " + bad.getKey() + ": reason '" + reason
                        + "', expected '" + bad.getValue() + "...'");
            }
        }
        List<JsonNode> failures = failures();
        if (expectedRestarts >= 0 && failures.size() != expectedRestarts) {
            problems.add(failures.size() + " restart(s), expected " + expectedRestarts + ": "
                    + failures.stream().map(f -> f.path("exceptionName").asText() + ": "
                            + f.path("stacktrace").asText("").lines().findFirst().orElse("")).toList());
        }
        double recovery = 0;
        if (faultAtMs > 0) {
            recovery = ledger.firstReceivedAfter(faultAtMs).orElse(System.currentTimeMillis() - 0L) - faultAtMs;
            recovery = Math.round(recovery / 100.0) / 10.0;
        }
        long lost = v.lost() + v.deadLettersLost();
        long duplicated = v.duplicated() + v.deadLettersDuplicated();
        return new Result(name, eventsIn(), v.received(), v.deadLetters(), lost, duplicated, recovery, failures.size(),
                problems.size() > 20 ? problems.subList(0, 20) : problems);
    }

    /** The option that injects a fault, for {@link #startJob}. */
    static Map.Entry<String, String> failAt(String point, long afterRecords) {
        return Map.entry(FaultInjectionOptions.FAIL_AT.key(), point + ":" + afterRecords);
    }

    @Override
    public void close() throws Exception {
        try {
            if (cluster != null) {
                try {
                    cluster.cancelJob(job).get(60, TimeUnit.SECONDS);
                } catch (Exception alreadyDone) {
                    // finished or failed: nothing to cancel
                }
                cluster.close();
            }
        } finally {
            producer.close();
            if (ledger != null) {
                ledger.close();
            }
        }
    }
}
