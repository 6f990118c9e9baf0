package io.towerflow.model;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

/**
 * libtorch's intra-op thread count, applied to the calling thread. libtorch's CPU kernels
 * parallelise with OpenMP, whose thread count belongs to the calling thread: DJL applies
 * {@code ai.djl.pytorch.num_threads} once, on the thread that loads the engine, and every other
 * thread that calls into libtorch — a Flink task thread, the model loader, a benchmark's worker —
 * could run its products on as many threads as the machine has cores (a 1024² product on a
 * thread of its own: 1.99–2.00 cores busy with {@code num_threads = 1} on this 2-core machine,
 * 1.00–1.01 on the engine's thread or after {@code JniUtils.setNumThreads} on that thread;
 * docs/benchmarks.md). libtorch applies its own setting to a new thread lazily, in some entry
 * points only, and not before a product goes to its BLAS. A slot's inference then competes with
 * every other thread of the TaskManager, the other slots' included. {@link #applyToThisThread()}
 * sets the configured count on the calling thread once; later calls on that thread cost a
 * thread-local read.
 */
public final class IntraOpThreads {
    private static final ThreadLocal<Boolean> APPLIED = ThreadLocal.withInitial(() -> Boolean.FALSE);

    private IntraOpThreads() {}

    /** The configured count ({@code ai.djl.pytorch.num_threads}), or 0 when none is (libtorch's default). */
    public static int configured() {
        String v = System.getProperty("ai.djl.pytorch.num_threads");
        if (v == null || v.isBlank()) {
            return 0;
        }
        try {
            return Math.max(0, Integer.parseInt(v.trim()));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** Whether {@link #applyToThisThread()} has run on the calling thread. */
    static boolean appliedToThisThread() {
        return APPLIED.get();
    }

    /** Applies {@link #configured()} to the calling thread, once per thread; nothing when none is configured. */
    public static void applyToThisThread() {
        if (APPLIED.get()) {
            return;
        }
        int n = configured();
        if (n > 0) {
            Engine.getEngine("PyTorch"); // loads libtorch (and applies DJL's settings) on first use
            JniUtils.setNumThreads(n);
        }
        APPLIED.set(Boolean.TRUE);
    }
}
