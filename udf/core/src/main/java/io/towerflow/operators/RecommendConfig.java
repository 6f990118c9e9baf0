package io.towerflow.operators;

import io.towerflow.config.ModelOptions;
import io.towerflow.config.ModelUpdateOptions;
import io.towerflow.config.RecommendOptions;
import io.towerflow.index.AnnSettings;

import org.apache.flink.configuration.ReadableConfig;

import java.io.Serializable;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/** The settings a {@link RecommendOperator} needs, read once from the job's configuration. */
public final class RecommendConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    public final String modelPath;
    public final ModelOptions.DeviceChoice device;
    public final int numThreads;
    public final int numInteropThreads;
    public final int topK;
    public final int historyLength;
    public final boolean excludeSeen;
    public final int batchMaxSize;
    public final long batchMaxWaitMs;
    public final Duration stateTtl;
    /** Where model versions from model-updates may come from. */
    public final ModelStore modelStore;
    public final int keptModelUpdates;
    /** When and how large catalogues are scored through an approximate index. */
    public final AnnSettings ann;
    /** Exploration slots at the end of each list; 0: none. */
    public final int exploreSlots;
    public final int explorePoolSize;
    public final int exploreMaxImpressions;
    public final long exploreSeed;

    private RecommendConfig(ReadableConfig conf) {
        this.modelPath =
                Objects.requireNonNull(
                        conf.get(ModelOptions.PATH), ModelOptions.PATH.key() + " is required");
        this.device = conf.get(ModelOptions.DEVICE);
        this.numThreads = conf.get(ModelOptions.NUM_THREADS);
        this.numInteropThreads = conf.get(ModelOptions.NUM_INTEROP_THREADS);
        this.topK = positive(conf, RecommendOptions.TOP_K.key(), conf.get(RecommendOptions.TOP_K));
        this.historyLength =
                positive(
                        conf,
                        RecommendOptions.HISTORY_LENGTH.key(),
                        conf.get(RecommendOptions.HISTORY_LENGTH));
        this.excludeSeen = conf.get(RecommendOptions.EXCLUDE_SEEN);
        this.batchMaxSize =
                positive(
                        conf,
                        RecommendOptions.BATCH_MAX_SIZE.key(),
                        conf.get(RecommendOptions.BATCH_MAX_SIZE));
        this.batchMaxWaitMs = conf.get(RecommendOptions.BATCH_MAX_WAIT).toMillis();
        this.stateTtl = conf.get(RecommendOptions.STATE_TTL);
        this.modelStore = new ModelStore(
                conf.getOptional(ModelUpdateOptions.ALLOWED_ROOTS)
                        .orElseGet(() -> List.of(defaultRoot(modelPath))),
                conf.get(ModelUpdateOptions.SIGNING_SECRET));
        this.keptModelUpdates =
                positive(
                        conf,
                        ModelUpdateOptions.KEPT_UPDATES.key(),
                        conf.get(ModelUpdateOptions.KEPT_UPDATES));
        this.ann = new AnnSettings(
                positive(conf, ModelOptions.ANN_MIN_ITEMS.key(), conf.get(ModelOptions.ANN_MIN_ITEMS)),
                conf.get(ModelOptions.ANN_LISTS),
                positive(conf, ModelOptions.ANN_PROBES.key(), conf.get(ModelOptions.ANN_PROBES)),
                conf.get(ModelOptions.ANN_REBUILD_FRACTION),
                AnnSettings.OFF.iterations(),
                AnnSettings.OFF.seed());
        this.exploreSlots = exploreSlots(conf, topK);
        this.explorePoolSize =
                positive(
                        conf,
                        RecommendOptions.EXPLORE_POOL_SIZE.key(),
                        conf.get(RecommendOptions.EXPLORE_POOL_SIZE));
        this.exploreMaxImpressions =
                positive(
                        conf,
                        RecommendOptions.EXPLORE_MAX_IMPRESSIONS.key(),
                        conf.get(RecommendOptions.EXPLORE_MAX_IMPRESSIONS));
        this.exploreSeed = conf.get(RecommendOptions.EXPLORE_SEED);
    }

    /** 0 &le; slots &lt; top-k; the default (1) falls to 0 for lists of one item. */
    private static int exploreSlots(ReadableConfig conf, int topK) {
        String key = RecommendOptions.EXPLORE_SLOTS.key();
        if (conf.getOptional(RecommendOptions.EXPLORE_SLOTS).isEmpty()) {
            return Math.min(RecommendOptions.EXPLORE_SLOTS.defaultValue(), topK - 1);
        }
        int slots = conf.get(RecommendOptions.EXPLORE_SLOTS);
        if (slots < 0 || slots >= topK) {
            throw new IllegalArgumentException(
                    key + " must be at least 0 and below " + RecommendOptions.TOP_K.key() + " (" + topK
                            + "), was " + slots);
        }
        return slots;
    }

    /** The directory that holds the initial model version. */
    private static String defaultRoot(String modelPath) {
        Path parent = Paths.get(modelPath).toAbsolutePath().normalize().getParent();
        return (parent == null ? Paths.get(modelPath).toAbsolutePath() : parent).toString();
    }

    public static RecommendConfig from(ReadableConfig conf) {
        return new RecommendConfig(conf);
    }

    private static int positive(ReadableConfig conf, String key, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(key + " must be positive, was " + value);
        }
        return value;
    }
}
