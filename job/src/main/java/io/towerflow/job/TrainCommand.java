package io.towerflow.job;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.towerflow.model.Evaluation;
import io.towerflow.model.InvalidModelException;
import io.towerflow.model.ItemCatalogue;
import io.towerflow.model.ModelArtifacts;
import io.towerflow.model.ModelConfig;
import io.towerflow.model.ModelManifest;
import io.towerflow.model.ServingModel;
import io.towerflow.model.TrainingExamples;
import io.towerflow.model.TwoTowerModel;
import io.towerflow.model.TwoTowerTrainer;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.BehaviorEventParser;
import io.towerflow.records.InvalidEventException;
import io.towerflow.synthetic.SyntheticGenerator;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * Trains a two-tower model version offline and writes it to {@code model-artifacts/<version>/}.
 *
 * <pre>
 * TrainCommand (--events FILE | --synthetic) [--out model-artifacts] [--version NAME]
 *              [--parent DIR] [--epochs 1] [--batch-size 256] [--seed 42] [--max-events N]
 *              [--summary-json FILE] [--eval-k 20] [--learning-rate 0.002]
 *              [--embedding-learning-rate 0.02] [--threads 1]
 *              [--item-buckets N] [--category-buckets N] [--user-buckets N] [--history-length N]
 *              [--synthetic-users N] [--synthetic-items N] [--synthetic-categories N]
 * </pre>
 *
 * Events come from a file (Taobao UserBehavior CSV or JSON lines, parsed by {@link
 * BehaviorEventParser}; bad lines are counted and skipped) or from {@link SyntheticGenerator}
 * (--max-events, default 200,000). The last event of every user with history is held out; the
 * model trains on the rest and its held-out HR@K against a random ranking and popularity goes
 * into the manifest's metrics and the summary. {@code --parent} warm-starts from an existing
 * version (its configuration is kept). Exit status 0 on success, 2 on bad usage, 1 on failure.
 */
public final class TrainCommand {
    static final String USAGE =
            "usage: TrainCommand (--events FILE | --synthetic) [--out DIR] [--version NAME] [--parent DIR]"
                    + " [--epochs N] [--batch-size N] [--seed N] [--max-events N] [--summary-json FILE]"
                    + " [--eval-k N] [--learning-rate X] [--embedding-learning-rate X] [--threads N]"
                    + " [--item-buckets N] [--category-buckets N] [--user-buckets N] [--history-length N]"
                    + " [--synthetic-users N] [--synthetic-items N] [--synthetic-categories N]";
    static final long DEFAULT_SYNTHETIC_EVENTS = 200_000;
    private static final int MAX_BAD_LINE_MESSAGES = 10;

    private TrainCommand() {}

    private static final java.util.Set<String> VALUE_OPTIONS = java.util.Set.of(
            "--events", "--out", "--version", "--parent", "--epochs", "--batch-size", "--seed",
            "--max-events", "--summary-json", "--eval-k", "--learning-rate", "--embedding-learning-rate",
            "--threads", "--item-buckets", "--category-buckets", "--user-buckets", "--history-length",
            "--synthetic-users", "--synthetic-items", "--synthetic-categories");

    /** Parsed command line. */
    static final class Options {
        Path events;
        boolean synthetic;
        Path out = Paths.get("model-artifacts");
        String version;
        Path parent;
        int epochs = 1;
        int batchSize = 256;
        long seed = 42;
        long maxEvents = -1;
        Path summaryJson;
        int evalK = 20;
        float learningRate = TwoTowerTrainer.Options.defaults().learningRate();
        float embeddingLearningRate = TwoTowerTrainer.Options.defaults().embeddingLearningRate();
        /** Intra-op threads of libtorch; 1 measured fastest on 2 cores (the step's Java half competes). */
        int threads = 1;
        Integer itemBuckets;
        Integer categoryBuckets;
        Integer userBuckets;
        Integer historyLength;
        int syntheticUsers = new SyntheticGenerator.Config().users;
        int syntheticItems = new SyntheticGenerator.Config().items;
        int syntheticCategories = new SyntheticGenerator.Config().categories;

        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("--synthetic")) {
                    o.synthetic = true;
                    continue;
                }
                if (a.equals("--help") || a.equals("-h")) {
                    throw new IllegalArgumentException("help");
                }
                if (!VALUE_OPTIONS.contains(a)) {
                    throw new IllegalArgumentException("unknown option " + a);
                }
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("missing value for " + a);
                }
                String v = args[++i];
                switch (a) {
                    case "--events": o.events = Paths.get(v); break;
                    case "--out": o.out = Paths.get(v); break;
                    case "--version": o.version = v; break;
                    case "--parent": o.parent = Paths.get(v); break;
                    case "--epochs": o.epochs = positive(a, v); break;
                    case "--batch-size": o.batchSize = positive(a, v); break;
                    case "--seed": o.seed = parseLong(a, v); break;
                    case "--max-events": o.maxEvents = parseLong(a, v); break;
                    case "--summary-json": o.summaryJson = Paths.get(v); break;
                    case "--eval-k": o.evalK = positive(a, v); break;
                    case "--learning-rate": o.learningRate = positiveFloat(a, v); break;
                    case "--embedding-learning-rate": o.embeddingLearningRate = positiveFloat(a, v); break;
                    case "--threads": o.threads = positive(a, v); break;
                    case "--item-buckets": o.itemBuckets = positive(a, v); break;
                    case "--category-buckets": o.categoryBuckets = positive(a, v); break;
                    case "--user-buckets": o.userBuckets = positive(a, v); break;
                    case "--history-length": o.historyLength = positive(a, v); break;
                    case "--synthetic-users": o.syntheticUsers = positive(a, v); break;
                    case "--synthetic-items": o.syntheticItems = positive(a, v); break;
                    case "--synthetic-categories": o.syntheticCategories = positive(a, v); break;
                    default: throw new IllegalArgumentException("unknown option " + a);
                }
            }
            if ((o.events == null) == !o.synthetic) {
                throw new IllegalArgumentException("give exactly one of --events FILE and --synthetic");
            }
            if (o.batchSize < 2) {
                throw new IllegalArgumentException("--batch-size must be >= 2");
            }
            if (o.parent != null && (o.itemBuckets != null || o.categoryBuckets != null
                    || o.userBuckets != null || o.historyLength != null)) {
                throw new IllegalArgumentException(
                        "--parent keeps the parent's configuration; drop the bucket/history options");
            }
            if (o.version == null) {
                o.version = defaultVersion(Instant.now());
            }
            return o;
        }

        ModelConfig freshConfig() {
            ModelConfig c = ModelConfig.defaults();
            c = c.withBuckets(
                    itemBuckets == null ? c.itemBuckets() : itemBuckets,
                    categoryBuckets == null ? c.categoryBuckets() : categoryBuckets,
                    userBuckets == null ? c.userBuckets() : userBuckets);
            return historyLength == null ? c : c.withHistoryLength(historyLength);
        }

        private static int positive(String name, String v) {
            long x = parseLong(name, v);
            if (x <= 0 || x > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(name + " must be a positive int, got " + v);
            }
            return (int) x;
        }

        private static float positiveFloat(String name, String v) {
            try {
                float f = Float.parseFloat(v);
                if (!(f > 0) || Float.isInfinite(f)) {
                    throw new NumberFormatException();
                }
                return f;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(name + " must be a positive number, got " + v);
            }
        }

        private static long parseLong(String name, String v) {
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
            if (!e.getMessage().equals("help")) {
                err.println("error: " + e.getMessage());
            }
            err.println(USAGE);
            return 2;
        }
        configureDjl(o.threads);
        try {
            train(o, out, err);
            return 0;
        } catch (IOException | InvalidModelException | RuntimeException e) {
            err.println("error: " + e);
            return 1;
        }
    }

    /** DJL reads these when its engine loads: offline (no telemetry, no downloads) and threads. */
    static void configureDjl(int threads) {
        if (System.getProperty("offline") == null) {
            System.setProperty("offline", "true");
        }
        if (System.getProperty("ai.djl.pytorch.num_threads") == null) {
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        }
        if (System.getProperty("ai.djl.pytorch.num_interop_threads") == null) {
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        }
    }

    static void train(Options o, PrintStream out, PrintStream err) throws IOException, InvalidModelException {
        long started = System.nanoTime();
        Map<String, Object> source = new LinkedHashMap<>();
        ModelArtifacts parent = o.parent == null ? null : ModelArtifacts.load(o.parent);
        ModelConfig config = parent == null ? o.freshConfig() : parent.manifest().config();
        // events stream straight into the compact columnar examples; no list of event objects
        TrainingExamples all = o.synthetic
                ? synthetic(o, config, source, out)
                : readEvents(o, config, source, out, err);
        if (all.size() == 0) {
            throw new IllegalArgumentException("no events to train on");
        }
        TrainingExamples.Split split = all.splitLastPerUser();
        TrainingExamples train = split.train();
        if (train.size() < 2) {
            throw new IllegalArgumentException("fewer than 2 training examples");
        }
        out.printf(Locale.ROOT, "examples: %,d train, %,d held out; catalogue %,d items%n",
                train.size(), split.heldOut().size(), train.catalogue().size());
        out.println("config: " + config + (parent == null ? "" : " (from parent " + parent.manifest().version() + ")"));

        TwoTowerTrainer.Options topts = TwoTowerTrainer.Options.defaults()
                .withBatchSize(o.batchSize)
                .withEpochs(o.epochs)
                .withSeed(o.seed)
                .withLearningRates(o.learningRate, o.embeddingLearningRate)
                .withProgress(out, 100);
        try (TwoTowerModel model = parent == null
                ? TwoTowerModel.create(config, Device.cpu(), o.seed)
                : parent.loadModel(Device.cpu())) {
            TwoTowerTrainer.Result result = new TwoTowerTrainer(model, topts).fit(train);
            out.printf(Locale.ROOT, "trained: %d steps, %,d examples in %.1f s (%.0f examples/s), loss %.4f -> %.4f%n",
                    result.steps(), result.examples(), result.seconds(), result.examplesPerSecond(),
                    result.firstLoss(), result.lastLoss());

            ItemCatalogue catalogue = train.catalogue();
            Evaluation.HitRates hr;
            try (ServingModel serving = ServingModel.ofUnsaved(o.version, model, catalogue)) {
                hr = Evaluation.hitRates(serving, Evaluation.heldOut(split.heldOut()), o.evalK);
            }
            out.println("held out: " + hr);

            Map<String, Double> metrics = new LinkedHashMap<>();
            String k = "heldOut.hr@" + o.evalK;
            metrics.put(k + ".model", hr.model());
            metrics.put(k + ".random", hr.random());
            metrics.put(k + ".popularity", hr.popularity());
            metrics.put("heldOut.queries", (double) hr.queries());
            metrics.put("train.examples", (double) result.examples());
            metrics.put("train.epochs", (double) result.epochs());
            metrics.put("train.firstLoss", result.firstLoss());
            metrics.put("train.lastLoss", result.lastLoss());
            metrics.put("train.examplesPerSecond", result.examplesPerSecond());
            metrics.values().removeIf(v -> v.isNaN());
            ModelManifest manifest = new ModelManifest(
                    o.version,
                    parent == null ? null : parent.manifest().version(),
                    Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(),
                    config,
                    train.window(),
                    metrics,
                    Map.of());
            Path dir = ModelArtifacts.write(o.out, manifest, model, catalogue);
            ModelArtifacts.load(dir); // verify what was written
            out.println("wrote " + dir + " (" + Files.size(dir.resolve(ModelArtifacts.PARAMETERS)) / 1024 + " KiB of parameters)");

            if (o.summaryJson != null) {
                writeSummary(o, source, train, result, hr, dir);
                out.println("summary " + o.summaryJson);
            }
        }
        out.printf(Locale.ROOT, "done in %.1f s%n", (System.nanoTime() - started) / 1e9);
    }

    private static TrainingExamples synthetic(Options o, ModelConfig config, Map<String, Object> source,
            PrintStream out) {
        SyntheticGenerator.Config cfg = new SyntheticGenerator.Config();
        cfg.users = o.syntheticUsers;
        cfg.items = o.syntheticItems;
        cfg.categories = o.syntheticCategories;
        cfg.seed = o.seed;
        long count = o.maxEvents > 0 ? o.maxEvents : DEFAULT_SYNTHETIC_EVENTS;
        SyntheticGenerator generator = new SyntheticGenerator(cfg);
        TrainingExamples all = TrainingExamples.fromEvents(() -> generator.events(count), config.historyLength());
        source.put("synthetic", true);
        source.put("users", cfg.users);
        source.put("items", cfg.items);
        source.put("categories", cfg.categories);
        source.put("seed", cfg.seed);
        source.put("events", all.size());
        out.printf(Locale.ROOT, "synthetic: %,d events (%,d users, %,d items, %,d categories, seed %d)%n",
                all.size(), cfg.users, cfg.items, cfg.categories, cfg.seed);
        return all;
    }

    private static TrainingExamples readEvents(Options o, ModelConfig config, Map<String, Object> source,
            PrintStream out, PrintStream err) throws IOException {
        BehaviorEventParser parser = new BehaviorEventParser();
        long[] bad = new long[1];
        TrainingExamples all;
        try (BufferedReader r = Files.newBufferedReader(o.events, StandardCharsets.UTF_8)) {
            Iterator<BehaviorEvent> events = new Iterator<>() {
                private long lineNo;
                private long parsed;
                private BehaviorEvent next;

                @Override
                public boolean hasNext() {
                    while (next == null && (o.maxEvents <= 0 || parsed < o.maxEvents)) {
                        String line;
                        try {
                            line = r.readLine();
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                        if (line == null) {
                            return false;
                        }
                        lineNo++;
                        if (line.isBlank()) {
                            continue;
                        }
                        try {
                            next = parser.parse(line.getBytes(StandardCharsets.UTF_8));
                            parsed++;
                        } catch (InvalidEventException e) {
                            if (++bad[0] <= MAX_BAD_LINE_MESSAGES) {
                                err.println(o.events.getFileName() + ":" + lineNo + ": skipped: " + e.getMessage());
                            }
                        }
                    }
                    return next != null;
                }

                @Override
                public BehaviorEvent next() {
                    if (!hasNext()) {
                        throw new NoSuchElementException();
                    }
                    BehaviorEvent e = next;
                    next = null;
                    return e;
                }
            };
            all = TrainingExamples.fromEvents(() -> events, config.historyLength());
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        if (bad[0] > MAX_BAD_LINE_MESSAGES) {
            err.println("... " + (bad[0] - MAX_BAD_LINE_MESSAGES) + " more bad lines skipped");
        }
        source.put("file", o.events.toString());
        source.put("events", all.size());
        source.put("badLines", bad[0]);
        out.printf(Locale.ROOT, "read %,d events from %s (%,d bad lines skipped)%n", all.size(), o.events, bad[0]);
        return all;
    }

    private static void writeSummary(Options o, Map<String, Object> source, TrainingExamples train,
            TwoTowerTrainer.Result result, Evaluation.HitRates hr, Path dir) throws IOException {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode s = mapper.createObjectNode();
        s.put("version", o.version);
        s.put("path", dir.toString());
        s.set("source", mapper.valueToTree(source));
        s.put("examples", train.size());
        s.put("epochs", result.epochs());
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
        Path parentDir = o.summaryJson.toAbsolutePath().getParent();
        if (parentDir != null) {
            Files.createDirectories(parentDir);
        }
        mapper.writeValue(o.summaryJson.toFile(), s);
    }
}
