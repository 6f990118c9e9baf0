package io.towerflow.retrain;

import io.towerflow.config.KafkaEndpoint;
import io.towerflow.config.KafkaOptions;
import io.towerflow.config.ModelOptions;
import io.towerflow.config.ModelUpdateOptions;
import io.towerflow.config.RetrainOptions;
import io.towerflow.cli.Cli;
import io.towerflow.cli.PrintingCommand;
import io.towerflow.cli.RecipeOptions;
import io.towerflow.model.TrainingRecipe;
import io.towerflow.operators.DjlRuntime;
import io.towerflow.operators.ModelStore;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Retrains the serving model on a window of {@code rec-feedback} and promotes the result only if
 * it is not worse on the window's newest slice; see {@link RetrainRound} for one round and
 * docs/model-lifecycle.md for the whole loop.
 *
 * <pre>
 * RetrainJob --bootstrap-servers HOST:PORT [--model-root model-artifacts] [--serving DIR]
 *            [--from-offsets committed|earliest] [--group-id towerflow-retrain]
 *            [--from-ts T] [--to-ts T] [--held-out-fraction 0.2] [--margin 0.0] [--eval-k 20]
 *            [--min-examples 1000] [recipe flags: --epochs 1 --batch-size 256 --learning-rate 2e-4 ...]
 *            [--every DURATION] [--dry-run] [--summary-json FILE] [--towerflow.&lt;option&gt; VALUE ...]
 * RetrainJob --bootstrap-servers HOST:PORT --rollback-to DIR [--model-root DIR]
 * RetrainJob --bootstrap-servers HOST:PORT --publish DIR
 * </pre>
 *
 * Every flag but {@code --summary-json}, {@code --publish} and {@code --rollback-to} sets one
 * {@code towerflow.*} option ({@link #FLAGS}; the help prints each option's description from its
 * {@link ConfigOption}); {@code --towerflow.<key> VALUE} sets any option by its key, and a flag
 * wins over it. The recipe flags are the shared {@link RecipeOptions}, defaulting to {@link
 * TrainingRecipe#forWarmStart()} as the {@link RetrainOptions} do.
 *
 * {@code --rollback-to} serves an older version again: the job serves the highest valid version
 * on model-updates, so the old parameters and catalogue are written as a new, higher version
 * (parent = the old one) and that is published. {@code --publish} publishes an existing version
 * as it is (e.g. after a round wrote it but could not publish it); the job takes it only if it is
 * the highest.
 *
 * Runs one round, for a scheduler, or one every {@code --every} until Ctrl-C. Exit status: 0 when
 * the round completed, whether or not it promoted (the summary says {@code "promoted"}); 1 when it
 * failed; 2 on bad usage.
 */
@Command(name = "retrain", sortOptions = false, modelTransformer = RetrainJob.ConfigFlags.class,
        description = {"Retrains the serving model on a window of rec-feedback (warm start), compares it with the"
                + " serving version on the window's newest slice and promotes it (writes and publishes a version)"
                + " only if it is not worse.",
                "   or: --publish DIR | --rollback-to DIR publishes an existing version (again, as a new one).",
                "T is epoch ms or an ISO-8601 instant; DURATION like 30 min, 1 h; options in docs/configuration.md."},
        footer = "Any towerflow.* option: --towerflow.<key> VALUE (a flag above wins over it).")
public final class RetrainJob extends PrintingCommand {
    /** The flags that set one option each, and the options they set (the recipe's included). */
    static final Map<String, ConfigOption<?>> FLAGS = flags();

    @Mixin
    RecipeOptions recipe = new RecipeOptions(TrainingRecipe.DEFAULT.forWarmStart());

    @Option(names = "--dry-run", description = "Train and evaluate only: write no version, publish nothing, commit"
            + " no offsets (" + "towerflow.retrain.dry-run).")
    boolean dryRun;

    @Option(names = "--summary-json", paramLabel = "FILE", description = "Write the round's summary as JSON.")
    Path summaryJson;

    @Option(names = "--publish", paramLabel = "VERSION_DIR", description = "Publish this existing version as it is.")
    Path publish;

    @Option(names = "--rollback-to", paramLabel = "VERSION_DIR",
            description = "Serve this older version again: write it as a new, higher version and publish that.")
    Path rollbackTo;

    @Unmatched
    List<String> unmatched;

    RetrainJob(PrintStream out, PrintStream err) {
        super(out, err);
    }

    /** The command on the process's streams (for picocli and the help test). */
    public RetrainJob() {
        this(System.out, System.err);
    }

    private static Map<String, ConfigOption<?>> flags() {
        Map<String, ConfigOption<?>> m = new LinkedHashMap<>();
        m.put("--bootstrap-servers", KafkaOptions.BOOTSTRAP_SERVERS);
        m.put("--model-root", RetrainOptions.MODEL_ROOT);
        m.put("--serving", RetrainOptions.SERVING);
        m.put("--from-offsets", RetrainOptions.FROM_OFFSETS);
        m.put("--group-id", RetrainOptions.GROUP_ID);
        m.put("--from-ts", RetrainOptions.FROM_TS);
        m.put("--to-ts", RetrainOptions.TO_TS);
        m.put("--held-out-fraction", RetrainOptions.HELD_OUT_FRACTION);
        m.put("--margin", RetrainOptions.MARGIN);
        m.put("--eval-k", RetrainOptions.EVAL_K);
        m.put("--min-examples", RetrainOptions.MIN_EXAMPLES);
        m.put("--epochs", RetrainOptions.EPOCHS);
        m.put("--batch-size", RetrainOptions.BATCH_SIZE);
        m.put("--uniform-negatives", RetrainOptions.UNIFORM_NEGATIVES);
        m.put("--learning-rate", RetrainOptions.LEARNING_RATE);
        m.put("--embedding-learning-rate", RetrainOptions.EMBEDDING_LEARNING_RATE);
        m.put("--embedding-weight-decay", RetrainOptions.EMBEDDING_WEIGHT_DECAY);
        m.put("--logq", RetrainOptions.LOGQ);
        m.put("--schedule", RetrainOptions.SCHEDULE);
        m.put("--seed", RetrainOptions.SEED);
        m.put("--threads", ModelOptions.NUM_THREADS);
        m.put("--every", RetrainOptions.EVERY);
        m.put("--feedback-topic", KafkaOptions.FEEDBACK_TOPIC);
        m.put("--model-updates-topic", KafkaOptions.MODEL_UPDATES_TOPIC);
        return m;
    }

    /**
     * Declares each flag of {@link #FLAGS} that the recipe does not as a string option described
     * by its ConfigOption, so that a flag, its option and its help are written once.
     */
    static final class ConfigFlags implements CommandLine.IModelTransformer {
        @Override
        public CommandSpec transform(CommandSpec spec) {
            FLAGS.forEach((name, option) -> {
                if (spec.findOption(name) == null) {
                    spec.addOption(OptionSpec.builder(name)
                            .paramLabel(name.endsWith("-ts") ? "T" : name.equals("--every") ? "DURATION"
                                    : name.equals("--bootstrap-servers") ? "HOST:PORT" : "VALUE")
                            .type(String.class)
                            .required(false)
                            .description(Cli.describe(option))
                            .build());
                }
            });
            return spec;
        }
    }

    /** A parsed command line: the options, and what only the command line says. */
    public record Invocation(Configuration conf, Path summaryJson, Path publish, Path rollbackTo) {}

    /** The invocation of a command line; throws IllegalArgumentException on bad usage. */
    public static Invocation parse(String... args) {
        RetrainJob job = new RetrainJob();
        try {
            Cli.of(job).parseArgs(args);
            return job.invocation();
        } catch (CommandLine.ParameterException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** The options the parsed flags give: {@code --towerflow.*} pairs first, then the flags. */
    private Invocation invocation() {
        Map<String, String> map = new LinkedHashMap<>(Cli.towerflowOptions(spec, unmatched));
        for (OptionSpec o : spec.commandLine().getParseResult().matchedOptions()) {
            ConfigOption<?> option = FLAGS.get(o.longestName());
            if (option != null) {
                map.put(option.key(), String.valueOf((Object) o.getValue()));
            }
        }
        if (dryRun) {
            map.put(RetrainOptions.DRY_RUN.key(), "true");
        }
        if (publish != null && rollbackTo != null) {
            throw Cli.usage(spec, "give one of --publish and --rollback-to");
        }
        Configuration conf = Configuration.fromMap(map);
        try {
            validate(conf);
        } catch (IllegalArgumentException e) {
            throw Cli.usage(spec, e.getMessage());
        }
        return new Invocation(conf, summaryJson, publish, rollbackTo);
    }

    /** Reads every option once, so that a bad value is a usage error before anything starts. */
    private static void validate(Configuration conf) {
        if (conf.getOptional(KafkaOptions.BOOTSTRAP_SERVERS).isEmpty()) {
            throw new IllegalArgumentException("--bootstrap-servers is required");
        }
        double f = conf.get(RetrainOptions.HELD_OUT_FRACTION);
        require(f > 0 && f < 1, "--held-out-fraction must be in (0, 1)");
        require(Double.isFinite(conf.get(RetrainOptions.MARGIN)), "--margin must be a number");
        require(conf.get(RetrainOptions.EVAL_K) > 0, "--eval-k must be > 0");
        require(conf.get(RetrainOptions.MIN_EXAMPLES) >= 2, "--min-examples must be >= 2");
        RetrainOptions.recipe(conf);
        require(conf.get(ModelOptions.NUM_THREADS) > 0, "--threads must be > 0");
        conf.get(RetrainOptions.DRY_RUN);
        require(conf.get(RetrainOptions.READ_TIMEOUT).toMillis() > 0, "read-timeout must be > 0");
        conf.getOptional(RetrainOptions.EVERY)
                .ifPresent(d -> require(d.toMillis() > 0, "--every must be > 0"));
        RetrainRound.bounds(conf);
        KafkaEndpoint.of(conf);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the command (one round, rounds --every, or --publish); returns the exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        return Cli.execute(new RetrainJob(out, err), out, err, args);
    }

    @Override
    public Integer call() {
        Invocation inv = invocation();
        DjlRuntime.configureThreads(inv.conf().get(ModelOptions.NUM_THREADS), 1);
        ProgressLog log = new ProgressLog(out, err, Clock.systemUTC());
        if (inv.publish() != null || inv.rollbackTo() != null) {
            return publish(inv, log);
        }
        Duration every = inv.conf().getOptional(RetrainOptions.EVERY).orElse(null);
        return every == null ? once(inv, log) : loop(inv, every, log);
    }

    /** One round: 0 when it completed (promoted or not), 1 when it failed. */
    static int once(Invocation inv, ProgressLog log) {
        long t0 = System.nanoTime();
        try {
            RetrainRound.Result r = RetrainRound.run(inv.conf(), Clock.systemUTC(), log);
            log.info("%s (%.1f s)", r.reason(), (System.nanoTime() - t0) / 1e9);
            if (inv.summaryJson() != null) {
                writeSummary(inv.summaryJson(), r);
                log.info("summary %s", inv.summaryJson());
            }
            return 0;
        } catch (Exception e) {
            log.error("retraining failed: %s", e);
            return 1;
        }
    }

    /** Rounds every {@code every} (from the start of one to the start of the next) until Ctrl-C. */
    static int loop(Invocation inv, Duration every, ProgressLog log) {
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stop.countDown();
            try {
                // a waiting loop ends at once; a round in progress is cut short when the JVM exits
                stopped.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "retrain-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            long next = System.nanoTime();
            for (int round = 1; ; round++) {
                log.info("round %d (every %s)", round, every);
                if (once(inv, log) != 0) {
                    log.warn("round %d failed; trying again in the next period", round);
                }
                next += every.toNanos();
                long wait = next - System.nanoTime();
                if (wait < 0) {
                    log.warn("round %d took longer than the period; the next one starts now", round);
                    next = System.nanoTime();
                    wait = 0;
                }
                if (stop.await(wait, TimeUnit.NANOSECONDS)) {
                    log.info("stopped");
                    return 0;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        } finally {
            stopped.countDown();
        }
    }

    /**
     * Publishes the update of an existing version directory, or, for {@code --rollback-to}, of a
     * copy of it as a new version that sorts after every version published or under the root.
     */
    static int publish(Invocation inv, ProgressLog log) {
        Path dir = inv.publish() != null ? inv.publish() : inv.rollbackTo();
        try {
            publish(inv.conf(), dir, inv.rollbackTo() != null, log);
            return 0;
        } catch (Exception e) {
            log.error("publishing %s failed: %s", dir, e);
            return 1;
        }
    }

    /**
     * Publishes version {@code dir} on model-updates (signed when {@code towerflow.model.signing-secret}
     * is set); with {@code rollback}, first writes it again under the model root as a version that
     * sorts after every published one, and publishes that.
     */
    public static void publish(Configuration conf, Path dir, boolean rollback, ProgressLog log) throws Exception {
        KafkaEndpoint bootstrap = KafkaEndpoint.of(conf);
        String topic = conf.get(KafkaOptions.MODEL_UPDATES_TOPIC);
        Duration timeout = conf.get(RetrainOptions.READ_TIMEOUT);
        ModelUpdates.Verified v = ModelUpdates.of(dir);
        if (rollback) {
            Path root = Paths.get(conf.get(RetrainOptions.MODEL_ROOT));
            Set<String> taken = new TreeSet<>(ModelVersions.names(root));
            ModelUpdates.readAll(bootstrap, topic, timeout, log).forEach(p -> taken.add(p.update().version));
            String version = ModelVersions.next(Instant.now(), taken);
            Path copy = ModelVersions.copyAs(v.artifacts(), root, version, Instant.now());
            log.info("wrote %s: %s again, as a version that sorts after every published one", copy,
                    v.update().version);
            v = ModelUpdates.of(copy);
        }
        ModelStore.signIfSet(v.artifacts().dir(), conf.get(ModelUpdateOptions.SIGNING_SECRET));
        var md = ModelUpdates.publish(bootstrap, topic, v.update(), timeout);
        log.info("published %s to %s-%d@%d", v.update(), md.topic(), md.partition(), md.offset());
    }

    /** The summary of a round as JSON (NaN, e.g. a hit rate never measured, is written as null). */
    public static ObjectNode summary(RetrainRound.Result r) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode s = mapper.createObjectNode();
        s.put("servingVersion", r.servingVersion());
        s.put("candidateVersion", r.candidateVersion());
        s.put("promoted", r.promoted());
        ObjectNode w = s.putObject("window");
        w.put("fromTs", r.window().fromTs());
        w.put("toTs", r.window().toTs());
        w.put("examples", r.window().events());
        ObjectNode rec = w.putObject("records");
        rec.put("read", r.records().read());
        rec.put("notFeedback", r.records().notFeedback());
        rec.put("unusable", r.records().unusable());
        rec.put("outsideBounds", r.records().outsideBounds());
        ObjectNode h = s.putObject("heldOut");
        h.put("examples", r.heldOutExamples());
        h.put("fromTs", r.heldOutExamples() == 0 ? null : r.heldOutFromTs());
        number(h.putObject("current"), "HR@" + r.k(), r.currentHitRate());
        number(h.putObject("candidate"), "HR@" + r.k(), r.candidateHitRate());
        s.put("margin", r.margin());
        s.put("trainSeconds", r.trainSeconds());
        s.put("published", r.published());
        s.put("dryRun", r.dryRun());
        s.put("reason", r.reason());
        s.put("path", r.versionDir() == null ? null : r.versionDir().toString());
        if (r.update() != null) {
            s.put("uri", r.update().uri);
            s.put("sha256", r.update().sha256);
        }
        ObjectNode c = s.putObject("committedOffsets");
        r.committed().forEach((tp, om) -> c.put(tp.toString(), om.offset()));
        return s;
    }

    private static void number(ObjectNode n, String field, double v) {
        if (Double.isNaN(v)) {
            n.putNull(field);
        } else {
            n.put(field, v);
        }
    }

    private static void writeSummary(Path file, RetrainRound.Result r) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.write(file, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                .writeValueAsBytes(summary(r)));
    }
}
