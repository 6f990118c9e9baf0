package io.towerflow.cli;

import picocli.CommandLine.Option;

/** {@code -h, --help}: every command's generated help (a picocli mixin). */
public final class HelpOption {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;
}
