package io.towerflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Moves each user's history to the end of the sequence window: a {@link UserBatch} fills slots
 * {@code [0, length)} oldest first; the sequence tower wants the newest item at position N − 1 and
 * padding first, so that a position embedding means "k acts ago". The move is one batched product
 * with a 0/1 matrix, which also carries the validity mask (its row sums).
 */
final class SequenceAlignment {
    private SequenceAlignment() {}

    /**
     * [b, N, N] with A[u, t, s] = 1 iff slot s of user u goes to position t, i.e. t = s + N −
     * length(u) for s < length(u); belongs to {@code manager}.
     */
    static NDArray leftPad(NDManager manager, int[] lengths, int b, int n) {
        float[] a = new float[b * n * n];
        for (int u = 0; u < b; u++) {
            int len = Math.min(lengths[u], n);
            for (int s = 0; s < len; s++) {
                int t = s + n - len;
                a[(u * n + t) * n + s] = 1f;
            }
        }
        return manager.create(a, new Shape(b, n, n));
    }
}
