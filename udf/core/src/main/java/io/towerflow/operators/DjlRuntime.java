package io.towerflow.operators;

import io.towerflow.config.ModelOptions;

import ai.djl.Device;
import ai.djl.engine.Engine;

/** Process-wide DJL settings: offline mode, libtorch thread pools, and the device to run on. */
public final class DjlRuntime {
    private DjlRuntime() {}

    /**
     * Sets DJL offline and the libtorch thread counts. They take effect only if the PyTorch engine
     * has not been loaded in this JVM yet; values already set as system properties win. The
     * inter-op pool is per process; the intra-op count is per calling thread (OpenMP), which DJL
     * sets on the engine's loading thread only: {@link io.towerflow.model.IntraOpThreads} applies
     * it to the threads that serve.
     */
    public static void configureThreads(int numThreads, int numInteropThreads) {
        System.setProperty("offline", "true");
        if (System.getProperty("ai.djl.pytorch.num_threads") == null) {
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(numThreads));
        }
        if (System.getProperty("ai.djl.pytorch.num_interop_threads") == null) {
            System.setProperty(
                    "ai.djl.pytorch.num_interop_threads", Integer.toString(numInteropThreads));
        }
    }

    /** The device for a choice: AUTO takes the GPU when libtorch sees one. */
    public static Device device(ModelOptions.DeviceChoice choice) {
        Engine engine = Engine.getEngine("PyTorch");
        switch (choice) {
            case CPU:
                return Device.cpu();
            case GPU:
                if (engine.getGpuCount() == 0) {
                    throw new IllegalStateException(
                            "towerflow.model.device=GPU but libtorch sees no GPU");
                }
                return Device.gpu();
            default:
                return engine.getGpuCount() > 0 ? Device.gpu() : Device.cpu();
        }
    }
}
