package io.towerflow.config;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/** Options of the two-tower model as the job serves it. */
public final class ModelOptions {

    /** Where the model runs. */
    public enum DeviceChoice {
        /** The GPU when libtorch sees one, else the CPU. */
        AUTO,
        CPU,
        GPU
    }

    public static final ConfigOption<String> PATH =
            ConfigOptions.key("towerflow.model.path")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Directory of the model version to serve (model-artifacts/<version>/, "
                                    + "with its manifest.json). Must be readable by every "
                                    + "TaskManager.");

    public static final ConfigOption<DeviceChoice> DEVICE =
            ConfigOptions.key("towerflow.model.device")
                    .enumType(DeviceChoice.class)
                    .defaultValue(DeviceChoice.AUTO)
                    .withDescription("Where inference runs: AUTO, CPU or GPU.");

    public static final ConfigOption<Integer> NUM_THREADS =
            ConfigOptions.key("towerflow.model.num-threads")
                    .intType()
                    .defaultValue(1)
                    .withDescription(
                            "libtorch intra-op threads (ai.djl.pytorch.num_threads), applied to each "
                                    + "thread that serves: every slot's operator thread runs its products on "
                                    + "this many, so slots x threads should fit the TaskManager's cores.");

    public static final ConfigOption<Integer> NUM_INTEROP_THREADS =
            ConfigOptions.key("towerflow.model.num-interop-threads")
                    .intType()
                    .defaultValue(1)
                    .withDescription(
                            "libtorch inter-op threads (ai.djl.pytorch.num_interop_threads).");

    public static final ConfigOption<Integer> ANN_MIN_ITEMS =
            ConfigOptions.key("towerflow.model.ann.min-items")
                    .intType()
                    .defaultValue(200_000)
                    .withDescription(
                            "Catalogues of at least this many items are scored through an approximate "
                                    + "index (k-means lists, the probed lists scored exactly, exclusions "
                                    + "inside the selection), built per model version and per catalogue "
                                    + "change on the model loader's thread; smaller ones exactly. Like the fused "
                                    + "kernel it needs --add-modules jdk.incubator.vector (without it every "
                                    + "catalogue is scored by the naive exact kernel). Recall and speed at 1M "
                                    + "items: docs/benchmarks.md.");

    public static final ConfigOption<Integer> ANN_LISTS =
            ConfigOptions.key("towerflow.model.ann.lists")
                    .intType()
                    .defaultValue(0)
                    .withDescription(
                            "k-means lists of the approximate index; 0 derives them from the catalogue "
                                    + "size (the power of two at or above its square root: 1,024 at 1M items).");

    public static final ConfigOption<Integer> ANN_PROBES =
            ConfigOptions.key("towerflow.model.ann.probes")
                    .intType()
                    .defaultValue(16)
                    .withDescription(
                            "Lists of the approximate index whose items are scored for each user (of "
                                    + "its best centroids). More: higher recall, slower.");

    public static final ConfigOption<Double> ANN_REBUILD_FRACTION =
            ConfigOptions.key("towerflow.model.ann.rebuild-fraction")
                    .doubleType()
                    .defaultValue(0.2)
                    .withDescription(
                            "Catalogue changes update the approximate index without k-means (new and "
                                    + "changed items join their nearest centroid's list, removed ones leave "
                                    + "theirs) until the items placed or removed that way since the last "
                                    + "k-means exceed this fraction of the catalogue; the next change then "
                                    + "re-runs k-means. A new model version always does.");

    private ModelOptions() {}
}
