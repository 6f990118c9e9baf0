package io.towerflow.bench;

import io.towerflow.index.ItemIndex;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.SplittableRandom;

/**
 * Seeded unit vectors for the kernel benchmarks, and the synthetic catalogue they score against.
 * The benchmarks run in one JVM, one after another: the catalogue of the last size asked for is
 * kept, so alternating kernels on one size builds it once.
 */
final class SyntheticVectors {
    static final int DIM = 64;
    private static final long ITEM_SEED = 20261129L;

    private static NDManager manager;
    private static ItemIndex index;

    private SyntheticVectors() {}

    /** {@code n} L2-normalised gaussian vectors of {@code dim}, row-major. */
    static float[] unitVectors(int n, int dim, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n * dim];
        for (int i = 0; i < n; i++) {
            double norm = 0;
            for (int j = 0; j < dim; j++) {
                float x = (float) r.nextGaussian();
                v[i * dim + j] = x;
                norm += x * x;
            }
            float inv = (float) (1 / Math.sqrt(norm));
            for (int j = 0; j < dim; j++) {
                v[i * dim + j] *= inv;
            }
        }
        return v;
    }

    /** An index of {@code items} synthetic unit item vectors (d = {@link #DIM}), shared until another size is asked for. */
    static synchronized ItemIndex index(int items) {
        if (index == null || index.size() != items) {
            release();
            manager = NDManager.newBaseManager("PyTorch");
            String[] ids = new String[items];
            for (int i = 0; i < items; i++) {
                ids[i] = Integer.toString(i);
            }
            index = new ItemIndex(ids, new long[items],
                    manager.create(unitVectors(items, DIM, ITEM_SEED), new Shape(items, DIM)));
        }
        return index;
    }

    /** Frees the shared catalogue. */
    static synchronized void release() {
        if (index != null) {
            index.close();
            manager.close();
            index = null;
            manager = null;
        }
    }
}
