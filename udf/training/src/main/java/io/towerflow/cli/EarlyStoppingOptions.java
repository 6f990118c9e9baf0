package io.towerflow.cli;

import io.towerflow.model.TrainingRecipe;

import picocli.CommandLine.Option;

/**
 * Early stopping of a fresh training ({@code train}, {@code evaluate}): the flags of {@link
 * TrainingRecipe#validationUsers()}, {@link TrainingRecipe#validationEvents()}, {@link
 * TrainingRecipe#patience()} and {@link TrainingRecipe#epochAveraging()}, defaulting to {@link TrainingRecipe#DEFAULT}'s (a picocli mixin, read
 * by {@link RecipeOptions#recipe(EarlyStoppingOptions)}).
 */
public final class EarlyStoppingOptions {
    @Option(names = "--validation-users", paramLabel = "N",
            description = "About this many users' last training events are held out: after every epoch their HR@20"
                    + " decides whether to go on, then the repeat boost is fitted on them; 0 = none"
                    + " (default: ${DEFAULT-VALUE}).")
    int validationUsers = TrainingRecipe.DEFAULT.validationUsers();

    @Option(names = "--validation-events", paramLabel = "N",
            description = "Each validation user's last this many training events are held out"
                    + " (default: ${DEFAULT-VALUE}).")
    int validationEvents = TrainingRecipe.DEFAULT.validationEvents();

    @Option(names = "--patience", paramLabel = "N",
            description = "Stop after this many epochs in a row that do not beat the best (default: ${DEFAULT-VALUE}).")
    int patience = TrainingRecipe.DEFAULT.patience();

    @Option(names = "--epoch-averaging", paramLabel = "BOOL", arity = "1",
            description = "When training ran past the best epoch, also score the mean of the best epoch's and the"
                    + " next epoch's parameters on the validation users and keep it if it is better"
                    + " (default: ${DEFAULT-VALUE}).")
    boolean epochAveraging = TrainingRecipe.DEFAULT.epochAveraging();
}
