package io.towerflow.retrain;

import io.towerflow.config.KafkaEndpoint;
import io.towerflow.config.KafkaOptions;
import io.towerflow.config.ModelUpdateOptions;
import io.towerflow.config.RetrainOptions;
import io.towerflow.model.Evaluation;
import io.towerflow.model.InvalidModelException;
import io.towerflow.model.ItemCatalogue;
import io.towerflow.model.ModelArtifacts;
import io.towerflow.model.ModelManifest;
import io.towerflow.model.ServingModel;
import io.towerflow.model.TrainingExamples;
import io.towerflow.model.TwoTowerModel;
import io.towerflow.model.TwoTowerTrainer;
import io.towerflow.operators.ModelStore;
import io.towerflow.records.ModelUpdate;

import ai.djl.Device;

import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * One retraining round: find the serving version, read a window of feedback, hold out its newest
 * slice by event time, warm-start from the serving version and train on the rest, compare both on
 * the held-out slice over the same candidate items, and promote the candidate iff its HR@K is at
 * least the serving version's minus the margin: write {@code <model-root>/<version>/} (atomically,
 * by {@link ModelArtifacts#write}) and publish its {@link ModelUpdate}. A window read from the
 * consumer group's offsets is committed afterwards, up to where its held-out slice begins.
 */
public final class RetrainRound {
    private RetrainRound() {}

    /** What a round did; {@code candidateVersion} is null when there was nothing to train. */
    public record Result(
            String servingVersion,
            String candidateVersion,
            boolean promoted,
            boolean published,
            boolean dryRun,
            String reason,
            Records records,
            ModelManifest.TrainingWindow window,
            int heldOutExamples,
            long heldOutFromTs,
            int k,
            double currentHitRate,
            double candidateHitRate,
            double margin,
            double trainSeconds,
            Path versionDir,
            ModelUpdate update,
            Map<TopicPartition, OffsetAndMetadata> committed) {}

    /** What reading the window saw: records read, and those passed over by kind. */
    public record Records(long read, long notFeedback, long unusable, long outsideBounds) {
        static Records of(FeedbackWindow w) {
            return new Records(w.records(), w.unparseable(), w.refused(), w.outside());
        }
    }

    /** Runs the round; throws when it fails (nothing is published or committed then). */
    public static Result run(Configuration conf, Clock clock, ProgressLog log) throws Exception {
        conf.getOptional(KafkaOptions.BOOTSTRAP_SERVERS).orElseThrow(
                () -> new IllegalArgumentException(KafkaOptions.BOOTSTRAP_SERVERS.key() + " is required"));
        KafkaEndpoint bootstrap = KafkaEndpoint.of(conf);
        Path root = Paths.get(conf.get(RetrainOptions.MODEL_ROOT));
        Duration timeout = conf.get(RetrainOptions.READ_TIMEOUT);
        boolean dryRun = conf.get(RetrainOptions.DRY_RUN);
        int k = conf.get(RetrainOptions.EVAL_K);
        double margin = conf.get(RetrainOptions.MARGIN);

        Serving found = serving(conf, bootstrap, root, timeout, log);
        ModelArtifacts serving = found.artifacts();
        String servingVersion = serving.manifest().version();

        FeedbackWindow.Bounds bounds = bounds(conf);
        String groupId = conf.get(RetrainOptions.GROUP_ID);
        TrainingExamples.FeedbackBuilder builder =
                new TrainingExamples.FeedbackBuilder(serving.manifest().config().historyLength());
        FeedbackWindow w = FeedbackWindow.read(bootstrap, conf.get(KafkaOptions.FEEDBACK_TOPIC),
                bounds.fromGroup() ? groupId : null, bounds, timeout, builder::add, log);
        TrainingExamples all = builder.build();
        ModelManifest.TrainingWindow window = all.window();
        log.info("window: %,d records in %.1f s -> %,d examples (%,d not feedback, %,d unusable, %,d outside the "
                        + "time bounds), event time %s .. %s",
                w.records(), w.seconds(), all.size(), w.unparseable(), w.refused(), w.outside(),
                all.size() == 0 ? "-" : Instant.ofEpochMilli(window.fromTs()),
                all.size() == 0 ? "-" : Instant.ofEpochMilli(window.toTs()));

        int minExamples = conf.get(RetrainOptions.MIN_EXAMPLES);
        if (all.size() < minExamples) {
            return skipped(servingVersion, dryRun, Records.of(w), window, k, margin, String.format(Locale.ROOT,
                    "only %d examples in the window (min-examples %d); offsets not committed",
                    all.size(), minExamples));
        }
        long cut = all.newestCut(conf.get(RetrainOptions.HELD_OUT_FRACTION));
        if (cut == Long.MAX_VALUE) {
            return skipped(servingVersion, dryRun, Records.of(w), window, k, margin,
                    "all examples share one event time: nothing to hold out; offsets not committed");
        }
        TrainingExamples.Split split = all.splitAt(cut);
        TrainingExamples train = split.train();
        TrainingExamples heldOut = split.heldOut();
        // the same candidates for both: the serving catalogue plus every item acted on in the window
        // (held-out items add no popularity to the evaluation, but their counts go into the version)
        ItemCatalogue trained = serving.catalogue().plus(train.catalogue());
        ItemCatalogue evalCatalogue = trained.plus(heldOut.catalogue().withoutCounts());
        ItemCatalogue catalogue = trained.plus(heldOut.catalogue());
        log.info("held out %,d examples from %s on, training on %,d; catalogue %,d items (%,d new)",
                heldOut.size(), Instant.ofEpochMilli(cut), train.size(), catalogue.size(),
                catalogue.size() - serving.catalogue().size());

        List<Evaluation.HeldOut> pairs = Evaluation.heldOut(heldOut);
        String candidateVersion = ModelVersions.next(clock.instant(), found.taken());
        try (TwoTowerModel model = serving.loadModel(Device.cpu())) {
            Evaluation.HitRates current;
            try (ServingModel s = ServingModel.ofUnsaved(servingVersion, model, evalCatalogue, serving.manifest().repeat())) {
                current = Evaluation.hitRates(s, pairs, k);
            }
            log.info("serving %s on the held-out slice: %s", servingVersion, current);

            TwoTowerTrainer.Options options = RetrainOptions.recipe(conf).trainerOptions().withProgress(log.out(), 100);
            TwoTowerTrainer.Result result = new TwoTowerTrainer(model, options).fit(train);
            log.info("trained %s from %s: %d steps, %,d examples in %.1f s (%.0f examples/s), loss %.4f -> %.4f",
                    candidateVersion, servingVersion, result.steps(), result.examples(), result.seconds(),
                    result.examplesPerSecond(), result.firstLoss(), result.lastLoss());

            Evaluation.HitRates candidate;
            try (ServingModel s = ServingModel.ofUnsaved(candidateVersion, model, evalCatalogue, serving.manifest().repeat())) {
                candidate = Evaluation.hitRates(s, pairs, k);
            }
            log.info("candidate %s on the held-out slice: %s", candidateVersion, candidate);

            boolean promoted = candidate.model() >= current.model() - margin;
            String rule = String.format(Locale.ROOT, "candidate HR@%d %.4f %s serving %.4f - margin %.4f",
                    k, candidate.model(), promoted ? ">=" : "<", current.model(), margin);
            Path dir = null;
            ModelUpdate update = null;
            String reason;
            if (!promoted) {
                reason = "not promoted: " + rule + "; nothing written or published";
            } else if (dryRun) {
                reason = "dry run: would promote (" + rule + "); nothing written or published";
            } else {
                ModelManifest manifest = new ModelManifest(candidateVersion, servingVersion,
                        clock.instant().truncatedTo(ChronoUnit.SECONDS).toString(),
                        serving.manifest().config(), train.window(),
                        metrics(k, current, candidate, heldOut.size(), cut, window, result, margin), Map.of(),
                        serving.manifest().repeat());
                dir = ModelArtifacts.write(root, manifest, model, catalogue);
                update = ModelUpdates.of(dir).update(); // loads and verifies what was written
                log.info("wrote %s (%d KiB of parameters, %,d items)", dir,
                        Files.size(dir.resolve(ModelArtifacts.PARAMETERS)) / 1024, catalogue.size());
                reason = "promoted: " + rule;
            }
            boolean published = false;
            if (update != null) {
                String topic = conf.get(KafkaOptions.MODEL_UPDATES_TOPIC);
                try {
                    ModelStore.signIfSet(dir, conf.get(ModelUpdateOptions.SIGNING_SECRET));
                    var md = ModelUpdates.publish(bootstrap, topic, update, timeout);
                    published = true;
                    log.info("published %s to %s-%d@%d", update, md.topic(), md.partition(), md.offset());
                } catch (Exception e) {
                    throw new IllegalStateException("wrote " + dir + " but could not publish it to " + topic
                            + " (publish it with --publish " + dir + ", or delete it): " + e, e);
                }
            }
            Map<TopicPartition, OffsetAndMetadata> committed = Map.of();
            if (!dryRun && bounds.fromGroup()) {
                committed = w.commitPositions(cut);
                FeedbackWindow.commit(bootstrap, groupId, committed, timeout);
                log.info("committed %s for group %s (the held-out slice is trained on next time)",
                        FeedbackWindow.compact(offsets(committed)), groupId);
            }
            return new Result(servingVersion, candidateVersion, promoted, published, dryRun, reason, Records.of(w),
                    window,
                    heldOut.size(), cut, k, current.model(), candidate.model(), margin, result.seconds(), dir,
                    update, committed);
        }
    }

    private static Result skipped(String servingVersion, boolean dryRun, Records records,
            ModelManifest.TrainingWindow window, int k, double margin, String why) {
        return new Result(servingVersion, null, false, false, dryRun, "not retrained: " + why, records, window, 0, 0, k,
                Double.NaN, Double.NaN, margin, 0, null, null, Map.of());
    }

    /** The serving version and every version name a new one must sort after. */
    private record Serving(ModelArtifacts artifacts, Set<String> taken) {}

    /**
     * The job's model store when this round is given one (towerflow.model.allowed-roots, and the
     * signing secret if set): then only versions the job would take count as serving. Without
     * allowed roots, none: any version on model-updates that verifies.
     */
    static ModelStore store(Configuration conf) {
        return conf.getOptional(ModelUpdateOptions.ALLOWED_ROOTS)
                .map(roots -> new ModelStore(roots, conf.get(ModelUpdateOptions.SIGNING_SECRET)))
                .orElse(null);
    }

    /**
     * The version to start from: --serving; else what the job serves, the highest valid version
     * on model-updates; else the highest valid version under the root. A new version must sort
     * after all of these and after every version published or under the root, or the job would
     * not take it.
     */
    private static Serving serving(Configuration conf, KafkaEndpoint bootstrap, Path root, Duration timeout,
            ProgressLog log) throws Exception {
        String topic = conf.get(KafkaOptions.MODEL_UPDATES_TOPIC);
        List<ModelUpdates.Published> published = ModelUpdates.readAll(bootstrap, topic, timeout, log);
        Set<String> taken = new TreeSet<>(ModelVersions.names(root));
        published.forEach(p -> taken.add(p.update().version));
        ModelArtifacts a;
        if (conf.getOptional(RetrainOptions.SERVING).isPresent()) {
            Path dir = Paths.get(conf.get(RetrainOptions.SERVING));
            a = ModelArtifacts.load(dir);
            log.info("serving version %s (given: %s)", a.manifest().version(), dir);
        } else {
            var update = ModelUpdates.highestValid(published, store(conf), log);
            if (update.isPresent()) {
                a = update.get().artifacts();
                log.info("serving version %s (highest valid of %d updates on %s: %s)",
                        a.manifest().version(), published.size(), topic, a.dir());
            } else {
                a = ModelVersions.newestValid(root, log).orElseThrow(() -> new InvalidModelException(
                        "no version to start from: no valid update on " + topic + ", no valid version under "
                                + root + " (give one with --serving DIR)"));
                log.info("serving version %s (highest under %s; none on %s)", a.manifest().version(), root, topic);
            }
        }
        taken.add(a.manifest().version());
        return new Serving(a, taken);
    }

    /** The window's bounds from the options. */
    public static FeedbackWindow.Bounds bounds(Configuration conf) {
        return new FeedbackWindow.Bounds(conf.get(RetrainOptions.FROM_OFFSETS),
                conf.getOptional(RetrainOptions.FROM_TS).map(v -> instant(RetrainOptions.FROM_TS.key(), v)).orElse(null),
                conf.getOptional(RetrainOptions.TO_TS).map(v -> instant(RetrainOptions.TO_TS.key(), v)).orElse(null));
    }

    /** Epoch ms, or an ISO-8601 instant such as {@code 2026-11-23T04:00:00Z}. */
    static long instant(String key, String v) {
        String s = v.trim();
        try {
            return s.chars().allMatch(Character::isDigit) ? Long.parseLong(s) : Instant.parse(s).toEpochMilli();
        } catch (NumberFormatException | DateTimeParseException e) {
            throw new IllegalArgumentException(key + " must be epoch ms or an ISO-8601 instant, got " + v);
        }
    }

    private static Map<String, Double> metrics(int k, Evaluation.HitRates current, Evaluation.HitRates candidate,
            int heldOut, long cut, ModelManifest.TrainingWindow window, TwoTowerTrainer.Result result, double margin) {
        Map<String, Double> m = new LinkedHashMap<>();
        String hr = "heldOut.hr@" + k;
        m.put(hr + ".model", candidate.model());
        m.put(hr + ".current", current.model());
        m.put(hr + ".random", candidate.random());
        m.put(hr + ".popularity", candidate.popularity());
        m.put("heldOut.queries", (double) heldOut);
        m.put("heldOut.fromTs", (double) cut);
        m.put("window.fromTs", (double) window.fromTs());
        m.put("window.toTs", (double) window.toTs());
        m.put("window.examples", (double) window.events());
        m.put("train.examples", (double) result.examples());
        m.put("train.epochs", (double) result.epochs());
        m.put("train.firstLoss", result.firstLoss());
        m.put("train.lastLoss", result.lastLoss());
        m.put("train.seconds", result.seconds());
        m.put("train.examplesPerSecond", result.examplesPerSecond());
        m.put("promotion.margin", margin);
        m.values().removeIf(v -> v.isNaN());
        return m;
    }

    private static Map<TopicPartition, Long> offsets(Map<TopicPartition, OffsetAndMetadata> m) {
        Map<TopicPartition, Long> out = new LinkedHashMap<>();
        m.forEach((tp, om) -> out.put(tp, om.offset()));
        return out;
    }
}
