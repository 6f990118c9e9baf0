package io.towerflow.devkit.cluster;



import io.towerflow.cli.Cli;
import io.towerflow.cli.HelpOption;
import io.towerflow.config.KafkaEndpoint;
import io.towerflow.config.RecommendOptions;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.JsonCodec;
import io.towerflow.synthetic.SyntheticGenerator;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code deploy/local/towerflow chaos}: the failure suite with {@code read_committed} accounting.
 * A Kafka broker as its own process (under {@code .run/chaos}), and per scenario fresh topics and
 * RecommendationJob on a MiniCluster: the broker stopped and restarted mid-stream, a task failure
 * injected at parse, in the recommend operator mid-batch and in the sink, a fault while
 * checkpoints keep finding half-full micro-batches, junk on the control topics, and the fuzzing
 * corpus. Writes {@code {"scenarios":[{"name","eventsIn","lists","deadLetters","lost","duplicated",
 * "recoverySeconds"}],"lost","duplicated"}}; exits 1 if anything was lost or duplicated, 3 if
 * another check failed (a dead letter without its reason, an unexpected restart, a fault that did
 * not fire), 0 otherwise.
 */
@Command(name = "chaos", sortOptions = false,
        description = {"Failure suite: a Kafka broker process and, per scenario, fresh topics and RecommendationJob"
                + " on a MiniCluster; a fault injected, everything accounted for with a read_committed consumer.",
                "Exit status 1 if anything was lost or duplicated, 3 if another check failed, 2 on bad usage or"
                        + " when the suite could not run."})
public final class ChaosCommand implements Callable<Integer> {
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");

    @Mixin
    HelpOption help;

    @Option(names = "--summary-json", paramLabel = "FILE", description = "Write the scenarios' figures as JSON.")
    Path summaryJson;

    @Option(names = "--scenarios", paramLabel = "a,b,...", split = ",",
            description = "Scenarios to run (default: all): broker-restart, fail-parse, fail-recommend-mid-batch,"
                    + " fail-sink, checkpoint-half-full-batch, control-topic-junk, fuzz.")
    List<String> scenarios;

    @Option(names = "--fuzz-valid", paramLabel = "N", description = "Valid events among the fuzzing corpus (default: ${DEFAULT-VALUE}).")
    int fuzzValid = 10_000;

    @Option(names = "--fuzz-bad", paramLabel = "N",
            description = "Bad records of the fuzzing corpus, a 10 MB one included (default: ${DEFAULT-VALUE}).")
    int fuzzBad = 10_000;

    private ClusterHome home;
    private Path model;
    private KafkaBrokerProcess brokerProcess;
    private Daemon broker;
    private KafkaEndpoint kafka;

    public static void main(String[] argv) {
        System.exit(Cli.execute(new ChaosCommand(), System.out, System.err, argv));
    }

    @Override
    public Integer call() {
        try {
            Path repo = Path.of("").toAbsolutePath();
            this.home = new ClusterHome(repo, "chaos");
            try (Stream<Path> dirs = Files.list(repo.resolve("model-artifacts"))) {
                this.model = dirs.filter(d -> Files.exists(d.resolve("manifest.json")))
                        .max(Comparator.comparing(Path::getFileName))
                        .orElseThrow(() -> new IllegalStateException("no model version under model-artifacts/"))
                        .toAbsolutePath();
            }
            return runAll();
        } catch (Exception e) {
            System.err.println("[chaos] " + e);
            e.printStackTrace(System.err);
            return 2;
        }
    }

    private static void log(String s) {
        System.out.println("[chaos " + LocalTime.now().format(CLOCK) + "] " + s);
    }

    private int runAll() throws Exception {
        Map<String, Scenario> all = new LinkedHashMap<>();
        all.put("broker-restart", this::brokerRestart);
        all.put("fail-parse", s -> injected(s, "parse"));
        all.put("fail-recommend-mid-batch", s -> injected(s, "recommend"));
        all.put("fail-sink", s -> injected(s, "sink"));
        all.put("checkpoint-half-full-batch", this::halfFullBatch);
        all.put("control-topic-junk", this::controlJunk);
        all.put("fuzz", this::fuzz);
        List<String> chosen = scenarios != null ? scenarios : new ArrayList<>(all.keySet());
        for (String c : chosen) {
            if (!all.containsKey(c)) {
                throw new IllegalArgumentException("unknown scenario " + c + "; " + all.keySet());
            }
        }
        Path work = home.dir.resolve("work");
        startBroker();
        List<ChaosScenario.Result> results = new ArrayList<>();
        try {
            for (String name : chosen) {
                log("scenario " + name + " ...");
                long t0 = System.nanoTime();
                try (ChaosScenario s = new ChaosScenario(name, kafka, work, model)) {
                    s.createTopics();
                    ChaosScenario.Result r = all.get(name).run(s);
                    results.add(r);
                    log(String.format("%s: %d in, %d lists, %d dead letters, lost %d, duplicated %d, recovery %.1f s, "
                                    + "restarts %d, %.0f s%s", r.name(), r.eventsIn(), r.lists(), r.deadLetters(), r.lost(),
                            r.duplicated(), r.recoverySeconds(), r.restarts(), (System.nanoTime() - t0) / 1e9,
                            r.problems().isEmpty() ? "" : "\n  PROBLEMS: " + String.join("\n  ", r.problems())));
                }
            }
        } finally {
            broker.stop(Duration.ofSeconds(30));
        }
        long lost = results.stream().mapToLong(ChaosScenario.Result::lost).sum();
        long duplicated = results.stream().mapToLong(ChaosScenario.Result::duplicated).sum();
        ObjectNode summary = JsonCodec.mapper().createObjectNode();
        ArrayNode scenarios = summary.putArray("scenarios");
        for (ChaosScenario.Result r : results) {
            ObjectNode n = scenarios.addObject();
            n.put("name", r.name());
            n.put("eventsIn", r.eventsIn());
            n.put("lists", r.lists());
            n.put("deadLetters", r.deadLetters());
            n.put("lost", r.lost());
            n.put("duplicated", r.duplicated());
            n.put("recoverySeconds", r.recoverySeconds());
        }
        summary.put("lost", lost);
        summary.put("duplicated", duplicated);
        String json = JsonCodec.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(summary);
        System.out.println(json);
        if (summaryJson != null) {
            Path f = summaryJson;
            if (f.getParent() != null) {
                Files.createDirectories(f.getParent());
            }
            Files.writeString(f, json + "\n");
        }
        boolean problems = results.stream().anyMatch(r -> !r.problems().isEmpty());
        log("lost " + lost + ", duplicated " + duplicated + (problems ? ", other checks FAILED (see PROBLEMS above)" : ", all checks held"));
        return lost + duplicated > 0 ? 1 : problems ? 3 : 0;
    }

    private interface Scenario {
        ChaosScenario.Result run(ChaosScenario s) throws Exception;
    }

    private void startBroker() throws Exception {
        for (Daemon d : Daemon.all(home)) {
            d.stop(Duration.ofSeconds(30));
        }
        deleteRecursively(home.kafka());
        deleteRecursively(home.dir.resolve("work"));
        Files.createDirectories(home.tmp());
        Files.createDirectories(home.logs());
        brokerProcess = new KafkaBrokerProcess(home, ProcessClasspath.resolve(home, "kafka"));
        int port = ClusterHome.freePort(9193, 9292);
        broker = brokerProcess.start(port, ClusterHome.freePort());
        String bootstrap = "localhost:" + port;
        KafkaBrokerProcess.awaitReady(bootstrap, broker, Duration.ofSeconds(120));
        kafka = KafkaEndpoint.plain(bootstrap);
        log("Kafka broker process (pid " + broker.pid() + ") at " + bootstrap + "; model " + model.getFileName());
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

    private static List<BehaviorEvent> events(long seed, int n) {
        SyntheticGenerator.Config cfg = new SyntheticGenerator.Config();
        cfg.seed = seed;
        List<BehaviorEvent> out = new ArrayList<>(n);
        new SyntheticGenerator(cfg).events(n).forEachRemaining(out::add);
        return out;
    }

    /** Valid events with one malformed record after every 100th. */
    private static List<FuzzCorpus.Entry> eventsWithMalformed(long seed, int n) {
        List<FuzzCorpus.Entry> out = new ArrayList<>();
        List<BehaviorEvent> ev = events(seed, n);
        for (int i = 0; i < ev.size(); i++) {
            BehaviorEvent e = ev.get(i);
            out.add(new FuzzCorpus.Entry(FuzzCorpus.Target.BEHAVIOR, e.userId.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    JsonCodec.behaviorEvent(e), e, "valid", null));
            if (i % 100 == 99) {
                out.add(new FuzzCorpus.Entry(FuzzCorpus.Target.BEHAVIOR, null,
                        ("{\"userId\":\"m" + i + "\",\"itemId\":\"1\",\"action\":\"teleport\",\"ts\":" + e.ts + "}")
                                .getBytes(java.nio.charset.StandardCharsets.UTF_8),
                        null, "unknown-action", "unknown action"));
            }
        }
        return out;
    }

    /** The broker process stopped (SIGTERM) while the job runs with open transactions, restarted 10 s later. */
    private ChaosScenario.Result brokerRestart(ChaosScenario s) throws Exception {
        s.startJob(Map.of());
        List<FuzzCorpus.Entry> all = eventsWithMalformed(31, 3_000);
        s.send(all.subList(0, 1_200), 300);
        s.pollFor(Duration.ofSeconds(1));
        long stoppedAt = System.currentTimeMillis();
        log("stopping the broker (pid " + broker.pid() + ") with lists in flight ...");
        broker.stop(Duration.ofSeconds(30));
        Thread.sleep(10_000);
        broker = brokerProcess.restart();
        KafkaBrokerProcess.awaitReady(kafka.bootstrapServers(), broker, Duration.ofSeconds(120));
        log("broker back (pid " + broker.pid() + ") after " + (System.currentTimeMillis() - stoppedAt) / 1000.0 + " s");
        s.send(all.subList(1_200, all.size()), 300);
        return s.finish(stoppedAt, -1, Duration.ofSeconds(300));
    }

    /** A fault injected (towerflow.testing.fail-at) at parse, mid-batch in the recommend operator, or in the sink. */
    private ChaosScenario.Result injected(ChaosScenario s, String point) throws Exception {
        Map.Entry<String, String> fault = ChaosScenario.failAt(point, 600);
        s.startJob(Map.of(fault.getKey(), fault.getValue()));
        s.send(eventsWithMalformed(37, 3_000), 400);
        long faultAt = s.failures().stream().mapToLong(f -> f.path("timestamp").asLong()).min().orElse(0);
        if (faultAt == 0) {
            s.pollFor(Duration.ofSeconds(5));
            faultAt = s.failures().stream().mapToLong(f -> f.path("timestamp").asLong()).min().orElse(0);
        }
        return s.finish(faultAt, 1, Duration.ofSeconds(180));
    }

    /**
     * Micro-batches of up to 512 events that wait up to 3 s, checkpoints every 200 ms and a
     * trickle of 200 events/s: every checkpoint barrier finds a half-full batch (flushed before the
     * barrier), and a fault mid-batch restores from one of those checkpoints.
     */
    private ChaosScenario.Result halfFullBatch(ChaosScenario s) throws Exception {
        Map.Entry<String, String> fault = ChaosScenario.failAt("recommend", 500);
        s.startJob(Map.of(
                RecommendOptions.BATCH_MAX_SIZE.key(), "512",
                RecommendOptions.BATCH_MAX_WAIT.key(), "3s",
                "execution.checkpointing.interval", "200ms",
                fault.getKey(), fault.getValue()));
        s.send(eventsWithMalformed(41, 1_500), 200);
        long faultAt = s.failures().stream().mapToLong(f -> f.path("timestamp").asLong()).min().orElse(0);
        ChaosScenario.Result r = s.finish(faultAt, 1, Duration.ofSeconds(180));
        log("checkpoints completed: " + s.checkpointsCompleted());
        return r;
    }

    /** Junk on model-updates and item-catalog while events flow: dead letters, no restart. */
    private ChaosScenario.Result controlJunk(ChaosScenario s) throws Exception {
        SyntheticGenerator.Config cfg = new SyntheticGenerator.Config();
        cfg.seed = 43;
        List<FuzzCorpus.Entry> mixed = FuzzCorpus.generate(cfg, 2_000, 600, 43, false).stream()
                .filter(e -> !e.bad() || e.target() != FuzzCorpus.Target.BEHAVIOR).toList();
        s.startJob(Map.of());
        s.send(mixed, 400);
        return s.finish(0, 0, Duration.ofSeconds(180));
    }

    /** The fuzzing corpus: 10,000 bad records (a 10 MB one included) among 10,000 valid events. */
    private ChaosScenario.Result fuzz(ChaosScenario s) throws Exception {
        SyntheticGenerator.Config cfg = new SyntheticGenerator.Config();
        cfg.seed = 47;
        int valid = fuzzValid;
        int bad = fuzzBad;
        s.startJob(Map.of());
        s.send(FuzzCorpus.generate(cfg, valid, bad, 47, true), 0);
        ChaosScenario.Result r = s.finish(0, 0, Duration.ofSeconds(600));
        long metric = s.numRestarts();
        if (metric != 0) {
            List<String> p = new ArrayList<>(r.problems());
            p.add("numRestarts metric " + metric + ", expected 0");
            return new ChaosScenario.Result(r.name(), r.eventsIn(), r.lists(), r.deadLetters(), r.lost(), r.duplicated(),
                    r.recoverySeconds(), r.restarts(), p);
        }
        log("numRestarts metric: 0");
        return r;
    }
}
