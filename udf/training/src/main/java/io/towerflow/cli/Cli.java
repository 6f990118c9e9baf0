package io.towerflow.cli;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.description.HtmlFormatter;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one command-line style of the launcher's subcommands: picocli, with help generated from the
 * options ({@code --help}), enums in any case, integers with {@code _} separators (1_000_000),
 * exit status 0 on success and for {@code --help}, 2 on bad usage
 * (the error and the usage on stderr), 1 when the command fails ({@code error: ...} on stderr).
 */
public final class Cli {
    /** Exit status of a usage error (picocli's own). */
    public static final int USAGE = CommandLine.ExitCode.USAGE;

    private Cli() {}

    /** A command line for an annotated {@code command} object, in the launcher's style. */
    public static CommandLine of(Object command) {
        CommandLine cl = new CommandLine(command);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setUsageHelpAutoWidth(true);
        abbreviateSynopsis(cl);
        cl.registerConverter(Integer.class, v -> Integer.valueOf(v.replace("_", "")));
        cl.registerConverter(Integer.TYPE, v -> Integer.valueOf(v.replace("_", "")));
        cl.registerConverter(Long.class, v -> Long.valueOf(v.replace("_", "")));
        cl.registerConverter(Long.TYPE, v -> Long.valueOf(v.replace("_", "")));
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            commandLine.getErr().println("error: " + e);
            commandLine.getErr().flush();
            return CommandLine.ExitCode.SOFTWARE;
        });
        return cl;
    }

    /** {@code Usage: train [-h] [OPTIONS]}, the options listed once, below it (subcommands too). */
    private static void abbreviateSynopsis(CommandLine cl) {
        cl.getCommandSpec().usageMessage().abbreviateSynopsis(true);
        cl.getSubcommands().values().forEach(Cli::abbreviateSynopsis);
    }

    /** Parses {@code args} and runs {@code command}; returns the exit status. */
    public static int execute(Object command, PrintStream out, PrintStream err, String... args) {
        CommandLine cl = of(command);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int status = cl.execute(args);
        out.flush();
        err.flush();
        return status;
    }

    /** A usage error of {@code spec}'s command: exit status 2, the message and the usage on stderr. */
    public static ParameterException usage(CommandSpec spec, String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /**
     * The {@code --towerflow.<key> VALUE} (or {@code --towerflow.<key>=VALUE}) pairs among the
     * arguments no option took, as configuration keys and values in their order; any other
     * argument is a usage error ("Unknown option").
     */
    public static Map<String, String> towerflowOptions(CommandSpec spec, List<String> unmatched) {
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; unmatched != null && i < unmatched.size(); i++) {
            String a = unmatched.get(i);
            if (!a.startsWith("--towerflow.")) {
                throw usage(spec, "Unknown option: '" + a + "'");
            }
            int eq = a.indexOf('=');
            if (eq > 0) {
                out.put(a.substring(2, eq), a.substring(eq + 1));
            } else if (i + 1 < unmatched.size()) {
                out.put(a.substring(2), unmatched.get(++i));
            } else {
                throw usage(spec, "Missing value for " + a);
            }
        }
        return out;
    }

    /** Plain text of a ConfigOption's description, with its key, for an option's help. */
    public static String describe(ConfigOption<?> option) {
        String text = new HtmlFormatter().format(option.description())
                .replace("&gt;", ">").replace("&lt;", "<").replace("&quot;", "\"").replace("&#39;", "'")
                .replace("&amp;", "&");
        return text + " (" + option.key() + (option.hasDefaultValue() ? ", default: " + option.defaultValue() : "") + ")";
    }
}
