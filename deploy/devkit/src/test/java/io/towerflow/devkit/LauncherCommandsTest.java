package io.towerflow.devkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.cli.Cli;
import io.towerflow.config.RetrainOptions;
import io.towerflow.devkit.cluster.ClusterCli;
import io.towerflow.model.TrainingRecipe;
import io.towerflow.retrain.RetrainJob;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every Java subcommand of the launcher ({@code deploy/local/towerflow}, read here for its
 * subcommand → main class table) parses its command line with picocli: {@code --help} prints the
 * generated help and exits 0, an unknown flag exits 2 with a message, and train, evaluate and
 * retrain start from the one recipe. Nothing is run: parsing only.
 */
class LauncherCommandsTest {
    /** {@code name) java_ io.towerflow.X "$@"} lines of the launcher (the cluster line sets an env first). */
    private static final Pattern SUBCOMMAND = Pattern.compile("(?m)^\\s*([a-z]+)\\)[^\\n]*\\bjava_ (io\\.towerflow\\.[\\w.]+)");

    /** The launcher's Java subcommands and their main classes, in the script's order. */
    static Map<String, String> launcherSubcommands() throws IOException {
        Path script = Path.of("../local/towerflow");
        if (!Files.exists(script)) {
            script = Path.of("deploy/local/towerflow");
        }
        Map<String, String> m = new LinkedHashMap<>();
        Matcher x = SUBCOMMAND.matcher(Files.readString(script));
        while (x.find()) {
            m.put(x.group(1), x.group(2));
        }
        return m;
    }

    private record Outcome(int status, String out, String err) {}

    private static Outcome execute(String mainClass, String... args) throws Exception {
        Object command = Class.forName(mainClass).getConstructor().newInstance();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Cli.execute(command, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), args);
        return new Outcome(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Each launcher subcommand, and each {@code cluster} command, as the arguments that reach its main class. */
    private static List<String[]> everyCommand() throws Exception {
        List<String[]> commands = new ArrayList<>();
        for (Map.Entry<String, String> e : launcherSubcommands().entrySet()) {
            commands.add(new String[] {e.getKey(), e.getValue()});
        }
        for (String sub : Cli.of(new ClusterCli()).getSubcommands().keySet()) {
            if (!sub.equals("help")) {
                commands.add(new String[] {"cluster", ClusterCli.class.getName(), sub});
            }
        }
        return commands;
    }

    @Test
    void theLauncherHasEveryJavaSubcommand() throws Exception {
        assertEquals(List.of("demo", "train", "retrain", "cluster", "evaluate", "bench", "chaos", "soak"),
                new ArrayList<>(launcherSubcommands().keySet()));
    }

    @Test
    void everySubcommandPrintsItsGeneratedHelpAndExits0() throws Exception {
        for (String[] c : everyCommand()) {
            String[] args = c.length == 3 ? new String[] {c[2], "--help"} : new String[] {"--help"};
            Outcome o = execute(c[1], args);
            String name = String.join(" ", c[0], c.length == 3 ? c[2] : "").trim();
            assertEquals(0, o.status(), name + ": " + o.err());
            assertTrue(o.out().startsWith("Usage: " + name), name + ":\n" + o.out());
            assertTrue(o.out().contains("-h, --help"), name + ":\n" + o.out());
            assertFalse(o.out().contains("default: null") || o.out().contains("${"), name + ":\n" + o.out());
            assertEquals("", o.err(), name);
        }
    }

    @Test
    void anUnknownFlagExits2WithAMessage() throws Exception {
        for (String[] c : everyCommand()) {
            String[] args = c.length == 3 ? new String[] {c[2], "--no-such-flag", "1"} : new String[] {"--no-such-flag", "1"};
            Outcome o = execute(c[1], args);
            String name = c[0] + (c.length == 3 ? " " + c[2] : "");
            assertEquals(Cli.USAGE, o.status(), name + ": " + o.err());
            assertTrue(o.err().contains("Unknown option") && o.err().contains("'--no-such-flag'"), name + ":\n" + o.err());
            // picocli adds the usage, or for a near miss (bench --no-…) the flags it may have meant
            assertTrue(o.err().contains("Usage: ") || o.err().contains("Possible solutions"), name + ":\n" + o.err());
        }
        Outcome missing = execute(ClusterCli.class.getName());
        assertEquals(Cli.USAGE, missing.status(), "cluster without a command");
    }

    @Test
    void trainEvaluateAndRetrainStartFromTheOneRecipe() {
        TrainingRecipe train = TrainCommand.Options.parse("--synthetic").recipe;
        EvaluateCommand evaluate = new EvaluateCommand();
        Cli.of(evaluate).parseArgs("--synthetic");
        TrainingRecipe evaluated = evaluate.options.validate().train.recipe;
        TrainingRecipe retrain = RetrainOptions.recipe(RetrainJob.parse("--bootstrap-servers", "k:1").conf());
        assertEquals(TrainingRecipe.DEFAULT, train);
        assertEquals(TrainingRecipe.DEFAULT, evaluated);
        assertEquals(TrainingRecipe.DEFAULT.forWarmStart(), retrain);

        // the recipe of docs/model.md, and the flags move the same fields in every command
        assertEquals(512, train.batchSize());
        assertEquals(8, train.epochs());
        assertEquals(2048, train.uniformNegatives());
        String[] flags = {"--epochs", "3", "--batch-size", "64", "--uniform-negatives", "16", "--learning-rate", "0.01", "--embedding-learning-rate", "0.1",
            "--logq", "none", "--schedule", "cosine", "--seed", "7", "--embedding-weight-decay", "0.5"};
        TrainingRecipe trainGiven = TrainCommand.Options.parse(concat(new String[] {"--synthetic"}, flags)).recipe;
        TrainingRecipe retrainGiven = RetrainOptions.recipe(
                RetrainJob.parse(concat(new String[] {"--bootstrap-servers", "k:1"}, flags)).conf());
        assertEquals(trainGiven.trainerOptions(), retrainGiven.trainerOptions());
    }

    private static String[] concat(String[] a, String[] b) {
        String[] c = new String[a.length + b.length];
        System.arraycopy(a, 0, c, 0, a.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
