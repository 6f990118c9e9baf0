package io.towerflow.config;

import io.towerflow.model.TrainingRecipe;
import io.towerflow.model.TwoTowerTrainer;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.ReadableConfig;

import java.time.Duration;

/**
 * Options of the retraining job ({@code io.towerflow.retrain.RetrainJob}). Its topics are {@link
 * KafkaOptions#FEEDBACK_TOPIC} and {@link KafkaOptions#MODEL_UPDATES_TOPIC}, its broker {@link
 * KafkaOptions#BOOTSTRAP_SERVERS}. Its training options default to the warm-start derivation of
 * the one recipe ({@link TrainingRecipe#forWarmStart()}); {@link #recipe} reads them.
 */
public final class RetrainOptions {

    /** Where a retraining window starts when no {@link #FROM_TS} is given. */
    public enum FromOffsets {
        /** The beginning of every partition. */
        EARLIEST,
        /** The offsets the retraining consumer group committed last, else the beginning. */
        COMMITTED
    }

    public static final ConfigOption<String> MODEL_ROOT =
            ConfigOptions.key("towerflow.retrain.model-root")
                    .stringType()
                    .defaultValue("model-artifacts")
                    .withDescription(
                            "Directory of model versions: new versions are written here, and the "
                                    + "highest valid one here is the serving version when "
                                    + "model-updates names none.");

    public static final ConfigOption<String> SERVING =
            ConfigOptions.key("towerflow.retrain.serving")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Version directory to warm-start from and compare against. Default: "
                                    + "what the job serves, the highest valid version on "
                                    + "model-updates; else the highest valid one under the model "
                                    + "root.");

    public static final ConfigOption<String> GROUP_ID =
            ConfigOptions.key("towerflow.retrain.group-id")
                    .stringType()
                    .defaultValue("towerflow-retrain")
                    .withDescription(
                            "Consumer group whose committed offsets on the feedback topic mark "
                                    + "where the next window starts.");

    public static final ConfigOption<FromOffsets> FROM_OFFSETS =
            ConfigOptions.key("towerflow.retrain.from-offsets")
                    .enumType(FromOffsets.class)
                    .defaultValue(FromOffsets.COMMITTED)
                    .withDescription(
                            "Start of the window when no from-ts is given: COMMITTED (the group's "
                                    + "offsets, else the beginning) or EARLIEST. The window ends at "
                                    + "the offsets that are latest when the run starts.");

    public static final ConfigOption<String> FROM_TS =
            ConfigOptions.key("towerflow.retrain.from-ts")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Window start by record timestamp (inclusive), epoch ms or ISO-8601 "
                                    + "instant; offsets are then neither read from nor committed "
                                    + "to the group.");

    public static final ConfigOption<String> TO_TS =
            ConfigOptions.key("towerflow.retrain.to-ts")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Window end by record timestamp (exclusive), epoch ms or ISO-8601 "
                                    + "instant. Default: the offsets that are latest at start.");

    public static final ConfigOption<Double> HELD_OUT_FRACTION =
            ConfigOptions.key("towerflow.retrain.held-out-fraction")
                    .doubleType()
                    .defaultValue(0.2)
                    .withDescription(
                            "Share of the window, newest by event time, held out to compare the "
                                    + "candidate with the serving version.");

    public static final ConfigOption<Double> MARGIN =
            ConfigOptions.key("towerflow.retrain.margin")
                    .doubleType()
                    .defaultValue(0.0)
                    .withDescription(
                            "Promote iff candidate HR@K >= serving HR@K - margin on the held-out "
                                    + "slice. A negative margin demands an improvement.");

    public static final ConfigOption<Integer> EVAL_K =
            ConfigOptions.key("towerflow.retrain.eval-k")
                    .intType()
                    .defaultValue(20)
                    .withDescription("K of the held-out hit rate HR@K.");

    public static final ConfigOption<Integer> MIN_EXAMPLES =
            ConfigOptions.key("towerflow.retrain.min-examples")
                    .intType()
                    .defaultValue(1000)
                    .withDescription(
                            "A window with fewer examples is not trained on; its offsets are not "
                                    + "committed, so the next run reads it again with what came "
                                    + "since.");

    /** The recipe a round trains with unless the options below say otherwise. */
    private static final TrainingRecipe WARM_START = TrainingRecipe.DEFAULT.forWarmStart();

    public static final ConfigOption<Integer> EPOCHS =
            ConfigOptions.key("towerflow.retrain.epochs")
                    .intType()
                    .defaultValue(WARM_START.epochs())
                    .withDescription("Passes over the window's training examples (the warm-start recipe: one).");

    public static final ConfigOption<Integer> BATCH_SIZE =
            ConfigOptions.key("towerflow.retrain.batch-size")
                    .intType()
                    .defaultValue(WARM_START.batchSize())
                    .withDescription(
                            "Examples per training step (each other's in-batch negatives); the warm-start "
                                    + "recipe takes half a fresh training's batch.");

    public static final ConfigOption<Integer> UNIFORM_NEGATIVES =
            ConfigOptions.key("towerflow.retrain.uniform-negatives")
                    .intType()
                    .defaultValue(WARM_START.uniformNegatives())
                    .withDescription(
                            "Items drawn uniformly as extra negatives at every step (mixed negative "
                                    + "sampling), as in the fresh training recipe, so that a warm "
                                    + "start keeps the objective its parent was trained with; 0 = "
                                    + "in-batch negatives only.");

    public static final ConfigOption<Float> LEARNING_RATE =
            ConfigOptions.key("towerflow.retrain.learning-rate")
                    .floatType()
                    .defaultValue(WARM_START.learningRate())
                    .withDescription(
                            "Adam step size of the towers' dense layers. A tenth of a fresh "
                                    + "training's: a warm start begins with new Adam moments, and "
                                    + "full-size first steps undo what the serving version learnt.");

    public static final ConfigOption<Float> EMBEDDING_LEARNING_RATE =
            ConfigOptions.key("towerflow.retrain.embedding-learning-rate")
                    .floatType()
                    .defaultValue(WARM_START.embeddingLearningRate())
                    .withDescription("Adam step size of the embedding rows (a tenth of a fresh training's).");

    public static final ConfigOption<Float> EMBEDDING_WEIGHT_DECAY =
            ConfigOptions.key("towerflow.retrain.embedding-weight-decay")
                    .floatType()
                    .defaultValue(WARM_START.embeddingWeightDecay())
                    .withDescription(
                            "Decoupled weight decay of the embedding rows (AdamW, lazy), as in the fresh "
                                    + "training recipe; 0 = off.");

    public static final ConfigOption<TwoTowerTrainer.LogQ> LOGQ =
            ConfigOptions.key("towerflow.retrain.logq")
                    .enumType(TwoTowerTrainer.LogQ.class)
                    .defaultValue(WARM_START.logQ())
                    .withDescription(
                            "Where the logQ correction's sampling probabilities come from: STREAMING "
                                    + "(estimated batch by batch), COUNTS or NONE; as in the fresh training recipe.");

    public static final ConfigOption<TwoTowerTrainer.Schedule> SCHEDULE =
            ConfigOptions.key("towerflow.retrain.schedule")
                    .enumType(TwoTowerTrainer.Schedule.class)
                    .defaultValue(WARM_START.schedule())
                    .withDescription(
                            "How the learning rates move over a round: CONSTANT or COSINE (down to 0); "
                                    + "as in the fresh training recipe.");

    public static final ConfigOption<Long> SEED =
            ConfigOptions.key("towerflow.retrain.seed")
                    .longType()
                    .defaultValue(WARM_START.seed())
                    .withDescription("Shuffling seed of training.");

    public static final ConfigOption<Duration> EVERY =
            ConfigOptions.key("towerflow.retrain.every")
                    .durationType()
                    .noDefaultValue()
                    .withDescription(
                            "Run a round every this long until stopped (Ctrl-C); a failed round "
                                    + "is logged and retried at the next period. Default: one "
                                    + "round, for a scheduler.");

    public static final ConfigOption<Boolean> DRY_RUN =
            ConfigOptions.key("towerflow.retrain.dry-run")
                    .booleanType()
                    .defaultValue(false)
                    .withDescription(
                            "Train and evaluate only: write no version, publish nothing, commit "
                                    + "no offsets.");

    public static final ConfigOption<Duration> READ_TIMEOUT =
            ConfigOptions.key("towerflow.retrain.read-timeout")
                    .durationType()
                    .defaultValue(Duration.ofMinutes(2))
                    .withDescription(
                            "Fail the round when reading a topic makes no progress for this long.");

    private RetrainOptions() {}

    /**
     * The recipe of a round: {@link TrainingRecipe#forWarmStart()} of the one recipe, with what
     * {@code conf} sets among the options above.
     */
    public static TrainingRecipe recipe(ReadableConfig conf) {
        return new TrainingRecipe(conf.get(BATCH_SIZE), conf.get(EPOCHS), conf.get(LEARNING_RATE),
                conf.get(EMBEDDING_LEARNING_RATE), conf.get(EMBEDDING_WEIGHT_DECAY), conf.get(LOGQ),
                conf.get(SCHEDULE), conf.get(UNIFORM_NEGATIVES), conf.get(SEED), WARM_START.validationUsers(),
                WARM_START.validationEvents(), WARM_START.patience(), WARM_START.epochAveraging());
    }
}
