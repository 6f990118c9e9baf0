package io.towerflow.devkit;

import io.towerflow.cli.Cli;
import io.towerflow.cli.PrintingCommand;
import io.towerflow.devkit.eval.IntentShift;
import io.towerflow.devkit.eval.OracleRanker;
import io.towerflow.devkit.eval.Plots;
import io.towerflow.devkit.eval.SearchEvaluation;
import io.towerflow.eval.CoOccurrenceRanker;
import io.towerflow.eval.EvalCase;
import io.towerflow.eval.LeaveOneOutSplit;
import io.towerflow.eval.PopularityRanker;
import io.towerflow.eval.Ranker;
import io.towerflow.eval.RankingMetrics;
import io.towerflow.eval.TemporalSplit;
import io.towerflow.eval.TwoTowerRanker;
import io.towerflow.model.InvalidModelException;
import io.towerflow.model.ItemCatalogue;
import io.towerflow.model.ModelArtifacts;
import io.towerflow.model.ModelConfig;
import io.towerflow.model.RepeatBoost;
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

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Offline evaluation on a temporal split: per user, the last {@code --test-events} events are the
 * next interactions to predict, everything before them trains. The two-tower model (trained here
 * on the training part with {@link TrainCommand}'s options and recipe, or an existing version with
 * {@code --model}), popularity, item co-occurrence ("viewed together") and, on synthetic data, the
 * generator's oracle rank the same catalogue (the items of the training part) for the same users;
 * the table gives HR@K, Recall@K and NDCG@K for K = 10, 20, 50. On synthetic data it then measures
 * how many events the lists need to follow a planted intent shift, through the real job DAG
 * ({@link IntentShift}). {@code deploy/local/towerflow evaluate --help} lists the options.
 *
 * {@code --protocol leave-one-out} replaces the temporal split by the sequential-recommendation
 * literature's ({@link LeaveOneOutSplit}): last event = test target, the one before = validation
 * target (early stopping), the whole file's items as candidates, every earlier item excluded;
 * {@code --test-events}, {@code --max-test-users} and {@code --exclude-seen} do not apply to it.
 *
 * <p>{@code --out} writes the evaluated model as a version whose manifest carries the metrics
 * ({@code eval.<method>.<metric>}). Exit status 0 on success, 2 on bad usage, 1 on failure.
 */
@Command(name = "evaluate", sortOptions = false,
        description = "Two-tower model vs popularity, co-occurrence and (synthetic) the oracle on a temporal or"
                + " leave-one-out split: HR, Recall and NDCG at 10, 20, 50; on synthetic data, how fast the lists"
                + " follow a planted intent shift.")
public final class EvaluateCommand extends PrintingCommand {
    /** Longest list scored (the largest K of the table). */
    static final int MAX_K = 50;
    static final int TOP_K = 20;
    /** With searches: every this many items one is cold (never in training; title and category only). */
    static final int COLD_EVERY = 50;
    /** Users whose history a planted search follows. */
    static final int SEARCH_USERS = 200;

    @Mixin
    final Options options = new Options();

    EvaluateCommand(PrintStream out, PrintStream err) {
        super(out, err);
    }

    /** The command on the process's streams (for picocli and the help test). */
    public EvaluateCommand() {
        this(System.out, System.err);
    }

    /** The evaluation's options: the training options of {@link TrainCommand} and the split's (a picocli mixin). */
    static final class Options {
        @Mixin
        final TrainCommand.Options train = new TrainCommand.Options();

        @Option(names = "--protocol", paramLabel = "temporal|leave-one-out",
                description = "The split: the last --test-events per user, or leave-one-out (default: ${DEFAULT-VALUE}).")
        String protocol = "temporal";

        @Option(names = "--test-events", paramLabel = "N", description = "Held-out events per user (default: ${DEFAULT-VALUE}).")
        int testEvents = 5;

        @Option(names = "--max-test-users", paramLabel = "N", description = "Most users evaluated (default: ${DEFAULT-VALUE}).")
        int maxTestUsers = 10_000;

        @Option(names = "--exclude-seen", description = "Items of a user's history are not candidates.")
        boolean excludeSeen;

        @Option(names = "--model", paramLabel = "DIR", description = "Evaluate this version instead of training one.")
        Path model;

        @Option(names = "--intent-shift-users", paramLabel = "N",
                description = "Users of the intent-shift measurement (synthetic only; 0 = skip it) (default: ${DEFAULT-VALUE}).")
        int intentShiftUsers = 100;

        @Option(names = "--intent-shift-events", paramLabel = "N",
                description = "Events after the planted shift (default: ${DEFAULT-VALUE}).")
        int intentShiftEvents = 30;

        @Option(names = "--name", paramLabel = "NAME", description = "Data set name in the summary and plots (default: the file's name).")
        String name;

        @Option(names = "--plots", paramLabel = "DIR", description = "Write the loss curve and HR@K plots here.")
        Path plots;

        /** {@code temporal} (the last {@code --test-events} per user) or {@code leave-one-out} ({@link LeaveOneOutSplit}). */
        boolean leaveOneOut;

        /** Checks what picocli does not; throws IllegalArgumentException on bad usage. */
        Options validate() {
            train.validate();
            if (!protocol.equals("temporal") && !protocol.equals("leave-one-out")) {
                throw new IllegalArgumentException("--protocol must be temporal or leave-one-out, got " + protocol);
            }
            leaveOneOut = protocol.equals("leave-one-out");
            if (testEvents <= 0 || maxTestUsers <= 0 || intentShiftEvents <= 0 || intentShiftUsers < 0) {
                throw new IllegalArgumentException("--test-events, --max-test-users and --intent-shift-events must be > 0,"
                        + " --intent-shift-users >= 0");
            }
            if (train.synthetic && train.searchRate > 0) {
                train.coldEvery = COLD_EVERY;
                train.coldKeepLast = testEvents;
            }
            if (model != null && train.parent != null) {
                throw new IllegalArgumentException("give --model (evaluate a version) or --parent (train from one), not both");
            }
            if (name == null) {
                name = train.synthetic ? "synthetic" : train.events.getFileName().toString().replaceFirst("\\.[^.]*$", "");
            }
            return this;
        }
    }

    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        return Cli.execute(new EvaluateCommand(out, err), out, err, args);
    }

    @Override
    public Integer call() throws Exception {
        try {
            options.validate();
        } catch (IllegalArgumentException e) {
            throw Cli.usage(spec, e.getMessage());
        }
        DjlRuntime.configureThreads(options.train.recipeOptions.threads(), 1);
        evaluate(options, out, err);
        return 0;
    }

    /** What one method scored, and how long it took to rank every case. */
    record MethodResult(String method, RankingMetrics metrics, double seconds) {}

    static void evaluate(Options o, PrintStream out, PrintStream err) throws Exception {
        long started = System.nanoTime();
        TrainCommand.Options t = o.train;
        ModelArtifacts evaluated = o.model == null ? null : ModelArtifacts.load(o.model);
        ModelArtifacts parent = t.parent == null ? null : ModelArtifacts.load(t.parent);
        ModelConfig config = evaluated != null ? evaluated.manifest().config()
                : parent != null ? parent.manifest().config() : t.freshConfig();
        Map<String, Object> source = new LinkedHashMap<>();
        TrainingExamples all = TrainCommand.load(t, config.historyLength(), source, out, err);
        TrainingExamples train;
        ItemCatalogue catalogue;
        List<EvalCase> cases;
        int testUsers;
        LeaveOneOutSplit loo = null;
        if (o.leaveOneOut) {
            loo = LeaveOneOutSplit.of(all);
            train = loo.train();
            catalogue = loo.catalogue();
            cases = loo.cases();
            testUsers = cases.size();
            out.printf(Locale.ROOT, "split: leave-one-out: %,d training events; %,d validation and %,d test users;"
                            + " catalogue %,d items (all of the file); every earlier item excluded%n",
                    train.size(), loo.validation().size(), cases.size(), catalogue.size());
        } else {
            TemporalSplit split = TemporalSplit.of(all, o.testEvents, o.excludeSeen, o.maxTestUsers, t.recipe.seed());
            train = split.train();
            catalogue = train.catalogue();
            if (t.coldEvery > 0) {
                catalogue = catalogue.plus(coldItems(new SyntheticGenerator(t.syntheticConfig()), t.coldEvery));
            }
            cases = split.cases();
            testUsers = split.testUsers();
            out.printf(Locale.ROOT, "split: %,d training events; %,d users with %d held-out events each, %,d evaluated;"
                            + " catalogue %,d items; %s%n",
                    train.size(), split.testUsers(), o.testEvents, cases.size(), catalogue.size(),
                    o.excludeSeen ? "history items excluded" : "history items stay candidates");
        }
        if (cases.isEmpty()) {
            throw new IllegalArgumentException("no user has more than " + o.testEvents + " events");
        }

        List<double[]> lossCurve = new ArrayList<>();
        TrainCommand.Fitted trained = null;
        try (TwoTowerModel model = evaluated != null ? evaluated.loadModel(Device.cpu())
                : TrainCommand.newModel(t, config, parent, out)) {
            if (evaluated == null) {
                Consumer<TwoTowerTrainer.Progress> curve = p -> lossCurve.add(new double[] {p.step(), p.loss()});
                trained = loo != null
                        ? TrainCommand.fit(t, model, train, loo.validation(), catalogue, out, curve)
                        : TrainCommand.fit(t, model, train, out, curve);
            } else {
                out.println("evaluating version " + evaluated.manifest().version() + " from " + o.model);
            }
            String version = evaluated != null ? evaluated.manifest().version() : t.version;
            RepeatBoost repeat = evaluated != null ? evaluated.manifest().repeat() : trained.boost(t, parent);
            try (ServingModel serving = ServingModel.ofUnsaved(version, model, catalogue, repeat)) {
                SyntheticGenerator generator = t.synthetic ? new SyntheticGenerator(t.syntheticConfig()) : null;
                List<Ranker> rankers = new ArrayList<>();
                rankers.add(new TwoTowerRanker(serving));
                rankers.add(new PopularityRanker(catalogue));
                rankers.add(CoOccurrenceRanker.build(train, catalogue));
                if (generator != null) {
                    rankers.add(OracleRanker.atSplit(generator, t.syntheticEvents(), catalogue, cases));
                }
                List<MethodResult> results = new ArrayList<>();
                for (Ranker r : rankers) {
                    results.add(score(r, cases));
                }
                printTable(results, out);

                IntentShift.Result shift = null;
                if (generator != null && o.intentShiftUsers > 0) {
                    shift = intentShift(o, evaluated, model, catalogue, train, serving, generator, cases);
                    out.println(shift);
                }
                SearchEvaluation.Result search = null;
                if (generator != null && t.searchRate > 0 && evaluated == null && config.hasText() && loo == null) {
                    search = search(o, model, train, catalogue, serving, generator, cases, out);
                    out.println(search);
                }
                Map<String, Double> metrics = manifestMetrics(trained, results, shift, cases.size());
                if (t.outGiven && evaluated == null) {
                    TrainCommand.writeVersion(t.out, t.version, parent, model, repeat, train, catalogue, metrics, out);
                }
                if (t.summaryJson != null) {
                    writeSummary(o, source, testUsers, cases.size(), train.size(), catalogue, trained, results, shift,
                            search, t.summaryJson);
                    out.println("summary " + t.summaryJson);
                }
                if (o.plots != null) {
                    writePlots(o, lossCurve, results, out);
                }
            }
        }
        out.printf(Locale.ROOT, "done in %.1f s%n", (System.nanoTime() - started) / 1e9);
    }

    /** Ranks every case with {@code r} and scores the lists. */
    static MethodResult score(Ranker r, List<EvalCase> cases) {
        long t0 = System.nanoTime();
        List<String[]> lists = r.rank(cases, MAX_K);
        double seconds = (System.nanoTime() - t0) / 1e9;
        RankingMetrics m = new RankingMetrics(MAX_K);
        for (int i = 0; i < cases.size(); i++) {
            m.add(lists.get(i), cases.get(i).targets());
        }
        return new MethodResult(r.name(), m, seconds);
    }

    private static IntentShift.Result intentShift(Options o, ModelArtifacts evaluated, TwoTowerModel model,
            ItemCatalogue catalogue, TrainingExamples train, ServingModel serving, SyntheticGenerator generator,
            List<EvalCase> cases) throws Exception {
        if (evaluated != null) {
            return IntentShift.measure(evaluated.dir(), serving, generator, cases, o.intentShiftUsers,
                    o.intentShiftEvents, TOP_K, o.train.recipe.seed());
        }
        // the job loads a version from disk: write this one to a scratch directory first
        Path scratch = Files.createTempDirectory("towerflow-eval-");
        try {
            Path dir = TrainCommand.writeVersion(scratch, o.train.version, null, model, serving.repeat(), train, catalogue,
                    Map.of(), new PrintStream(PrintStream.nullOutputStream()));
            return IntentShift.measure(dir, serving, generator, cases, o.intentShiftUsers, o.intentShiftEvents,
                    TOP_K, o.train.recipe.seed());
        } finally {
            ModelArtifacts.deleteRecursively(scratch);
        }
    }

    static void printTable(List<MethodResult> results, PrintStream out) {
        Map<String, Double> first = results.get(0).metrics().table();
        StringBuilder head = new StringBuilder("| method | users |");
        StringBuilder rule = new StringBuilder("| --- | ---: |");
        for (String k : first.keySet()) {
            head.append(' ').append(k).append(" |");
            rule.append(" ---: |");
        }
        out.println(head);
        out.println(rule);
        for (MethodResult r : results) {
            StringBuilder row = new StringBuilder("| " + r.method() + " | " + r.metrics().cases() + " |");
            for (double v : r.metrics().table().values()) {
                row.append(String.format(Locale.ROOT, " %.4f |", v));
            }
            out.println(row);
        }
        MethodResult model = find(results, "twotower");
        MethodResult best = bestBaseline(results);
        MethodResult oracle = find(results, "oracle");
        if (model != null && best != null) {
            out.printf(Locale.ROOT, "HR@20: twotower %.4f = %.2f x the better baseline (%s %.4f)%s%n",
                    model.metrics().hitRate(TOP_K), model.metrics().hitRate(TOP_K) / best.metrics().hitRate(TOP_K),
                    best.method(), best.metrics().hitRate(TOP_K),
                    oracle == null ? "" : String.format(Locale.ROOT, ", %.2f x the oracle (%.4f)",
                            model.metrics().hitRate(TOP_K) / oracle.metrics().hitRate(TOP_K),
                            oracle.metrics().hitRate(TOP_K)));
        }
    }

    private static MethodResult find(List<MethodResult> results, String method) {
        return results.stream().filter(r -> r.method().equals(method)).findFirst().orElse(null);
    }

    /** Popularity or co-occurrence, whichever has the higher HR@20. */
    private static MethodResult bestBaseline(List<MethodResult> results) {
        return results.stream()
                .filter(r -> r.method().equals("popularity") || r.method().equals("cooccurrence"))
                .max(Comparator.comparingDouble(r -> r.metrics().hitRate(TOP_K)))
                .orElse(null);
    }

    static Map<String, Double> manifestMetrics(TrainCommand.Fitted trained, List<MethodResult> results,
            IntentShift.Result shift, int cases) {
        Map<String, Double> metrics = trained == null ? new LinkedHashMap<>() : TrainCommand.trainingMetrics(trained);
        metrics.put("eval.testUsers", (double) cases);
        for (MethodResult r : results) {
            r.metrics().table().forEach((k, v) -> metrics.put("eval." + r.method() + "." + k, v));
        }
        if (shift != null) {
            metrics.put("eval.intentShift.realtime", shift.realtimeMedian());
            metrics.put("eval.intentShift.stale", shift.staleMedian());
        }
        return metrics;
    }

    private static void writeSummary(Options o, Map<String, Object> source, int testUsers, int evaluatedUsers,
            int trainingEvents, ItemCatalogue catalogue, TrainCommand.Fitted fitted, List<MethodResult> results,
            IntentShift.Result shift, SearchEvaluation.Result search, Path file) throws IOException {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode s = mapper.createObjectNode();
        s.put("dataset", o.name);
        s.set("source", mapper.valueToTree(source));
        ObjectNode sp = s.putObject("split");
        sp.put("protocol", o.leaveOneOut ? "leave-one-out" : "temporal");
        sp.put("testEventsPerUser", o.leaveOneOut ? 1 : o.testEvents);
        sp.put("testUsers", testUsers);
        sp.put("evaluatedUsers", evaluatedUsers);
        sp.put("trainingEvents", trainingEvents);
        sp.put("catalogue", catalogue.size());
        sp.put("excludeSeen", o.excludeSeen || o.leaveOneOut);
        if (fitted != null) {
            TwoTowerTrainer.Result trained = fitted.run();
            ObjectNode tr = s.putObject("training");
            tr.put("examples", trained.examples());
            tr.put("epochs", trained.epochs());
            tr.put("epochsKept", fitted.epochsKept());
            tr.put("epochAveraged", fitted.averaged());
            tr.put("validationHR@20", fitted.validationHitRate());
            tr.put("steps", trained.steps());
            tr.put("firstLoss", trained.firstLoss());
            tr.put("lastLoss", trained.lastLoss());
            tr.put("examplesPerSecond", trained.examplesPerSecond());
            tr.put("seconds", trained.seconds());
            if (fitted.repeat() != null) {
                ObjectNode rb = tr.putObject("repeatBoost");
                rb.put("weight", fitted.repeat().boost().weight());
                rb.put("halfLifeEvents", fitted.repeat().boost().halfLifeEvents());
                rb.put("validationHR@20", fitted.repeat().hitRate());
                rb.put("validationHR@20Without", fitted.repeat().hitRateWithout());
            }
        }
        ObjectNode metrics = s.putObject("metrics");
        for (MethodResult r : results) {
            ObjectNode m = metrics.putObject(r.method());
            r.metrics().table().forEach(m::put);
            m.put("rankSeconds", r.seconds());
        }
        if (shift != null) {
            ObjectNode is = s.putObject("intentShift");
            is.put("realtime", shift.realtimeMedian());
            is.put("stale", shift.staleMedian());
            is.put("users", shift.users());
            is.put("eventsAfterShift", shift.eventsAfter());
            is.put("notReachedCountsAs", shift.eventsAfter() + 1);
            is.put("realtimeReached", shift.realtimeReached());
            is.put("staleReached", shift.staleReached());
        }
        if (search != null) {
            ObjectNode se = s.putObject("search");
            se.put("users", search.users());
            se.put("coldCases", search.coldCases());
            ObjectNode share = se.putObject("categoryShareAfterSearch");
            share.put("withQuery", search.shareWithQuery());
            share.put("withoutQuery", search.shareWithoutQuery());
            ObjectNode hr = se.putObject("hrAfterSearch");
            hr.put("withQuery", search.hrWithQuery());
            hr.put("withoutQuery", search.hrWithoutQuery());
            ObjectNode cold = se.putObject("coldItemHR@" + TOP_K);
            cold.put("withTitle", search.coldWithTitle());
            cold.put("idOnly", search.coldIdOnly());
        }
        TrainCommand.writeJson(mapper, s, file);
    }

    /** The cold items of a generator's catalogue, with category and title, count 0. */
    static ItemCatalogue coldItems(SyntheticGenerator g, int coldEvery) {
        List<String> ids = new ArrayList<>();
        for (int item = 1; item <= g.config().items; item++) {
            if (SearchEvaluation.isCold(item, coldEvery)) {
                ids.add(Integer.toString(item));
            }
        }
        String[] cats = ids.stream().map(g::categoryOf).toArray(String[]::new);
        String[] titles = ids.stream().map(g::title).toArray(String[]::new);
        return new ItemCatalogue(ids.toArray(new String[0]), cats, new long[ids.size()], titles);
    }

    /**
     * Trains the same recipe without text on the same events, writes both versions to a scratch
     * directory and measures them ({@link SearchEvaluation}).
     */
    private static SearchEvaluation.Result search(Options o, TwoTowerModel model, TrainingExamples train,
            ItemCatalogue catalogue, ServingModel serving, SyntheticGenerator generator, List<EvalCase> cases,
            PrintStream out) throws Exception {
        TrainCommand.Options t = o.train;
        out.println("search: training the same recipe without text");
        Path scratch = Files.createTempDirectory("towerflow-search-");
        PrintStream quiet = new PrintStream(PrintStream.nullOutputStream());
        try (TwoTowerModel plain = TrainCommand.newModel(t, model.config().withText(null), null, quiet)) {
            TrainCommand.Fitted fitted = TrainCommand.fit(t, plain, train, quiet, null);
            RepeatBoost boost = fitted.boost(t, null);
            try (ServingModel plainServing = ServingModel.ofUnsaved(t.version + "-notext", plain, catalogue, boost)) {
                Path withText = TrainCommand.writeVersion(scratch, t.version, null, model, serving.repeat(), train,
                        catalogue, Map.of(), quiet);
                Path withoutText = TrainCommand.writeVersion(scratch, t.version + "-notext", null, plain, boost, train,
                        catalogue, Map.of(), quiet);
                return SearchEvaluation.measure(withText, serving, withoutText, plainServing, generator, cases,
                        SEARCH_USERS, t.coldEvery, TOP_K, t.recipe.seed());
            }
        } finally {
            ModelArtifacts.deleteRecursively(scratch);
        }
    }

    private static void writePlots(Options o, List<double[]> lossCurve, List<MethodResult> results, PrintStream out)
            throws IOException {
        if (!lossCurve.isEmpty()) {
            Path loss = o.plots.resolve(o.name + "-loss.png");
            Plots.lossCurve("Training loss, " + o.name, lossCurve, loss);
            out.println("plot " + loss);
        }
        Map<String, double[]> curves = new LinkedHashMap<>();
        for (MethodResult r : results) {
            curves.put(r.method(), r.metrics().hitRateCurve());
        }
        Path hr = o.plots.resolve(o.name + "-hr-at-k.png");
        Plots.hitRateByK("HR@K by method, " + o.name, curves, hr);
        out.println("plot " + hr);
    }
}
