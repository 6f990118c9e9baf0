package io.towerflow.model;

import java.math.BigDecimal;

/**
 * The training recipe: every hyper-parameter of a two-tower training, with one set of defaults
 * ({@link #DEFAULT}, the recipe of docs/model.md that {@code train} and {@code evaluate} run with).
 * A retraining round warm-starts from the serving version with {@link #forWarmStart()}, a named
 * derivation of the same recipe rather than a second set of defaults.
 *
 * <p>The command-line flags of {@code train}, {@code evaluate} and {@code retrain} map onto it
 * ({@code io.towerflow.cli.RecipeOptions}); the retraining job's {@code towerflow.retrain.*}
 * options take their defaults from {@code DEFAULT.forWarmStart()}.
 *
 * @param batchSize examples per step (each other's in-batch negatives)
 * @param epochs the most passes over the data (with validation users, early stopping may stop sooner)
 * @param learningRate Adam step size of the towers' dense layers
 * @param embeddingLearningRate Adam step size of the embedding rows
 * @param embeddingWeightDecay decoupled weight decay of the embedding rows (0 = off)
 * @param logQ where the logQ correction's sampling probabilities come from
 * @param schedule how the learning rates move over a fit
 * @param uniformNegatives items drawn uniformly as extra negatives per step (mixed negative sampling)
 * @param seed shuffling, sampling and initialisation seed
 * @param validationUsers about this many users' last training events are held out for early
 *     stopping and the repeat boost's fit (0 = none: every epoch runs, no boost is fitted)
 * @param validationEvents each validation user's last this many training events are held out
 * @param patience early stopping ends training after this many epochs in a row that do not beat the best
 * @param epochAveraging with validation users: when training ran past the best epoch, the mean of
 *     the best epoch's parameters and the next epoch's is scored on the validation users too, and
 *     kept instead of the best epoch's when it scores higher
 */
public record TrainingRecipe(
        int batchSize,
        int epochs,
        float learningRate,
        float embeddingLearningRate,
        float embeddingWeightDecay,
        TwoTowerTrainer.LogQ logQ,
        TwoTowerTrainer.Schedule schedule,
        int uniformNegatives,
        long seed,
        int validationUsers,
        int validationEvents,
        int patience,
        boolean epochAveraging) {

    /** Most uniform negatives a step may draw. */
    public static final int MAX_UNIFORM_NEGATIVES = 1 << 16;

    /**
     * The recipe (docs/model.md, "Training"): batch 512, at most 8 epochs with early stopping
     * (patience 1) on the last 5 training events of about 2,000 validation users, Adam at 0.002
     * (dense layers) and 0.02 (embedding rows), constant, no weight decay, streaming logQ, 2,048
     * uniform negatives a step (0 / 512 / 2,048 gave HR@20 0.254 / 0.282 / 0.311 on 1M × 1M),
     * seed 42, epoch averaging on (Amazon Beauty: validation HR@20 0.1467 → 0.1482, see
     * docs/model.md).
     */
    public static final TrainingRecipe DEFAULT = new TrainingRecipe(512, 8, 2e-3f, 2e-2f, 0f,
            TwoTowerTrainer.LogQ.STREAMING, TwoTowerTrainer.Schedule.CONSTANT, 2048, 42L, 2_000, 5, 1, true);

    public TrainingRecipe {
        require(batchSize >= 2, "batch size must be >= 2, got " + batchSize);
        require(epochs > 0, "epochs must be > 0, got " + epochs);
        require(learningRate > 0 && Float.isFinite(learningRate), "learning rate must be a number > 0, got " + learningRate);
        require(embeddingLearningRate > 0 && Float.isFinite(embeddingLearningRate),
                "embedding learning rate must be a number > 0, got " + embeddingLearningRate);
        require(embeddingWeightDecay >= 0 && Float.isFinite(embeddingWeightDecay),
                "embedding weight decay must be a number >= 0, got " + embeddingWeightDecay);
        require(logQ != null && schedule != null, "logQ and schedule must be given");
        require(uniformNegatives >= 0 && uniformNegatives <= MAX_UNIFORM_NEGATIVES,
                "uniform negatives must be in [0, " + MAX_UNIFORM_NEGATIVES + "], got " + uniformNegatives);
        require(validationUsers >= 0, "validation users must be >= 0, got " + validationUsers);
        require(validationEvents > 0, "validation events must be > 0, got " + validationEvents);
        require(patience > 0, "patience must be > 0, got " + patience);
    }

    /**
     * The recipe of a warm start (a retraining round from the serving version): one pass, half
     * the batch, a tenth of both learning rates, no validation users; everything else as this
     * recipe, the uniform negatives above all, so that a warm start keeps the objective its parent
     * was trained with. A warm start begins with new Adam moments, and full-size first steps undo
     * what the parent learnt (on the window of docs/model-lifecycle.md the fresh rates took HR@20
     * from 0.1720 to 0.1501, a tenth of them to 0.1740). A round does not stop early: the newest
     * slice of its window, held out, decides promotion. These are the values {@code RetrainJob}
     * has run with since it was written (batch 256, 1 epoch, 2e-4 / 2e-3).
     */
    public TrainingRecipe forWarmStart() {
        return new TrainingRecipe(Math.max(2, batchSize / 2), 1, tenth(learningRate), tenth(embeddingLearningRate),
                embeddingWeightDecay, logQ, schedule, uniformNegatives, seed, 0, validationEvents, patience,
                epochAveraging);
    }

    /**
     * The trainer's options for this recipe: progress every 100 steps to nowhere until {@link
     * TwoTowerTrainer.Options#withProgress} says where.
     */
    public TwoTowerTrainer.Options trainerOptions() {
        return new TwoTowerTrainer.Options(batchSize, epochs, learningRate, embeddingLearningRate, seed, 100,
                null, null, logQ, schedule, uniformNegatives, embeddingWeightDecay);
    }

    /** A tenth of {@code x} in decimal (0.002 → 0.0002 exactly as written, not 0.002f × 0.1f). */
    private static float tenth(float x) {
        return new BigDecimal(Float.toString(x)).movePointLeft(1).floatValue();
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
