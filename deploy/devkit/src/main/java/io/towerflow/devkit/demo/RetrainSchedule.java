package io.towerflow.devkit.demo;

import io.towerflow.config.KafkaEndpoint;
import io.towerflow.config.RetrainOptions;
import io.towerflow.records.JsonCodec;
import io.towerflow.retrain.ProgressLog;
import io.towerflow.retrain.RetrainJob;
import io.towerflow.retrain.RetrainRound;

import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.flink.configuration.Configuration;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The demo's closed loop ({@code --retrain-every D}): a retraining round ({@link RetrainRound}, what
 * RetrainJob runs) every D on the job's own feedback, into a model root of the demo's seeded with
 * the serving version; what a round promotes is published on model-updates and the running job
 * swaps it in. Each round's summary is kept, with when it started and ended, for the demo's.
 */
final class RetrainSchedule implements AutoCloseable {
    private final ScheduledExecutorService scheduler;
    private final List<ObjectNode> rounds = new CopyOnWriteArrayList<>();

    /**
     * Seeds {@code root} with {@code serving}, publishes it (rounds warm-start from the highest
     * version on model-updates, else the highest under the model root: on a fresh broker they
     * would otherwise start from a version an earlier demo left in the work directory) and
     * schedules the rounds, the first one {@code every} from now.
     *
     * @param retrainOptions {@code towerflow.retrain.*} options for the rounds (margin, epochs, …)
     */
    static RetrainSchedule start(KafkaEndpoint kafka, Path serving, Path root, Duration every,
            Map<String, String> retrainOptions, Consumer<String> log) throws Exception {
        Path seeded = root.resolve(serving.getFileName());
        if (!Files.exists(seeded)) {
            Files.createDirectories(seeded);
            try (Stream<Path> files = Files.list(serving)) {
                for (Path f : files.toList()) {
                    Files.copy(f, seeded.resolve(f.getFileName()));
                }
            }
        }
        Configuration conf = Configuration.fromMap(kafka.asOptions());
        conf.set(RetrainOptions.MODEL_ROOT, root.toString());
        retrainOptions.forEach(conf::setString);
        ProgressLog progress = new ProgressLog(System.out, System.err, Clock.systemUTC());
        RetrainJob.publish(conf, seeded, false, progress);
        log.accept("retraining every " + every + " into " + root);
        return new RetrainSchedule(conf, every, progress, log);
    }

    private RetrainSchedule(Configuration conf, Duration every, ProgressLog progress, Consumer<String> log) {
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "towerflow-demo-retrain");
            t.setDaemon(true);
            return t;
        });
        scheduler.scheduleWithFixedDelay(() -> {
            log.accept("retrain round starts");
            ObjectNode round = JsonCodec.mapper().createObjectNode();
            round.put("startedAt", System.currentTimeMillis());
            int exit = 0;
            try {
                RetrainRound.Result r = RetrainRound.run(conf, Clock.systemUTC(), progress);
                round.set("summary", RetrainJob.summary(r));
                log.accept("retrain round ended: " + r.reason());
            } catch (Exception e) {
                exit = 1;
                log.accept("retrain round failed: " + e);
            }
            round.put("endedAt", System.currentTimeMillis());
            round.put("exit", exit);
            rounds.add(round);
        }, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** What each round did so far: {@code startedAt}, {@code endedAt}, {@code exit}, {@code summary}. */
    List<ObjectNode> rounds() {
        return rounds;
    }

    /** No new rounds; one under way may finish (two minutes at most). */
    @Override
    public void close() throws InterruptedException {
        if (!scheduler.isTerminated()) {
            scheduler.shutdown();
            if (!scheduler.awaitTermination(120, TimeUnit.SECONDS)) {
                scheduler.shutdownNow();
            }
        }
    }
}
