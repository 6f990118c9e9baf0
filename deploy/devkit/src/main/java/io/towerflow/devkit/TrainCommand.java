package io.towerflow.devkit;

import io.towerflow.cli.Cli;
import io.towerflow.cli.EarlyStoppingOptions;
import io.towerflow.cli.PrintingCommand;
import io.towerflow.cli.RecipeOptions;
import io.towerflow.devkit.eval.SearchEvaluation;
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
import io.towerflow.model.TextConfig;
import io.towerflow.model.ServingModel;
import io.towerflow.model.TrainingExamples;
import io.towerflow.model.TrainingRecipe;
import io.towerflow.model.TwoTowerModel;
import io.towerflow.model.TwoTowerTrainer;
import io.towerflow.operators.DjlRuntime;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.synthetic.SyntheticGenerator;

import ai.djl.Device;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Trains a two-tower model version offline and writes it to {@code model-artifacts/<version>/}
 * ({@code deploy/local/towerflow train --help} lists the options and their defaults).
 *
 * {@code --search-rate R} makes R of the synthetic events query-only searches and gives the items
 * titles; it also turns on the model's text features ({@link TextConfig}, a token table of
 * {@code --text-buckets} rows, 65,536 by default), which {@code --text-buckets 0} turns off.
 *
 * Events come from a file ({@link EventFiles}: Taobao UserBehavior CSV, JSON lines or MovieLens
 * ratings; bad lines are counted and skipped) or from {@link SyntheticGenerator} (--max-events,
 * default 200,000). The last event of every user with history is held out; the model trains on
 * the rest and its held-out HR@K against a random ranking and popularity goes into the manifest's
 * metrics and the summary. {@code --parent} warm-starts from an existing version (its
 * configuration is kept). The training recipe is {@link TrainingRecipe#DEFAULT} unless its flags
 * ({@link RecipeOptions}, {@link EarlyStoppingOptions}) say otherwise. Exit status 0 on success, 2
 * on bad usage, 1 on failure.
 *
 * <p>{@link EvaluateCommand} shares the training options ({@link Options}) and steps.
 */
@Command(name = "train", sortOptions = false,
        description = "Trains a two-tower model version on a file's events or synthetic ones and writes it to"
                + " <out>/<version>/, with its held-out HR@K against random and popularity in the manifest.")
public final class TrainCommand extends PrintingCommand {
    static final long DEFAULT_SYNTHETIC_EVENTS = 200_000;

    @Mixin
    final Options options = new Options();

    @Option(names = "--eval-k", paramLabel = "N", description = "K of the held-out hit rate (default: ${DEFAULT-VALUE}).")
    int evalK = 20;

    TrainCommand(PrintStream out, PrintStream err) {
        super(out, err);
    }

    /** The command on the process's streams (for picocli and the help test). */
    public TrainCommand() {
        this(System.out, System.err);
    }

    /**
     * The training options, shared with {@link EvaluateCommand} (a picocli mixin): the source of
     * the events, where the version goes, the fresh model's sizes, the repeat boost, and the
     * training recipe ({@link RecipeOptions}, {@link EarlyStoppingOptions}). {@link #validate}
     * checks what picocli cannot and fills in {@link #recipe}.
     */
    static final class Options {
        @Option(names = "--events", paramLabel = "FILE",
                description = "Events to train on: Taobao UserBehavior CSV, JSON lines or MovieLens ratings.")
        Path events;

        @Option(names = "--synthetic", description = "Train on synthetic events instead (the demo's generator).")
        boolean synthetic;

        @Option(names = "--out", paramLabel = "DIR", description = "Where the version directory goes (default: model-artifacts).")
        Path out;

        /** Whether {@code --out} was given (evaluate writes a version only then). */
        boolean outGiven;

        @Option(names = "--version", paramLabel = "NAME", description = "Version name (default: v<yyyyMMdd-HHmm> in UTC).")
        String version;

        @Option(names = "--parent", paramLabel = "DIR",
                description = "Warm-start from this version's parameters; its configuration is kept.")
        Path parent;

        @Option(names = "--max-events", paramLabel = "N",
                description = "Read at most N events (synthetic: generate N, default " + DEFAULT_SYNTHETIC_EVENTS + ").")
        long maxEvents = -1;

        @Option(names = "--summary-json", paramLabel = "FILE", description = "Write the figures as JSON.")
        Path summaryJson;

        @Mixin
        RecipeOptions recipeOptions = new RecipeOptions(TrainingRecipe.DEFAULT);

        @Mixin
        EarlyStoppingOptions stopping = new EarlyStoppingOptions();

        @Option(names = "--item-buckets", paramLabel = "N",
                description = "Rows of the item-id embedding table (default: " + ModelConfig.DEFAULT_ITEM_BUCKETS + ").")
        Integer itemBuckets;

        @Option(names = "--category-buckets", paramLabel = "N",
                description = "Rows of the category embedding table (default: " + ModelConfig.DEFAULT_CATEGORY_BUCKETS + ").")
        Integer categoryBuckets;

        @Option(names = "--user-buckets", paramLabel = "N",
                description = "Rows of the user-id embedding table; 1 = no per-user row, the history carries the user"
                        + " (default: " + ModelConfig.DEFAULT_USER_BUCKETS + ").")
        Integer userBuckets;

        @Option(names = "--dim", paramLabel = "N", description = "Output dimension of both towers (default: " + ModelConfig.DEFAULT_DIM + ").")
        Integer dim;

        @Option(names = "--embedding-dim", paramLabel = "N",
                description = "Width of the embedding rows (default: " + ModelConfig.DEFAULT_EMBEDDING_DIM + ").")
        Integer embeddingDim;

        @Option(names = "--hidden", paramLabel = "N", description = "Hidden width of the MLPs (default: " + ModelConfig.DEFAULT_HIDDEN + ").")
        Integer hidden;

        @Option(names = "--history-length", paramLabel = "N",
                description = "Recent items the user tower reads (default: " + ModelConfig.DEFAULT_HISTORY_LENGTH + ").")
        Integer historyLength;

        @Option(names = "--recent-half-life", paramLabel = "EVENTS",
                description = "Half-life in events of the pooled history's recency weights (default: "
                        + ModelConfig.DEFAULT_RECENT_HALF_LIFE_EVENTS + ").")
        Double recentHalfLife;

        @Option(names = "--recency-half-life-ms", paramLabel = "MS",
                description = "Half-life in ms of the history's time decay (default: " + ModelConfig.DEFAULT_RECENCY_HALF_LIFE_MS + ").")
        Long recencyHalfLifeMs;

        @Option(names = "--temperature", paramLabel = "T",
                description = "Softmax temperature (default: " + ModelConfig.DEFAULT_TEMPERATURE + ").")
        Double temperature;

        @Option(names = "--repeat-boost", paramLabel = "fit|none|WEIGHT:HALF_LIFE",
                description = "Fit the repeat boost on the validation users, leave it out, or give it (default: fit).")
        String repeatBoostFlag = "fit";

        @Option(names = "--user-tower", paramLabel = "pooled|sequence",
                description = "User tower of a fresh model (default: " + ModelConfig.POOLED + ").")
        String userTower;

        @Option(names = "--sequence-layers", paramLabel = "N", description = "Self-attention layers of the sequence tower (default: ${DEFAULT-VALUE}).")
        int sequenceLayers = SequenceTowerConfig.DEFAULTS.layers();

        @Option(names = "--sequence-heads", paramLabel = "N", description = "Attention heads of the sequence tower (default: ${DEFAULT-VALUE}).")
        int sequenceHeads = SequenceTowerConfig.DEFAULTS.heads();

        @Option(names = "--sequence-dropout", paramLabel = "X", description = "Dropout of the sequence tower (default: ${DEFAULT-VALUE}).")
        double sequenceDropout = SequenceTowerConfig.DEFAULTS.dropout();

        @Option(names = "--synthetic-users", paramLabel = "N", description = "Synthetic users (default: ${DEFAULT-VALUE}).")
        int syntheticUsers = new SyntheticGenerator.Config().users;

        @Option(names = "--synthetic-items", paramLabel = "N", description = "Synthetic items (default: ${DEFAULT-VALUE}).")
        int syntheticItems = new SyntheticGenerator.Config().items;

        @Option(names = "--synthetic-categories", paramLabel = "N", description = "Synthetic categories (default: ${DEFAULT-VALUE}).")
        int syntheticCategories = new SyntheticGenerator.Config().categories;

        @Option(names = "--search-rate", paramLabel = "R",
                description = "Synthetic data: the share of events that are query-only searches, in [0, 1); the items get"
                        + " titles and the model text features (default: ${DEFAULT-VALUE}).")
        double searchRate;

        @Option(names = "--text-buckets", paramLabel = "N",
                description = "Rows of the token table of a model with text; 0: no text (default: 65,536 when"
                        + " --search-rate > 0, else none).")
        Integer textBuckets;

        @Option(names = "--search-starts-short-term", paramLabel = "BOOL", arity = "1",
                description = "In a model with text, whether a search starts a new short term: the user tower's"
                        + " short-term channel pools only the acts after the latest query (default: true).")
        boolean searchStartsShortTerm = true;

        /**
         * Synthetic data (set by evaluate): every this many items one is cold, its events dropped
         * except among each user's last {@link #coldKeepLast} (the test events); 0: none.
         */
        int coldEvery;
        int coldKeepLast;

        /** K of the held-out hit rate ({@code train --eval-k}). */
        int evalK = 20;
        /** The training recipe the flags give (set by {@link #validate}). */
        TrainingRecipe recipe;
        SequenceTowerConfig sequence;
        /** Fit a {@link RepeatBoost} on the validation users after training (docs/model.md). */
        boolean fitRepeatBoost;
        /** A given boost instead ({@code --repeat-boost none} gives {@link RepeatBoost#NONE}). */
        RepeatBoost repeatBoost;

        /** TrainCommand's options of a command line; throws IllegalArgumentException on bad usage. */
        static Options parse(String... args) {
            TrainCommand c = new TrainCommand();
            try {
                Cli.of(c).parseArgs(args);
            } catch (CommandLine.ParameterException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
            return c.options.validate();
        }

        /** Checks what picocli does not and fills in the recipe; throws IllegalArgumentException. */
        Options validate() {
            if ((events == null) == !synthetic) {
                throw new IllegalArgumentException("give exactly one of --events FILE and --synthetic");
            }
            outGiven = out != null;
            if (out == null) {
                out = Paths.get("model-artifacts");
            }
            recipe = recipeOptions.recipe(stopping);
            positive("--item-buckets", itemBuckets);
            positive("--category-buckets", categoryBuckets);
            positive("--user-buckets", userBuckets);
            positive("--dim", dim);
            positive("--embedding-dim", embeddingDim);
            positive("--hidden", hidden);
            positive("--history-length", historyLength);
            positive("--recency-half-life-ms", recencyHalfLifeMs);
            positive("--sequence-layers", sequenceLayers);
            positive("--sequence-heads", sequenceHeads);
            positive("--synthetic-users", syntheticUsers);
            positive("--synthetic-items", syntheticItems);
            positive("--synthetic-categories", syntheticCategories);
            number("--recent-half-life", recentHalfLife, true);
            number("--temperature", temperature, false);
            number("--sequence-dropout", sequenceDropout, true);
            if (searchRate < 0 || searchRate >= 1) {
                throw new IllegalArgumentException("--search-rate must be in [0, 1), got " + searchRate);
            }
            if (textBuckets != null && textBuckets < 0) {
                throw new IllegalArgumentException("--text-buckets must be at least 0, got " + textBuckets);
            }
            if (userTower != null && !userTower.equals(ModelConfig.POOLED) && !userTower.equals(ModelConfig.SEQUENCE)) {
                throw new IllegalArgumentException("--user-tower must be pooled or sequence, got " + userTower);
            }
            sequence = new SequenceTowerConfig(sequenceLayers, sequenceHeads, sequenceDropout);
            repeatBoost(repeatBoostFlag);
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

        /** {@code fit}, {@code none} or {@code WEIGHT:HALF_LIFE}. */
        private void repeatBoost(String v) {
            String a = "--repeat-boost";
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
            if (textBuckets == null ? searchRate > 0 : textBuckets > 0) {
                TextConfig d = TextConfig.DEFAULTS;
                c = c.withText(new TextConfig(textBuckets == null ? d.buckets() : textBuckets, d.maxTokens(), d.queries(),
                        d.queryHalfLifeEvents(), searchStartsShortTerm));
            }
            return ModelConfig.SEQUENCE.equals(userTower) ? c.withSequenceTower(sequence) : c;
        }

        SyntheticGenerator.Config syntheticConfig() {
            SyntheticGenerator.Config cfg = new SyntheticGenerator.Config();
            cfg.users = syntheticUsers;
            cfg.items = syntheticItems;
            cfg.categories = syntheticCategories;
            cfg.seed = recipe.seed();
            cfg.searchRate = searchRate;
            return cfg;
        }

        long syntheticEvents() {
            return maxEvents > 0 ? maxEvents : DEFAULT_SYNTHETIC_EVENTS;
        }

        TwoTowerTrainer.Options trainerOptions(PrintStream progress, int logEvery, Consumer<TwoTowerTrainer.Progress> listener) {
            return recipe.trainerOptions().withProgress(progress, logEvery).withListener(listener);
        }

        private static void positive(String name, Number v) {
            if (v != null && v.longValue() <= 0) {
                throw new IllegalArgumentException(name + " must be > 0, got " + v);
            }
        }

        private static void number(String name, Double v, boolean zeroToo) {
            if (v != null) {
                number(name, v.toString(), zeroToo);
            }
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
        return Cli.execute(new TrainCommand(out, err), out, err, args);
    }

    @Override
    public Integer call() throws IOException, InvalidModelException {
        Options o;
        try {
            o = options.validate();
        } catch (IllegalArgumentException e) {
            throw Cli.usage(spec, e.getMessage());
        }
        o.evalK = evalK;
        DjlRuntime.configureThreads(o.recipeOptions.threads(), 1);
        train(o, out, err);
        return 0;
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
            all = TrainingExamples.fromEvents(o.coldEvery > 0 ? withoutColdHistory(generator, count, o)
                    : () -> generator.events(count), historyLength);
            if (cfg.searchRate > 0) {
                all = all.withTitles(generator::title);
                source.put("searchRate", cfg.searchRate);
            }
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

    /**
     * The generator's events without those on cold items ({@link SearchEvaluation#isCold}) except
     * among each user's last {@code coldKeepLast} item events: those items never occur in the
     * training part of a temporal split and stay test targets. Two passes over the seeded stream.
     */
    static Iterable<BehaviorEvent> withoutColdHistory(SyntheticGenerator generator, long count, Options o) {
        int[] total = new int[generator.config().users + 1];
        generator.events(count).forEachRemaining(e -> {
            if (e.itemId != null) {
                total[Integer.parseInt(e.userId)]++;
            }
        });
        return () -> {
            int[] seen = new int[total.length];
            java.util.Iterator<BehaviorEvent> all = generator.events(count);
            return new java.util.Iterator<>() {
                BehaviorEvent next = advance();

                private BehaviorEvent advance() {
                    while (all.hasNext()) {
                        BehaviorEvent e = all.next();
                        if (e.itemId == null) {
                            return e;
                        }
                        int u = Integer.parseInt(e.userId);
                        boolean last = ++seen[u] > total[u] - o.coldKeepLast;
                        if (last || !SearchEvaluation.isCold(Integer.parseInt(e.itemId), o.coldEvery)) {
                            return e;
                        }
                    }
                    return null;
                }

                @Override
                public boolean hasNext() {
                    return next != null;
                }

                @Override
                public BehaviorEvent next() {
                    BehaviorEvent e = next;
                    next = advance();
                    return e;
                }
            };
        };
    }

    /** A fresh model for {@code config}, or the parent's parameters for a warm start. */
    static TwoTowerModel newModel(Options o, ModelConfig config, ModelArtifacts parent, PrintStream out)
            throws InvalidModelException {
        out.println("config: " + config + (parent == null ? "" : " (from parent " + parent.manifest().version() + ")"));
        return parent == null ? TwoTowerModel.create(config, Device.cpu(), o.recipe.seed()) : parent.loadModel(Device.cpu());
    }

    /**
     * What {@link #fit} did: the trainer's run, the epoch whose parameters the model holds, its
     * validation HR@20 (NaN without validation) and the repeat boost fitted on the validation
     * users (null when none was fitted).
     */
    /**
     * What {@link #fit} did: the trainer's run, the epoch whose parameters were kept (with {@code
     * averaged}: the mean of its parameters and the next epoch's), their validation HR@20 and the
     * fitted repeat boost (null when none was fitted).
     */
    record Fitted(TwoTowerTrainer.Result run, int epochsKept, boolean averaged, double validationHitRate,
            RepeatBoostFit repeat) {
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
        if (o.recipe.validationUsers() > 0) {
            int users = train.userCount();
            long seed = o.recipe.seed();
            TrainingExamples.Split split = train.splitLastPerUser(o.recipe.validationEvents(),
                    u -> Math.floorMod(IdHashing.mix32(u * 0x9E3779B9 + (int) seed), users) < o.recipe.validationUsers());
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
        long steps = (long) o.recipe.epochs() * ((fitOn.size() + o.recipe.batchSize() - 1) / o.recipe.batchSize());
        int every = (int) Math.max(1, Math.min(100, steps / 50));
        TwoTowerTrainer trainer = new TwoTowerTrainer(model, o.trainerOptions(out, every, listener));
        TwoTowerTrainer.Result result;
        double[] best = {Double.NaN};
        int[] bestEpoch = {0};
        float[][][] bestParameters = new float[1][][];
        float[][][] nextParameters = new float[1][][]; // the epoch after the best, when training went on past it
        boolean[] averaged = {false};
        if (validation.isEmpty()) {
            result = trainer.fit(fitOn);
            bestEpoch[0] = result.epochs();
        } else {
            ItemCatalogue catalogue = validationCatalogue;
            List<Evaluation.HeldOut> pairs = validation;
            result = trainer.fit(fitOn, epoch -> {
                double hr = validationHitRate(model, catalogue, pairs);
                boolean better = !(hr <= best[0]);
                boolean stop = !better && epoch - bestEpoch[0] >= o.recipe.patience();
                out.printf(Locale.ROOT, "epoch %d: validation HR@20 %.4f (%d events)%s%n", epoch, hr, pairs.size(),
                        better ? "" : ", not better than epoch " + bestEpoch[0] + (stop ? ": stop" : ""));
                if (better) {
                    best[0] = hr;
                    bestEpoch[0] = epoch;
                    bestParameters[0] = epoch < o.recipe.epochs() ? model.snapshot() : null;
                    nextParameters[0] = null;
                } else if (o.recipe.epochAveraging() && epoch == bestEpoch[0] + 1 && !stop) {
                    nextParameters[0] = model.snapshot();
                }
                return !stop;
            });
            if (bestEpoch[0] < result.epochs()) {
                if (o.recipe.epochAveraging()) {
                    // the model holds the last epoch's parameters: the next one's when it stopped there
                    float[][] next = nextParameters[0] != null ? nextParameters[0]
                            : result.epochs() == bestEpoch[0] + 1 ? model.snapshot() : null;
                    nextParameters[0] = null;
                    if (next != null) {
                        model.restore(TwoTowerModel.mean(bestParameters[0], next));
                        double hr = validationHitRate(model, validationCatalogue, validation);
                        averaged[0] = hr > best[0];
                        out.printf(Locale.ROOT, "mean of epochs %d and %d: validation HR@20 %.4f%s%n", bestEpoch[0],
                                bestEpoch[0] + 1, hr, averaged[0] ? ", better: kept" : ", not better");
                        if (averaged[0]) {
                            best[0] = hr;
                        }
                    }
                }
                if (!averaged[0]) {
                    model.restore(bestParameters[0]);
                    out.printf(Locale.ROOT, "kept the parameters of epoch %d%n", bestEpoch[0]);
                }
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
        return new Fitted(result, bestEpoch[0], averaged[0], best[0], repeat);
    }

    /** HR@20 of {@code model} as it stands on the validation pairs. */
    private static double validationHitRate(TwoTowerModel model, ItemCatalogue catalogue,
            List<Evaluation.HeldOut> pairs) {
        try (ServingModel s = ServingModel.ofUnsaved("validation", model, catalogue)) {
            return Evaluation.hitRates(s, pairs, 20).model();
        }
    }

    /** The manifest metrics of a training run. */
    static Map<String, Double> trainingMetrics(Fitted fitted) {
        TwoTowerTrainer.Result result = fitted.run();
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("train.examples", (double) result.examples());
        metrics.put("train.epochs", (double) result.epochs());
        metrics.put("train.epochsKept", (double) fitted.epochsKept());
        metrics.put("train.epochAveraged", fitted.averaged() ? 1.0 : 0.0);
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
        s.put("epochAveraged", fitted.averaged());
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
