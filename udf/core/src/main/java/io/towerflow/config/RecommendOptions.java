package io.towerflow.config;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

import java.time.Duration;

/** Options of the keyed recommend operator. */
public final class RecommendOptions {

    public static final ConfigOption<Integer> TOP_K =
            ConfigOptions.key("towerflow.recommend.top-k")
                    .intType()
                    .defaultValue(20)
                    .withDescription("Number of items in each recommendation list.");

    public static final ConfigOption<Integer> HISTORY_LENGTH =
            ConfigOptions.key("towerflow.recommend.history-length")
                    .intType()
                    .defaultValue(50)
                    .withDescription(
                            "Interactions kept per user in keyed state; the user tower pools them.");

    public static final ConfigOption<Boolean> EXCLUDE_SEEN =
            ConfigOptions.key("towerflow.recommend.exclude-seen")
                    .booleanType()
                    .defaultValue(true)
                    .withDescription(
                            "Leave the items in the user's kept history out of the lists. With false, "
                                    + "recently seen items may come back, scored by the model version's "
                                    + "repeat boost (docs/model.md).");

    public static final ConfigOption<Integer> BATCH_MAX_SIZE =
            ConfigOptions.key("towerflow.recommend.batch.max-size")
                    .intType()
                    .defaultValue(64)
                    .withDescription(
                            "Events buffered before one batched model call scores them together.");

    public static final ConfigOption<Duration> BATCH_MAX_WAIT =
            ConfigOptions.key("towerflow.recommend.batch.max-wait")
                    .durationType()
                    .defaultValue(Duration.ofMillis(10))
                    .withDescription(
                            "Longest an event waits in a partly filled batch (processing time). "
                                    + "Batches are also flushed before every checkpoint barrier.");

    public static final ConfigOption<Duration> STATE_TTL =
            ConfigOptions.key("towerflow.recommend.state-ttl")
                    .durationType()
                    .defaultValue(Duration.ofDays(7))
                    .withDescription(
                            "A user's state (history, embedding, last list) expires after this "
                                    + "long without an event from that user.");

    public static final ConfigOption<Integer> EXPLORE_SLOTS =
            ConfigOptions.key("towerflow.recommend.explore-slots")
                    .intType()
                    .defaultValue(1)
                    .withDescription(
                            "Slots at the end of each list given to exploration: Thompson sampling over "
                                    + "the catalogue's least-shown items, new items first, marked "
                                    + "\"explore\": true. 0 turns exploration off; must be below "
                                    + "towerflow.recommend.top-k (with a top-k of 1 the default falls to 0).");

    public static final ConfigOption<Integer> EXPLORE_POOL_SIZE =
            ConfigOptions.key("towerflow.recommend.explore.pool-size")
                    .intType()
                    .defaultValue(128)
                    .withDescription(
                            "Open exploration candidates each operator instance keeps (new items and "
                                    + "the least popular ones); it tracks at most four times as many items.");

    public static final ConfigOption<Integer> EXPLORE_MAX_IMPRESSIONS =
            ConfigOptions.key("towerflow.recommend.explore.max-impressions")
                    .intType()
                    .defaultValue(200)
                    .withDescription(
                            "Impressions after which an item is no longer an exploration candidate "
                                    + "(it has had its chance; retraining learns from the acts on it).");

    public static final ConfigOption<Long> EXPLORE_SEED =
            ConfigOptions.key("towerflow.recommend.explore.seed")
                    .longType()
                    .defaultValue(42L)
                    .withDescription(
                            "Seed of the Thompson sampler (combined with the subtask index), so a run "
                                    + "is reproducible.");

    private RecommendOptions() {}
}
