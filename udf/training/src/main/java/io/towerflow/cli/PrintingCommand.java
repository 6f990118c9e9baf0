package io.towerflow.cli;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.util.concurrent.Callable;

/**
 * A launcher command that prints to the streams it is given (the process's, or a test's), with
 * {@code -h, --help} and its own picocli spec for usage errors ({@link Cli#usage}).
 */
public abstract class PrintingCommand implements Callable<Integer> {
    @Mixin
    HelpOption help;

    @Spec
    protected CommandSpec spec;

    protected final PrintStream out;
    protected final PrintStream err;

    protected PrintingCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }
}
