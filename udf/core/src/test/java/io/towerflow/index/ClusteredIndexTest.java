package io.towerflow.index;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;

class ClusteredIndexTest {
    private static final int DIM = 64;

    /** Items around 50 random directions (clustered, as item towers' vectors are), unit length. */
    private static float[] clustered(int n, long seed) {
        Random r = new Random(seed);
        float[][] centres = new float[50][DIM];
        for (float[] c : centres) {
            for (int j = 0; j < DIM; j++) {
                c[j] = (float) r.nextGaussian();
            }
        }
        float[] v = new float[n * DIM];
        for (int i = 0; i < n; i++) {
            float[] c = centres[r.nextInt(centres.length)];
            double norm = 0;
            for (int j = 0; j < DIM; j++) {
                v[i * DIM + j] = c[j] + 0.5f * (float) r.nextGaussian();
                norm += v[i * DIM + j] * v[i * DIM + j];
            }
            for (int j = 0; j < DIM; j++) {
                v[i * DIM + j] /= (float) Math.sqrt(norm);
            }
        }
        return v;
    }

    @Test
    void probingEveryListIsExact() {
        int n = 3_000;
        float[] items = clustered(n, 1);
        float[] users = clustered(9, 2);
        ClusteredIndex ivf = ClusteredIndex.build(items, n, DIM, 16, 3, 7);
        assertEquals(16, ivf.lists());
        ItemIndex.TopK exact = new FusedTopK(new ItemPanels(items, n, DIM, FusedTopK.PANEL_WIDTH))
                .topK(users, 9, 20, null, null);
        ItemIndex.TopK all = ivf.topK(users, 9, 20, 16);
        assertArrayEquals(exact.rows(), all.rows());
        assertArrayEquals(exact.scores(), all.scores(), 0f);
    }

    @Test
    void probingAFewListsKeepsMostOfTheTopK() {
        int n = 20_000;
        float[] items = clustered(n, 3);
        float[] users = clustered(64, 4);
        ClusteredIndex ivf = ClusteredIndex.build(items, n, DIM, 64, 4, 7);
        ItemIndex.TopK exact = new FusedTopK(new ItemPanels(items, n, DIM, FusedTopK.PANEL_WIDTH))
                .topK(users, 64, 20, null, null);
        ItemIndex.TopK approx = ivf.topK(users, 64, 20, 8);
        int hits = 0;
        for (int u = 0; u < 64; u++) {
            Set<Integer> truth = new HashSet<>();
            for (int r = 0; r < 20; r++) {
                truth.add(exact.row(u, r));
            }
            for (int r = 0; r < 20; r++) {
                hits += truth.contains(approx.row(u, r)) ? 1 : 0;
            }
        }
        assertTrue(hits > 0.9 * 64 * 20, "recall@20 " + hits / (64.0 * 20));
    }
}
