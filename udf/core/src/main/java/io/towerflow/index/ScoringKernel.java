package io.towerflow.index;

import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * How {@link ItemIndex} scores a batch of user vectors against the item matrix.
 *
 * <ul>
 *   <li>{@link #NAIVE}: the reference — one DJL {@code matMul} into a full [B, N] score matrix,
 *       then {@code torch.topk}; exclusions are survived by asking for more and filtering after.
 *   <li>{@link #FUSED}: {@link FusedTopK} — a Java Vector API kernel that scores items in
 *       cache-sized blocks of panels, keeps a running per-user threshold and a bounded heap, and
 *       leaves excluded rows out inside the selection. Needs {@code --add-modules
 *       jdk.incubator.vector} on the JVM's command line.
 * </ul>
 */
public enum ScoringKernel {
    NAIVE,
    FUSED;

    private static final AtomicBoolean WARNED = new AtomicBoolean();

    /** Whether the JVM was started with the Vector API ({@code --add-modules jdk.incubator.vector}). */
    public static boolean vectorApiAvailable() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    /** The serving kernel: {@link #FUSED} where the Vector API is available, else {@link #NAIVE}. */
    public static ScoringKernel best() {
        if (vectorApiAvailable()) {
            return FUSED;
        }
        if (WARNED.compareAndSet(false, true)) {
            LoggerFactory.getLogger(ScoringKernel.class).warn(
                    "JVM started without --add-modules jdk.incubator.vector: scoring with the naive kernel");
        }
        return NAIVE;
    }
}
