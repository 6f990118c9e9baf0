package io.towerflow.devkit;

import io.towerflow.eval.EventFiles;
import io.towerflow.model.Evaluation;
import io.towerflow.model.IdHashing;
import io.towerflow.model.InvalidModelException;
import io.towerflow.model.ItemCatalogue;
import io.towerflow.model.ModelArtifacts;
import io.towerflow.model.ModelConfig;
import io.towerflow.model.ModelManifest;
import io.towerflow.model.RepeatBoost;
import io.towerflow.model.RepeatBoostFit;
import io.towerflow.model.SequenceTowerConfig;
import io.towerflow.model.ServingModel;
import io.towerflow.model.TrainingExamples;
import io.towerflow.model.TwoTowerModel;
import io.towerflow.model.TwoTowerTrainer;
import io.towerflow.operators.DjlRuntime;
import io.towerflow.synthetic.SyntheticGenerator;

import ai.djl.Device;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Trains a two-tower model version offline and writes it to {@code model-artifacts/<version>/}.
 *
 * <pre>
 * TrainCommand (--events FILE | --synthetic) [--out model-artifacts] [--version NAME]
 *              [--parent DIR] [--epochs 8] [--validation-users 2000] [--validation-events 5]
 *              [--batch-size 512]
 *              [--seed 42] [--max-events N]
 *              [--summary-json FILE] [--eval-k 20] [--learning-rate 0.002]
 *              [--embedding-learning-rate 0.02] [--logq streaming|counts|none]
 *              [--schedule constant|cosine] [--uniform-negatives 2048] [--threads 1]
 *              [--item-buckets N] [--category-buckets N] [--user-buckets N] [--history-length N]
 *              [--recent-half-life EVENTS] [--recency-half-life-ms MS] [--temperature T]
 *              [--repeat-boost fit|none|WEIGHT:HALF_LIFE]
 *              [--synthetic-users N] [--synthetic-items N] [--synthetic-categories N]
 * </pre>
 *
 * Events come from a file ({@link EventFiles}: Taobao UserBehavior CSV, JSON lines or MovieLens
 * ratings; bad lines are counted and skipped) or from {@link SyntheticGenerator} (--max-events,
 * default 200,000). The last event of every user with history is held out; the model trains on
 * the rest and its held-out HR@K against a random ranking and popularity goes into the manifest's
 * metrics and the summary. {@code --parent} warm-starts from an existing version (its
 * configuration is kept). Exit status 0 on success, 2 on bad usage, 1 on failure.
 *
 * <p>{@link EvaluateCommand} shares the training options ({@link Options}) and steps.
 */
public final class TrainCommand {
    /** The options every training command takes. */
    static final String TRAINING_USAGE =
            "(--events FILE | --synthetic) [--out DIR] [--version NAME] [--parent DIR]"
                    + " [--epochs MAX] [--validation-users N] [--validation-events N] [--patience N] [--batch-size N] [--seed N] [--max-events N]"
                    + " [--summary-json FILE]"
                    + " [--learning-rate X] [--embedding-learning-rate X] [--logq streaming|counts|none]"
                    + " [--schedule constant|cosine] [--uniform-negatives N]"
                    + " [--threads N] [--item-buckets N] [--category-buckets N] [--user-buckets N]"
                    + " [--embedding-weight-decay X] [--dim N] [--embedding-dim N] [--hidden N]"
                    + " [--history-length N] [--recent-half-life EVENTS] [--recency-half-life-ms MS] [--temperature T]"
                    + " [--repeat-boost fit|none|WEIGHT:HALF_LIFE]"
                    + " [--user-tower pooled|sequence] [--sequence-layers N] [--sequence-heads N] [--sequence-dropout X]"
                    + " [--sequence-training per-event|all-positions]"
                    + " [--synthetic-users N] [--synthetic-items N] [--synthetic-categories N]";
    static final String USAGE = "usage: TrainCommand " + TRAINING_USAGE + " [--eval-k N]";
    static final long DEFAULT_SYNTHETIC_EVENTS = 200_000;

    private TrainCommand() {}

    /** The training options, shared with {@link EvaluateCommand}. */
    static final class Options {
        static final Set<String> VALUE_OPTIONS = Set.of(
                "--events", "--out", "--version", "--parent", "--epochs", "--batch-size", "--seed",
                "--max-events", "--summary-json", "--learning-rate", "--embedding-learning-rate",
                "--logq", "--schedule", "--uniform-negatives", "--validation-users", "--validation-events", "--patience", "--threads", "--item-buckets", "--category-buckets", "--user-buckets",
                "--embedding-weight-decay", "--dim", "--embedding-dim", "--hidden",
                "--history-length", "--recent-half-life", "--recency-half-life-ms", "--temperature",
                "--repeat-boost", "--synthetic-users", "--synthetic-items", "--synthetic-categories",
                "--user-tower", "--sequence-layers", "--sequence-heads", "--sequence-dropout",
                "--sequence-training");

        Path events;
        boolean synthetic;
        Path out = Paths.get("model-artifacts");
        boolean outGiven;
        String version;
        Path parent;
        /** The most epochs; with validation users, training stops at the first that does not improve. */
        int epochs = 8;
        int validationUsers = 2_000;
        /** Each validation user's last this many training events are held out (as the evaluation's 5). */
        int validationEvents = 5;
        /** Early stopping ends training after this many epochs in a row that do not beat the best. */
        int patience = 1;
        int batchSize = 512;
        long seed = 42;
        long maxEvents = -1;
        Path summaryJson;
        int evalK = 20;
        float learningRate = TwoTowerTrainer.Options.defaults().learningRate();
        float embeddingLearningRate = TwoTowerTrainer.Options.defaults().embeddingLearningRate();
        float embeddingWeightDecay = TwoTowerTrainer.Options.defaults().embeddingWeightDecay();
        TwoTowerTrainer.LogQ logQ = TwoTowerTrainer.Options.defaults().logQ();
        TwoTowerTrainer.Schedule schedule = TwoTowerTrainer.Options.defaults().schedule();
        /**
         * Uniformly drawn extra negatives per step (mixed negative sampling); 0 = in-batch only.
         * 0 / 512 / 2048 gave HR@20 0.254 / 0.282 / 0.311 on 1M × 1M (docs/model.md).
         */
        int uniformNegatives = 2048;
        /** Intra-op threads of libtorch; 1 measured fastest on 2 cores (the step's Java half competes). */
        int threads = 1;
        Integer itemBuckets;
        Integer categoryBuckets;
        Integer userBuckets;
        Integer dim;
        Integer embeddingDim;
        Integer hidden;
        Integer historyLength;
        Double recentHalfLife;
        Long recencyHalfLifeMs;
        Double temperature;
        /** {@code pooled} or {@code sequence} (ModelConfig#userTower); null keeps the default (pooled). */
        String userTower;
        SequenceTowerConfig sequence = SequenceTowerConfig.DEFAULTS;
        /** Sequence tower: every position of a window in one causal pass, or one pass per example. */
        boolean allPositions = TwoTowerTrainer.Options.defaults().allPositions();
        /** Fit a {@link RepeatBoost} on the validation users after training (docs/model.md). */
        boolean fitRepeatBoost = true;
        /** A given boost instead ({@code --repeat-boost none} gives {@link RepeatBoost#NONE}). */
        RepeatBoost repeatBoost;
        int syntheticUsers = new SyntheticGenerator.Config().users;
        int syntheticItems = new SyntheticGenerator.Config().items;
        int syntheticCategories = new SyntheticGenerator.Config().categories;

        /** TrainCommand's own command line. */
        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (o.takeFlag(a)) {
                    continue;
                }
                if (!a.equals("--eval-k") && !VALUE_OPTIONS.contains(a)) {
                    throw new IllegalArgumentException("unknown option " + a);
                }
                String v = value(args, i++);
                if (a.equals("--eval-k")) {
                    o.evalK = positive(a, v);
                } else {
                    o.take(a, v);
                }
            }
            return o.validate();
        }

        /** The value after option {@code args[i]}. */
        static String value(String[] args, int i) {
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("missing value for " + args[i]);
            }
            return args[i + 1];
        }

        /** Takes a flag (no value); false when {@code a} is none of the shared flags. */
        boolean takeFlag(String a) {
            if (a.equals("--help") || a.equals("-h")) {
                throw new IllegalArgumentException("help");
            }
            if (a.equals("--synthetic")) {
                synthetic = true;
                return true;
            }
            return false;
        }

        /** Takes one of {@link #VALUE_OPTIONS}. */
        void take(String a, String v) {
            switch (a) {
                case "--events": events = Paths.get(v); break;
                case "--out": out = Paths.get(v); outGiven = true; break;
                case "--version": version = v; break;
                case "--parent": parent = Paths.get(v); break;
                case "--epochs": epochs = positive(a, v); break;
                case "--validation-users": validationUsers = (int) Math.min(Integer.MAX_VALUE, Math.max(0, parseLong(a, v))); break;
                case "--validation-events": validationEvents = positive(a, v); break;
                case "--patience": patience = positive(a, v); break;
                case "--batch-size": batchSize = positive(a, v); break;
                case "--seed": seed = parseLong(a, v); break;
                case "--max-events": maxEvents = parseLong(a, v); break;
                case "--summary-json": summaryJson = Paths.get(v); break;
                case "--learning-rate": learningRate = (float) number(a, v, false); break;
                case "--embedding-learning-rate": embeddingLearningRate = (float) number(a, v, false); break;
                case "--logq": logQ = choice(TwoTowerTrainer.LogQ.class, a, v); break;
                case "--schedule": schedule = choice(TwoTowerTrainer.Schedule.class, a, v); break;
                case "--uniform-negatives": uniformNegatives = (int) Math.min(1 << 16, Math.max(0, parseLong(a, v))); break;
                case "--threads": threads = positive(a, v); break;
                case "--item-buckets": itemBuckets = positive(a, v); break;
                case "--category-buckets": categoryBuckets = positive(a, v); break;
                case "--user-buckets": userBuckets = positive(a, v); break;
                case "--embedding-weight-decay": embeddingWeightDecay = (float) number(a, v, true); break;
                case "--dim": dim = positive(a, v); break;
                case "--embedding-dim": embeddingDim = positive(a, v); break;
                case "--hidden": hidden = positive(a, v); break;
                case "--history-length": historyLength = positive(a, v); break;
                case "--recent-half-life": recentHalfLife = number(a, v, true); break;
                case "--recency-half-life-ms": recencyHalfLifeMs = (long) positive(a, v); break;
                case "--temperature": temperature = number(a, v, false); break;
                case "--repeat-boost": repeatBoost(a, v); break;
                case "--user-tower": userTower = userTower(a, v); break;
                case "--sequence-layers": sequence = new SequenceTowerConfig(positive(a, v), sequence.heads(), sequence.dropout()); break;
                case "--sequence-heads": sequence = new SequenceTowerConfig(sequence.layers(), positive(a, v), sequence.dropout()); break;
                case "--sequence-dropout": sequence = new SequenceTowerConfig(sequence.layers(), sequence.heads(), number(a, v, true)); break;
                case "--sequence-training": allPositions = sequenceTraining(a, v); break;
                case "--synthetic-users": syntheticUsers = positive(a, v); break;
                case "--synthetic-items": syntheticItems = positive(a, v); break;
                case "--synthetic-categories": syntheticCategories = positive(a, v); break;
                default: throw new IllegalArgumentException("unknown option " + a);
            }
        }

        private static String userTower(String a, String v) {
            if (!v.equals(ModelConfig.POOLED) && !v.equals(ModelConfig.SEQUENCE)) {
                throw new IllegalArgumentException(a + " must be pooled or sequence, got " + v);
            }
            return v;
        }

        private static boolean sequenceTraining(String a, String v) {
            if (!v.equals("all-positions") && !v.equals("per-event")) {
                throw new IllegalArgumentException(a + " must be all-positions or per-event, got " + v);
            }
            return v.equals("all-positions");
        }

        /** {@code fit}, {@code none} or {@code WEIGHT:HALF_LIFE}. */
        private void repeatBoost(String a, String v) {
            fitRepeatBoost = v.equals("fit");
            if (fitRepeatBoost) {
                repeatBoost = null;
            } else if (v.equals("none")) {
                repeatBoost = RepeatBoost.NONE;
            } else {
                String[] p = v.split(":", -1);
                if (p.length != 2) {
                    throw new IllegalArgumentException(a + " takes fit, none or WEIGHT:HALF_LIFE, not " + v);
                }
                try {
                    repeatBoost = new RepeatBoost(number(a, p[0], true), number(a, p[1], false));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(a + " " + v + ": " + e.getMessage(), e);
                }
            }
        }

        Options validate() {
            if ((events == null) == !synthetic) {
                throw new IllegalArgumentException("give exactly one of --events FILE and --synthetic");
            }
            if (batchSize < 2) {
                throw new IllegalArgumentException("--batch-size must be >= 2");
            }
            if (parent != null && (itemBuckets != null || categoryBuckets != null
                    || userBuckets != null || dim != null || embeddingDim != null || hidden != null
                    || historyLength != null || recentHalfLife != null
                    || recencyHalfLifeMs != null || temperature != null || userTower != null)) {
                throw new IllegalArgumentException(
                        "--parent keeps the parent's configuration; drop the size/bucket/history/temperature options");
            }
            if (version == null) {
                version = defaultVersion(Instant.now());
            }
            return this;
        }

        ModelConfig freshConfig() {
            ModelConfig c = ModelConfig.defaults();
            c = c.withBuckets(
                    itemBuckets == null ? c.itemBuckets() : itemBuckets,
                    categoryBuckets == null ? c.categoryBuckets() : categoryBuckets,
                    userBuckets == null ? c.userBuckets() : userBuckets);
            if (dim != null) {
                c = c.withDim(dim);
            }
            if (embeddingDim != null) {
                c = c.withEmbeddingDim(embeddingDim);
            }
            if (hidden != null) {
                c = c.withHidden(hidden);
            }
            if (historyLength != null) {
                c = c.withHistoryLength(historyLength);
            }
            if (recentHalfLife != null) {
                c = c.withRecentHalfLifeEvents(recentHalfLife);
            }
            if (recencyHalfLifeMs != null) {
                c = c.withRecencyHalfLifeMs(recencyHalfLifeMs);
            }
            if (temperature != null) {
                c = c.withTemperature(temperature);
            }
            return ModelConfig.SEQUENCE.equals(userTower) ? c.withSequenceTower(sequence) : c;
        }

        SyntheticGenerator.Config syntheticConfig() {
            SyntheticGenerator.Config cfg = new SyntheticGenerator.Config();
            cfg.users = syntheticUsers;
            cfg.items = syntheticItems;
            cfg.categories = syntheticCategories;
            cfg.seed = seed;
            return cfg;
        }

        long syntheticEvents() {
            return maxEvents > 0 ? maxEvents : DEFAULT_SYNTHETIC_EVENTS;
        }

        TwoTowerTrainer.Options trainerOptions(PrintStream progress, int logEvery, Consumer<TwoTowerTrainer.Progress> listener) {
            return TwoTowerTrainer.Options.defaults()
                    .withBatchSize(batchSize)
                    .withEpochs(epochs)
                    .withSeed(seed)
                    .withLearningRates(learningRate, embeddingLearningRate)
                    .withEmbeddingWeightDecay(embeddingWeightDecay)
                    .withLogQ(logQ)
                    .withSchedule(schedule)
                    .withUniformNegatives(uniformNegatives)
                    .withAllPositions(allPositions)
                    .withProgress(progress, logEvery)
                    .withListener(listener);
        }

        /** The constant of {@code type} named {@code v} (any case). */
        static <E extends Enum<E>> E choice(Class<E> type, String name, String v) {
            for (E e : type.getEnumConstants()) {
                if (e.name().equalsIgnoreCase(v)) {
                    return e;
                }
            }
            throw new IllegalArgumentException(name + " must be one of "
                    + Arrays.toString(type.getEnumConstants()).toLowerCase(Locale.ROOT) + ", got " + v);
        }

        static int positive(String name, String v) {
            long x = parseLong(name, v);
            if (x <= 0 || x > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(name + " must be a positive int, got " + v);
            }
            return (int) x;
        }

        /** A finite number > 0, or >= 0 when {@code zeroToo}. */
        static double number(String name, String v, boolean zeroToo) {
            try {
                double d = Double.parseDouble(v);
                if (!(zeroToo ? d >= 0 : d > 0) || Double.isInfinite(d)) {
                    throw new NumberFormatException();
                }
                return d;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(name + " must be a number " + (zeroToo ? ">= 0" : "> 0") + ", got " + v);
            }
        }

        static long parseLong(String name, String v) {
            try {
                return Long.parseLong(v.replace("_", ""));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(name + " must be an integer, got " + v);
            }
        }
    }

    /** {@code v20261123-0412} for the given instant (UTC, to the minute). */
    static String defaultVersion(Instant now) {
        return "v" + DateTimeFormatter.ofPattern("yyyyMMdd-HHmm", Locale.ROOT)
                .withZone(ZoneOffset.UTC)
                .format(now);
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the command; returns the exit status. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            return usage(e, USAGE, err);
        }
        DjlRuntime.configureThreads(o.threads, 1);
        try {
            train(o, out, err);
            return 0;
        } catch (IOException | InvalidModelException | RuntimeException e) {
            err.println("error: " + e);
            return 1;
        }
    }

    /** Prints a usage error (or just the usage for --help); returns exit status 2. */
    static int usage(IllegalArgumentException e, String usage, PrintStream err) {
        if (!"help".equals(e.getMessage())) {
            err.println("error: " + e.getMessage());
        }
        err.println(usage);
        return 2;
    }

    static void train(Options o, PrintStream out, PrintStream err) throws IOException, InvalidModelException {
        long started = System.nanoTime();
        Map<String, Object> source = new LinkedHashMap<>();
        ModelArtifacts parent = o.parent == null ? null : ModelArtifacts.load(o.parent);
        ModelConfig config = parent == null ? o.freshConfig() : parent.manifest().config();
        TrainingExamples all = load(o, config.historyLength(), source, out, err);
        TrainingExamples.Split split = all.splitLastPerUser();
        TrainingExamples train = split.train();
        if (train.size() < 2) {
            throw new IllegalArgumentException("fewer than 2 training examples");
        }
        out.printf(Locale.ROOT, "examples: %,d train, %,d held out; catalogue %,d items%n",
                train.size(), split.heldOut().size(), train.catalogue().size());

        try (TwoTowerModel model = newModel(o, config, parent, out)) {
            Fitted fitted = fit(o, model, train, out, null);
            ItemCatalogue catalogue = train.catalogue();
            Evaluation.HitRates hr;
            RepeatBoost repeat = fitted.boost(o, parent);
            try (ServingModel serving = ServingModel.ofUnsaved(o.version, model, catalogue, repeat)) {
                hr = Evaluation.hitRates(serving, Evaluation.heldOut(split.heldOut()), o.evalK);
            }
            out.println("held out: " + hr);

            Map<String, Double> metrics = trainingMetrics(fitted);
            String k = "heldOut.hr@" + o.evalK;
            metrics.put(k + ".model", hr.model());
            metrics.put(k + ".random", hr.random());
            metrics.put(k + ".popularity", hr.popularity());
            metrics.put("heldOut.queries", (double) hr.queries());
            Path dir = writeVersion(o.out, o.version, parent, model, repeat, train, catalogue, metrics, out);

            if (o.summaryJson != null) {
                writeSummary(o, source, train, fitted, hr, dir);
                out.println("summary " + o.summaryJson);
            }
        }
        out.printf(Locale.ROOT, "done in %.1f s%n", (System.nanoTime() - started) / 1e9);
    }

    /**
     * All events of the source the options name, as examples: the synthetic generator or a file.
     * Events stream straight into the compact columnar examples; no list of event objects.
     */
    static TrainingExamples load(Options o, int historyLength, Map<String, Object> source, PrintStream out,
            PrintStream err) throws IOException {
        TrainingExamples all;
        if (o.synthetic) {
            SyntheticGenerator.Config cfg = o.syntheticConfig();
            SyntheticGenerator generator = new SyntheticGenerator(cfg);
            long count = o.syntheticEvents();
            all = TrainingExamples.fromEvents(() -> generator.events(count), historyLength);
            source.put("synthetic", true);
            source.put("users", cfg.users);
            source.put("items", cfg.items);
            source.put("categories", cfg.categories);
            source.put("seed", cfg.seed);
            source.put("events", all.size());
            out.printf(Locale.ROOT, "synthetic: %,d events (%,d users, %,d items, %,d categories, seed %d)%n",
                    all.size(), cfg.users, cfg.items, cfg.categories, cfg.seed);
        } else {
            EventFiles.Stats stats = new EventFiles.Stats();
            try {
                all = TrainingExamples.fromEvents(EventFiles.iterable(o.events, o.maxEvents, err, stats), historyLength);
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
            source.put("file", o.events.toString());
            source.put("events", all.size());
            source.put("badLines", stats.badLines);
            out.printf(Locale.ROOT, "read %,d events from %s (%,d bad lines skipped)%n",
                    all.size(), o.events, stats.badLines);
        }
        if (all.size() == 0) {
            throw new IllegalArgumentException("no events to train on");
        }
        return all;
    }

    /** A fresh model for {@code config}, or the parent's parameters for a warm start. */
    static TwoTowerModel newModel(Options o, ModelConfig config, ModelArtifacts parent, PrintStream out)
            throws InvalidModelException {
        out.println("config: " + config + (parent == null ? "" : " (from parent " + parent.manifest().version() + ")"));
        return parent == null ? TwoTowerModel.create(config, Device.cpu(), o.seed) : parent.loadModel(Device.cpu());
    }

    /**
     * What {@link #fit} did: the trainer's run, the epoch whose parameters the model holds, its
     * validation HR@20 (NaN without validation) and the repeat boost fitted on the validation
     * users (null when none was fitted).
     */
    record Fitted(TwoTowerTrainer.Result run, int epochsKept, double validationHitRate, RepeatBoostFit repeat) {
        /** The fitted boost, else the one {@code o} gives, else {@code parent}'s, else none. */
        RepeatBoost boost(Options o, ModelArtifacts parent) {
            return repeat != null ? repeat.boost()
                    : o.repeatBoost != null ? o.repeatBoost
                    : parent != null ? parent.manifest().repeat() : RepeatBoost.NONE;
        }
    }

    /**
     * Trains {@code model} on {@code train} with a progress line every 100 steps, or more often
     * when the whole run has fewer than 5,000 steps (50 lines at least). With validation users,
     * the last {@code --validation-events} training events of a seeded sample of about that many
     * users are held out of training; after every epoch the model's HR@20 on them is measured,
     * training stops at the first epoch that does not improve it, and the model goes back to the
     * best epoch (early stopping: the towers memorise individual examples, see docs/model.md);
     * then a {@link RepeatBoost} is fitted on them (unless {@code --repeat-boost} says otherwise).
     */
    static Fitted fit(Options o, TwoTowerModel model, TrainingExamples train, PrintStream out,
            Consumer<TwoTowerTrainer.Progress> listener) {
        TrainingExamples fitOn = train;
        List<Evaluation.HeldOut> validation = List.of();
        if (o.validationUsers > 0) {
            int users = train.userCount();
            long seed = o.seed;
            TrainingExamples.Split split = train.splitLastPerUser(o.validationEvents,
                    u -> Math.floorMod(IdHashing.mix32(u * 0x9E3779B9 + (int) seed), users) < o.validationUsers);
            fitOn = split.train();
            validation = Evaluation.heldOut(split.heldOut());
        }
        return fit(o, model, fitOn, validation, fitOn.catalogue(), out, listener);
    }

    /**
     * As {@link #fit(Options, TwoTowerModel, TrainingExamples, PrintStream, Consumer)}, on {@code
     * fitOn} with the given validation pairs (none: no early stopping, no fitted boost), ranked
     * against {@code validationCatalogue}.
     */
    static Fitted fit(Options o, TwoTowerModel model, TrainingExamples fitOn, List<Evaluation.HeldOut> validation,
            ItemCatalogue validationCatalogue, PrintStream out, Consumer<TwoTowerTrainer.Progress> listener) {
        long steps = (long) o.epochs * ((fitOn.size() + o.batchSize - 1) / o.batchSize);
        int every = (int) Math.max(1, Math.min(100, steps / 50));
        TwoTowerTrainer trainer = new TwoTowerTrainer(model, o.trainerOptions(out, every, listener));
        TwoTowerTrainer.Result result;
        double[] best = {Double.NaN};
        int[] bestEpoch = {0};
        float[][][] bestParameters = new float[1][][];
        if (validation.isEmpty()) {
            result = trainer.fit(fitOn);
            bestEpoch[0] = result.epochs();
        } else {
            ItemCatalogue catalogue = validationCatalogue;
            List<Evaluation.HeldOut> pairs = validation;
            result = trainer.fit(fitOn, epoch -> {
                double hr;
                try (ServingModel s = ServingModel.ofUnsaved("validation", model, catalogue)) {
                    hr = Evaluation.hitRates(s, pairs, 20).model();
                }
                boolean better = !(hr <= best[0]);
                boolean stop = !better && epoch - bestEpoch[0] >= o.patience;
                out.printf(Locale.ROOT, "epoch %d: validation HR@20 %.4f (%d events)%s%n", epoch, hr, pairs.size(),
                        better ? "" : ", not better than epoch " + bestEpoch[0] + (stop ? ": stop" : ""));
                if (better) {
                    best[0] = hr;
                    bestEpoch[0] = epoch;
                    bestParameters[0] = epoch < o.epochs ? model.snapshot() : null;
                }
                return !stop;
            });
            if (bestEpoch[0] < result.epochs()) {
                model.restore(bestParameters[0]);
                out.printf(Locale.ROOT, "kept the parameters of epoch %d%n", bestEpoch[0]);
            }
        }
        out.printf(Locale.ROOT, "trained: %d steps, %,d examples in %.1f s (%.0f examples/s), loss %.4f -> %.4f%n",
                result.steps(), result.examples(), result.seconds(), result.examplesPerSecond(),
                result.firstLoss(), result.lastLoss());
        RepeatBoostFit repeat = null;
        if (!validation.isEmpty() && o.fitRepeatBoost) {
            try (ServingModel s = ServingModel.ofUnsaved("validation", model, validationCatalogue)) {
                repeat = RepeatBoostFit.fit(s, validation, 20);
            }
            StringBuilder grid = new StringBuilder();
            repeat.tried().forEach((b, hr) -> grid.append(String.format(Locale.ROOT, " %s:%s %.4f",
                    b.weight(), b.halfLifeEvents(), hr)));
            out.println("repeat boost, validation HR@20 by weight:half-life:" + grid);
            out.printf(Locale.ROOT, "repeat boost: weight %s, half-life %s events: validation HR@20 %.4f (%.4f without)%n",
                    repeat.boost().weight(), repeat.boost().halfLifeEvents(), repeat.hitRate(), repeat.hitRateWithout());
        }
        return new Fitted(result, bestEpoch[0], best[0], repeat);
    }

    /** The manifest metrics of a training run. */
    static Map<String, Double> trainingMetrics(Fitted fitted) {
        TwoTowerTrainer.Result result = fitted.run();
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("train.examples", (double) result.examples());
        metrics.put("train.epochs", (double) result.epochs());
        metrics.put("train.epochsKept", (double) fitted.epochsKept());
        metrics.put("train.validationHR@20", fitted.validationHitRate());
        if (fitted.repeat() != null) {
            metrics.put("train.validationHR@20.repeatBoost", fitted.repeat().hitRate());
        }
        metrics.put("train.firstLoss", result.firstLoss());
        metrics.put("train.lastLoss", result.lastLoss());
        metrics.put("train.examplesPerSecond", result.examplesPerSecond());
        return metrics;
    }

    /** Writes {@code version} under {@code root} and verifies it; returns its directory. */
    static Path writeVersion(Path root, String version, ModelArtifacts parent, TwoTowerModel model,
            RepeatBoost repeat, TrainingExamples train, ItemCatalogue catalogue, Map<String, Double> metrics,
            PrintStream out)
            throws IOException, InvalidModelException {
        Map<String, Double> finite = new LinkedHashMap<>(metrics);
        finite.values().removeIf(v -> v.isNaN() || v.isInfinite());
        ModelManifest manifest = new ModelManifest(
                version,
                parent == null ? null : parent.manifest().version(),
                Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(),
                model.config(),
                train.window(),
                finite,
                Map.of(),
                repeat);
        Path dir = ModelArtifacts.write(root, manifest, model, catalogue);
        ModelArtifacts.load(dir); // verify what was written
        out.println("wrote " + dir + " (" + Files.size(dir.resolve(ModelArtifacts.PARAMETERS)) / 1024 + " KiB of parameters)");
        return dir;
    }

    private static void writeSummary(Options o, Map<String, Object> source, TrainingExamples train,
            Fitted fitted, Evaluation.HitRates hr, Path dir) throws IOException {
        TwoTowerTrainer.Result result = fitted.run();
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode s = mapper.createObjectNode();
        s.put("version", o.version);
        s.put("path", dir.toString());
        s.set("source", mapper.valueToTree(source));
        s.put("examples", train.size());
        s.put("epochs", result.epochs());
        s.put("epochsKept", fitted.epochsKept());
        s.put("steps", result.steps());
        s.put("firstLoss", result.firstLoss());
        s.put("lastLoss", result.lastLoss());
        s.put("examplesPerSecond", result.examplesPerSecond());
        s.put("trainSeconds", result.seconds());
        ObjectNode held = s.putObject("heldOut");
        held.put("queries", hr.queries());
        ObjectNode at = held.putObject("hr@" + o.evalK);
        at.put("model", hr.model());
        at.put("random", hr.random());
        at.put("popularity", hr.popularity());
        writeJson(mapper, s, o.summaryJson);
    }

    /** Writes {@code node} to {@code file}, creating its directory. */
    static void writeJson(ObjectMapper mapper, ObjectNode node, Path file) throws IOException {
        Path parentDir = file.toAbsolutePath().getParent();
        if (parentDir != null) {
            Files.createDirectories(parentDir);
        }
        mapper.writeValue(file.toFile(), node);
    }
}
