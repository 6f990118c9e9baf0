package io.towerflow.devkit.cluster;

import io.towerflow.config.KafkaEndpoint;
import io.towerflow.config.KafkaOptions;
import io.towerflow.config.RecommendOptions;
import io.towerflow.job.RecommendationJob;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.JsonCodec;
import io.towerflow.synthetic.SyntheticGenerator;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The unattended end-to-end check of the real cluster ({@code towerflow cluster smoke}):
 *
 * <ol>
 *   <li>up (broker, JobManager, one TaskManager) and submit RecommendationJob at parallelism 2;
 *   <li>feed a first third of the events; once lists are committed, {@code kill -9} the
 *       TaskManager and start a new one while the second third is fed; recovery is the time from
 *       the kill until the first list of an event sent after the kill is committed;
 *   <li>upgrade: stop-with-savepoint and submit the job jar again from that savepoint at
 *       parallelism 4 — in the same TaskManager, so a second job's classloader meets libtorch
 *       already loaded by the first (DJL is in lib/) — and feed the last third; lists of events
 *       sent after the resubmission show it scores again;
 *   <li>the new TaskManager's Prometheus endpoint exposes the operator's lists-emitted counter;
 *   <li>stop with a savepoint, read everything committed with a {@code read_committed} consumer
 *       and check: exactly one list per valid event and one dead letter per malformed record,
 *       and no list recommends an item of the user's history (state survived crash and rescale);
 *   <li>down, always.
 * </ol>
 */
final class ClusterSmoke {
    static final int DEFAULT_EVENTS = 6_000;
    static final double DEFAULT_RATE = 500;
    int events = DEFAULT_EVENTS;
    double rate = DEFAULT_RATE;
    int malformedEvery = 500;
    int parallelism = 2;
    int upgradeParallelism = 4;
    String checkpointInterval = "1 s";
    Path summaryJson;

    private final LocalCluster cluster;
    private final ObjectNode summary = JsonCodec.mapper().createObjectNode();

    ClusterSmoke(LocalCluster cluster) {
        this.cluster = cluster;
    }

    /** Runs the whole scenario; returns the exit code (0 only if nothing was lost or duplicated). */
    int run() throws Exception {
        long t0 = System.currentTimeMillis();
        Thread teardown = new Thread(this::down, "cluster-smoke-teardown");
        Runtime.getRuntime().addShutdownHook(teardown);
        ExecutorService background = Executors.newSingleThreadExecutor();
        try {
            LocalCluster.Settings s = new LocalCluster.Settings();
            s.slots = upgradeParallelism;
            s.checkpointInterval = checkpointInterval;
            cluster.up(s);
            return scenario(background, t0);
        } catch (Exception | Error e) {
            cluster.log("smoke failed: " + e);
            summary.put("ok", false);
            summary.put("error", String.valueOf(e.getMessage()));
            write(summary);
            throw e;
        } finally {
            background.shutdownNow();
            down();
            Runtime.getRuntime().removeShutdownHook(teardown);
        }
    }

    private int scenario(ExecutorService background, long t0) throws Exception {
        String jobId = cluster.submit(parallelism, null, List.of());
        FlinkRest api = cluster.rest();

        SyntheticGenerator.Config cfg = new SyntheticGenerator.Config();
        cfg.seed = 2025;
        cfg.startTs = System.currentTimeMillis();
        List<EventFeeder.Item> items = EventFeeder.synthetic(cfg, events, malformedEvery);
        List<BehaviorEvent> valid = items.stream().map(EventFeeder.Item::event).filter(Objects::nonNull).collect(Collectors.toList());
        int third = items.size() / 3;
        List<List<EventFeeder.Item>> segments = List.of(
                items.subList(0, third), items.subList(third, 2 * third), items.subList(2 * third, items.size()));

        try (EventFeeder feeder = new EventFeeder(KafkaEndpoint.plain(cluster.bootstrapServers()), KafkaOptions.BEHAVIOR_TOPIC.defaultValue());
                OutputLedger ledger = new OutputLedger(KafkaEndpoint.plain(cluster.bootstrapServers()),
                        KafkaOptions.RECOMMENDATIONS_TOPIC.defaultValue(), KafkaOptions.DLQ_TOPIC.defaultValue())) {
            // 1. a third of the events; wait until a checkpoint has committed lists
            feeder.send(segments.get(0), rate);
            await("the first committed lists", Duration.ofSeconds(120), ledger, () -> ledger.lists() > 0);
            cluster.log(String.format("sent %,d records, %,d lists committed so far", feeder.sent(), ledger.lists()));

            // 2. kill -9 the TaskManager mid-stream, start a new one, keep feeding
            Set<String> before = api.taskManagersOf(jobId);
            Daemon victim = new Daemon(cluster.home, before.iterator().next());
            long victimPid = victim.pid();
            long killedAt = System.currentTimeMillis();
            boolean killed = victim.kill9();
            cluster.log("kill -9 " + victim.name + " (pid " + victimPid + ")");
            Daemon replacement = cluster.startTaskManager();
            Future<?> second = background.submit(() -> {
                feeder.send(segments.get(1), rate);
                return null;
            });
            cluster.awaitTaskManagers(List.of(replacement));
            cluster.log(replacement.name + " registered");
            await("a list of an event sent after the kill", Duration.ofSeconds(180), ledger,
                    () -> ledger.firstReceived(k -> feeder.sentAtMs(k) > killedAt).isPresent());
            double recoverySeconds = (ledger.firstReceived(k -> feeder.sentAtMs(k) > killedAt).getAsLong() - killedAt) / 1000.0;
            cluster.log(String.format("recovered: first list of a post-kill event committed %.1f s after the kill", recoverySeconds));
            second.get(5, TimeUnit.MINUTES);

            // 3. upgrade through a savepoint, rescaled, in the same TaskManager
            Set<String> tmsBefore = api.taskManagersOf(jobId);
            String upgraded = cluster.upgrade(upgradeParallelism, List.of());
            long resubmittedAt = System.currentTimeMillis();
            Set<String> tmsAfter = api.taskManagersOf(upgraded);
            String savepoint = cluster.home.state().getProperty("savepoint.last");
            Future<?> lastThird = background.submit(() -> {
                feeder.send(segments.get(2), rate);
                return null;
            });
            await("a list of an event sent after the resubmission", Duration.ofSeconds(180), ledger,
                    () -> ledger.firstReceived(k -> feeder.sentAtMs(k) > resubmittedAt).isPresent());
            boolean sameTaskManager = tmsBefore.equals(tmsAfter);
            cluster.log("resubmitted job " + upgraded + " scores again on " + tmsAfter
                    + (sameTaskManager ? " (the TaskManager the previous job ran in)" : " (previous job ran on " + tmsBefore + ")"));
            lastThird.get(5, TimeUnit.MINUTES);
            long prometheusSeries = prometheusSeries(tmsAfter.iterator().next(), "recommendationsEmitted");

            // 4. everything in, then stop (the savepoint commits the last transactions) and read to the end
            long malformed = items.size() - valid.size();
            awaitProgress(ledger, valid.size(), malformed);
            cluster.stopWithSavepoint();
            ledger.readToEnd(Duration.ofSeconds(60));
            OutputLedger.Verdict v = ledger.verify(valid, malformed, RecommendOptions.HISTORY_LENGTH.defaultValue());

            summary.put("eventsIn", feeder.sent());
            summary.put("validEvents", v.expected());
            summary.put("listsOut", v.received());
            summary.put("lost", v.lost() + v.deadLettersLost());
            summary.put("duplicated", v.duplicated() + v.deadLettersDuplicated());
            summary.put("malformed", v.deadLettersExpected());
            summary.put("deadLetters", v.deadLetters());
            summary.put("seenItemsRecommended", v.seenItemsRecommended());
            summary.put("taskManagerKilled", killed);
            summary.put("recoverySeconds", Math.round(recoverySeconds * 10) / 10.0);
            summary.put("restartedInSameTaskManager", sameTaskManager);
            ObjectNode up = summary.putObject("upgrade");
            up.put("savepoint", savepoint);
            up.put("fromParallelism", parallelism);
            up.put("toParallelism", upgradeParallelism);
            up.put("taskManagers", String.join(",", tmsAfter));
            summary.put("prometheusRecommendationSeries", prometheusSeries);
            summary.put("checkpointInterval", checkpointInterval);
            summary.put("wallSeconds", Math.round((System.currentTimeMillis() - t0) / 100.0) / 10.0);
            v.examples().forEach(e -> cluster.log("  " + e));
            boolean ok = v.exact() && killed && sameTaskManager && v.seenItemsRecommended() == 0 && prometheusSeries > 0;
            summary.put("ok", ok);
            write(summary);
            return ok ? 0 : 1;
        }
    }

    /**
     * The Prometheus series of a TaskManager whose name contains {@code metric}, as a scraper
     * reads them from {@code http://localhost:<port>/metrics} (one per running subtask).
     */
    private long prometheusSeries(String taskManager, String metric) throws Exception {
        String port = cluster.home.state().getProperty("prometheus.port." + taskManager);
        java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://localhost:" + port + "/metrics")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        long n = r.body().lines().filter(l -> !l.startsWith("#") && l.contains(metric)).count();
        cluster.log(taskManager + " exposes " + n + " Prometheus series of " + metric + " on port " + port);
        return n;
    }

    /** Waits until every list and dead letter is in, or until the output stops growing for 60 s. */
    private void awaitProgress(OutputLedger ledger, long lists, long deadLetters) {
        long last = -1;
        long lastChange = System.nanoTime();
        while (ledger.lists() < lists || ledger.deadLetters() < deadLetters) {
            ledger.poll(Duration.ofMillis(200));
            long now = ledger.lists() + ledger.deadLetters();
            if (now != last) {
                last = now;
                lastChange = System.nanoTime();
            } else if (System.nanoTime() - lastChange > TimeUnit.SECONDS.toNanos(60)) {
                cluster.log(String.format("output stopped growing at %,d of %,d lists, %,d of %,d dead letters",
                        ledger.lists(), lists, ledger.deadLetters(), deadLetters));
                return;
            }
        }
        cluster.log(String.format("all %,d lists and %,d dead letters committed", lists, deadLetters));
    }

    private static void await(String what, Duration timeout, OutputLedger ledger, java.util.function.BooleanSupplier done) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            }
            ledger.poll(Duration.ofMillis(200));
        }
    }

    private void write(ObjectNode summary) throws java.io.IOException {
        String json = JsonCodec.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(summary);
        cluster.log("summary " + json.replaceAll("\\s+", " "));
        if (summaryJson != null) {
            if (summaryJson.toAbsolutePath().getParent() != null) {
                Files.createDirectories(summaryJson.toAbsolutePath().getParent());
            }
            Files.writeString(summaryJson, json + "\n");
            cluster.log("wrote " + summaryJson.toAbsolutePath());
        }
    }

    private void down() {
        List<String> stopped = cluster.down();
        if (!stopped.isEmpty()) {
            cluster.log("down: stopped " + String.join(", ", stopped));
        }
    }

}
