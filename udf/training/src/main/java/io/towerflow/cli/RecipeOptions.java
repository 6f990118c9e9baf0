package io.towerflow.cli;

import io.towerflow.model.TrainingRecipe;
import io.towerflow.model.TwoTowerTrainer;

import picocli.CommandLine.Option;

/**
 * The training recipe's flags, declared once for {@code train}, {@code evaluate} and {@code
 * retrain} (a picocli mixin), each mapped onto one field of {@link TrainingRecipe}. A command
 * starts from the recipe it trains with ({@link TrainingRecipe#DEFAULT}, or its {@link
 * TrainingRecipe#forWarmStart()} for retraining), so the help shows the defaults it runs with.
 * Early stopping ({@link EarlyStoppingOptions}) is a separate mixin: only a fresh training has it.
 */
public final class RecipeOptions {
    private final TrainingRecipe base;

    @Option(names = "--epochs", paramLabel = "N",
            description = "Passes over the training examples; with validation users the most, early stopping may stop"
                    + " sooner (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch-size", paramLabel = "N",
            description = "Examples per step, each other's in-batch negatives; >= 2 (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--uniform-negatives", paramLabel = "N",
            description = "Items drawn uniformly as extra negatives at every step (mixed negative sampling);"
                    + " 0 = in-batch only (default: ${DEFAULT-VALUE}).")
    int uniformNegatives;

    @Option(names = "--learning-rate", paramLabel = "X",
            description = "Adam step size of the towers' dense layers (default: ${DEFAULT-VALUE}).")
    float learningRate;

    @Option(names = "--embedding-learning-rate", paramLabel = "X",
            description = "Adam step size of the embedding rows (default: ${DEFAULT-VALUE}).")
    float embeddingLearningRate;

    @Option(names = "--embedding-weight-decay", paramLabel = "X",
            description = "Decoupled (AdamW) weight decay of the embedding rows a step touches; 0 = off"
                    + " (default: ${DEFAULT-VALUE}).")
    float embeddingWeightDecay;

    @Option(names = "--logq", paramLabel = "streaming|counts|none",
            description = "Where the logQ correction's sampling probabilities come from (default: ${DEFAULT-VALUE}).")
    TwoTowerTrainer.LogQ logQ;

    @Option(names = "--schedule", paramLabel = "constant|cosine",
            description = "How the learning rates move over the training (default: ${DEFAULT-VALUE}).")
    TwoTowerTrainer.Schedule schedule;

    @Option(names = "--seed", paramLabel = "N",
            description = "Seed of shuffling, sampling and initialisation (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--threads", paramLabel = "N",
            description = "Intra-op threads of libtorch; 1 measured fastest on 2 cores (default: ${DEFAULT-VALUE}).")
    int threads = 1;

    /** The flags of {@link TrainingRecipe#DEFAULT}. */
    public RecipeOptions() {
        this(TrainingRecipe.DEFAULT);
    }

    /** The flags, defaulting to {@code base}'s values. */
    public RecipeOptions(TrainingRecipe base) {
        this.base = base;
        epochs = base.epochs();
        batchSize = base.batchSize();
        uniformNegatives = base.uniformNegatives();
        learningRate = base.learningRate();
        embeddingLearningRate = base.embeddingLearningRate();
        embeddingWeightDecay = base.embeddingWeightDecay();
        logQ = base.logQ();
        schedule = base.schedule();
        seed = base.seed();
    }

    /** Intra-op threads of libtorch. */
    public int threads() {
        return threads;
    }

    /** The recipe the flags give, with the base recipe's early stopping; throws when a value is out of range. */
    public TrainingRecipe recipe() {
        return recipe(base.validationUsers(), base.validationEvents(), base.patience(), base.epochAveraging());
    }

    /** The recipe the flags give, with {@code stopping}'s early stopping. */
    public TrainingRecipe recipe(EarlyStoppingOptions stopping) {
        return recipe(stopping.validationUsers, stopping.validationEvents, stopping.patience, stopping.epochAveraging);
    }

    private TrainingRecipe recipe(int validationUsers, int validationEvents, int patience, boolean epochAveraging) {
        if (threads <= 0) {
            throw new IllegalArgumentException("--threads must be > 0, got " + threads);
        }
        return new TrainingRecipe(batchSize, epochs, learningRate, embeddingLearningRate, embeddingWeightDecay, logQ,
                schedule, uniformNegatives, seed, validationUsers, validationEvents, patience, epochAveraging);
    }
}
