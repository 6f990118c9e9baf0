package io.towerflow.index;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
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

    /** Each user's excluded rows: its first {@code n} exact rows and a few spread ones, sorted. */
    private static int[][] excludeTopRows(ItemIndex.TopK exact, int n, int rows) {
        int[][] ex = new int[exact.users()][];
        for (int u = 0; u < exact.users(); u++) {
            int[] e = new int[n + 3];
            for (int r = 0; r < n; r++) {
                e[r] = exact.row(u, r);
            }
            e[n] = u;
            e[n + 1] = rows / 2 + u;
            e[n + 2] = rows - 1 - u;
            ex[u] = Arrays.stream(e).distinct().sorted().toArray();
        }
        ex[1] = null; // a user without exclusions
        return ex;
    }

    @Test
    void exclusionsAreLeftOutInsideEachListAndProbingEveryListStaysExact() {
        int n = 4_000;
        int b = 13;
        float[] items = clustered(n, 5);
        float[] users = clustered(b, 6);
        FusedTopK exactKernel = new FusedTopK(new ItemPanels(items, n, DIM, FusedTopK.PANEL_WIDTH));
        int[][] excluded = excludeTopRows(exactKernel.topK(users, b, 20, null, null), 10, n);
        ClusteredIndex ivf = ClusteredIndex.build(items, n, DIM, 32, 3, 7);
        ItemIndex.TopK exact = exactKernel.topK(users, b, 20, excluded, null);
        ItemIndex.TopK all = ivf.topK(users, b, 20, 32, excluded);
        assertArrayEquals(exact.rows(), all.rows());
        assertArrayEquals(exact.scores(), all.scores(), 0f);
        ItemIndex.TopK few = ivf.topK(users, b, 20, 4, excluded);
        for (int u = 0; u < b; u++) {
            for (int r = 0; r < 20; r++) {
                int row = few.row(u, r);
                assertTrue(row >= 0, "a full list from 4 lists of ~125 items");
                assertTrue(excluded[u] == null || Arrays.binarySearch(excluded[u], row) < 0,
                        "user " + u + " got excluded row " + row);
            }
        }
    }

    @Test
    void theSameVectorsAndSeedGiveTheSameIndex() {
        int n = 5_000;
        float[] items = clustered(n, 8);
        float[] users = clustered(16, 9);
        ItemIndex.TopK a = ClusteredIndex.build(items, n, DIM, 32, 3, 11).topK(users, 16, 20, 3);
        ItemIndex.TopK b = ClusteredIndex.build(items, n, DIM, 32, 3, 11).topK(users, 16, 20, 3);
        assertArrayEquals(a.rows(), b.rows());
        assertArrayEquals(a.scores(), b.scores(), 0f);
    }

    @Test
    void aChangedCatalogueIsUpdatedWithoutKMeans() {
        int n = 3_000;
        float[] items = clustered(n, 12);
        ClusteredIndex before = ClusteredIndex.build(items, n, DIM, 16, 3, 7);
        // the new catalogue: rows 0..9 removed, row 10 changed (another item's vector), 5 new items
        float[] fresh = clustered(5, 13);
        int m = n - 10 + 5;
        float[] next = new float[m * DIM];
        int[] previousRow = new int[m];
        System.arraycopy(items, 10 * DIM, next, 0, (n - 10) * DIM);
        System.arraycopy(items, 2_000 * DIM, next, 0, DIM); // row 10 (now 0) takes row 2000's vector
        System.arraycopy(fresh, 0, next, (n - 10) * DIM, 5 * DIM);
        for (int r = 0; r < m; r++) {
            previousRow[r] = r < n - 10 ? r + 10 : -1;
        }
        ClusteredIndex after = before.update(next, m, previousRow);
        assertEquals(m, after.size());
        assertEquals(0, before.drift());
        assertEquals(10 + 1 + 1 + 5, after.drift(), "10 removed, 1 changed (out and in), 5 placed");
        for (int r = 1; r < n - 10; r++) {
            assertEquals(before.listOf(r + 10), after.listOf(r), "unchanged items keep their list");
        }
        assertEquals(before.listOf(2_000), after.listOf(0), "the changed item joins its new vector's list");
        // every list probed: exactly the exact kernel over the new catalogue
        float[] users = clustered(7, 14);
        ItemIndex.TopK exact = new FusedTopK(new ItemPanels(next, m, DIM, FusedTopK.PANEL_WIDTH))
                .topK(users, 7, 20, null, null);
        assertArrayEquals(exact.rows(), after.topK(users, 7, 20, 16).rows());
        // a new item is found through its nearest list: its own vector probing one list gets it first
        for (int i = 0; i < 5; i++) {
            float[] self = Arrays.copyOfRange(fresh, i * DIM, (i + 1) * DIM);
            assertEquals(n - 10 + i, after.topK(self, 1, 1, 1).row(0, 0));
        }
    }

    @Test
    void settingsReClusterOnceDriftPassesTheirFraction() {
        int n = 2_000;
        float[] items = clustered(n, 15);
        AnnSettings settings = new AnnSettings(1, 16, 4, 0.1, 3, 7);
        ClusteredIndex built = settings.build(items, n, DIM);
        int[] same = new int[n];
        for (int r = 0; r < n; r++) {
            same[r] = r < 100 ? -1 : r; // 100 items re-placed: 5 % drift (100 placed + 100 removed = 10 %)
        }
        ClusteredIndex small = settings.rebuildOrUpdate(built, items, n, DIM, same);
        assertEquals(200, small.drift(), "within 10 %: updated");
        int[] more = new int[n];
        for (int r = 0; r < n; r++) {
            more[r] = r < 10 ? -1 : r;
        }
        ClusteredIndex rebuilt = settings.rebuildOrUpdate(small, items, n, DIM, more);
        assertEquals(0, rebuilt.drift(), "220 > 200: k-means again");
        assertEquals(1024, new AnnSettings(1, 0, 1, 0, 1, 1).listsFor(1_000_000));
        assertEquals(256, new AnnSettings(1, 0, 1, 0, 1, 1).listsFor(20_000));
        assertFalse(AnnSettings.OFF.appliesTo(10_000_000));
    }
}
