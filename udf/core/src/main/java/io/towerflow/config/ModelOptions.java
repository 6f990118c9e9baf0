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
                            "libtorch intra-op threads (ai.djl.pytorch.num_threads). The pool is "
                                    + "per process: size it against the slots that share it.");

    public static final ConfigOption<Integer> NUM_INTEROP_THREADS =
            ConfigOptions.key("towerflow.model.num-interop-threads")
                    .intType()
                    .defaultValue(1)
                    .withDescription(
                            "libtorch inter-op threads (ai.djl.pytorch.num_interop_threads).");

    private ModelOptions() {}
}
