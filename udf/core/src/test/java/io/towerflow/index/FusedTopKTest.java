package io.towerflow.index;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

class FusedTopKTest {
    private static final int DIM = 64;

    /** Row-major [n, dim]: gaussian, or (with {@code levels}) values in a few levels, for many ties. */
    private static float[] vectors(int n, int dim, long seed, int levels) {
        Random r = new Random(seed);
        float[] v = new float[n * dim];
        for (int i = 0; i < v.length; i++) {
            v[i] = levels > 0 ? r.nextInt(levels) - levels / 2 : (float) r.nextGaussian();
        }
        return v;
    }

    /**
     * The reference: every score by {@code Math.fma} over the components in order, all rows
     * sorted by score descending then row ascending, exclusions dropped, the first k kept.
     */
    private static ItemIndex.TopK reference(float[] items, int n, float[] users, int b, int k, int[][] excluded,
            long[] unavailable) {
        return reference(items, n, DIM, users, b, k, excluded, unavailable);
    }

    private static ItemIndex.TopK reference(float[] items, int n, int dim, float[] users, int b, int k,
            int[][] excluded, long[] unavailable) {
        int kk = Math.min(k, n);
        int[] rows = new int[b * kk];
        float[] scores = new float[b * kk];
        for (int u = 0; u < b; u++) {
            float[] s = new float[n];
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) {
                float acc = 0f;
                for (int j = 0; j < dim; j++) {
                    acc = Math.fma(items[i * dim + j], users[u * dim + j], acc);
                }
                s[i] = acc;
                order[i] = i;
            }
            Arrays.sort(order, (x, y) -> s[x] != s[y] ? Float.compare(s[y], s[x]) : Integer.compare(x, y));
            int taken = 0;
            for (int i = 0; i < n && taken < kk; i++) {
                int row = order[i];
                boolean out = (excluded != null && excluded[u] != null && Arrays.binarySearch(excluded[u], row) >= 0)
                        || (unavailable != null && (unavailable[row >>> 6] & (1L << row)) != 0);
                if (!out) {
                    rows[u * kk + taken] = row;
                    scores[u * kk + taken] = s[row];
                    taken++;
                }
            }
            for (; taken < kk; taken++) {
                rows[u * kk + taken] = -1;
                scores[u * kk + taken] = Float.NEGATIVE_INFINITY;
            }
        }
        return new ItemIndex.TopK(b, kk, rows, scores);
    }

    private static FusedTopK kernel(float[] items, int n, int blockRows) {
        return new FusedTopK(new ItemPanels(items, n, DIM, FusedTopK.PANEL_WIDTH), blockRows);
    }

    private static void assertSame(ItemIndex.TopK expected, ItemIndex.TopK actual) {
        assertEquals(expected.users(), actual.users());
        assertEquals(expected.k(), actual.k());
        assertArrayEquals(expected.rows(), actual.rows());
        assertArrayEquals(expected.scores(), actual.scores(), 0f, "bit-identical scores");
    }

    @Test
    void sameRowsAndScoresAsTheReferenceWhateverTheBlockSize() {
        int n = 5_003; // not a multiple of the panel width: padded rows must never come out
        float[] items = vectors(n, DIM, 1, 0);
        float[] users = vectors(7, DIM, 2, 0); // one group of four and three single users
        ItemIndex.TopK expected = reference(items, n, users, 7, 20, null, null);
        for (int block : new int[] {1, 64, 1024, 1 << 20}) {
            assertSame(expected, kernel(items, n, block).topK(users, 7, 20, null, null));
        }
    }

    @Test
    void anyNumberOfComponentsScoresTheSame() {
        // the tile loops take four components a trip over panels padded with zero components
        int n = 1_000;
        int b = 13; // a group of eight (with 512-bit vectors), then four, then one
        for (int dim : new int[] {1, 3, 4, 7, 66}) {
            float[] items = vectors(n, dim, 20 + dim, 0);
            float[] users = vectors(b, dim, 40 + dim, 0);
            FusedTopK fused = new FusedTopK(new ItemPanels(items, n, dim, FusedTopK.PANEL_WIDTH), 256);
            assertSame(reference(items, n, dim, users, b, 20, null, null), fused.topK(users, b, 20, null, null));
        }
    }

    @Test
    void tiesGoToTheLowerRow() {
        int n = 3_000;
        float[] items = vectors(n, DIM, 3, 3); // components in {-1, 0, 1}: thousands of equal scores
        float[] users = vectors(9, DIM, 4, 3);
        FusedTopK fused = kernel(items, n, 256);
        for (int k : new int[] {1, 20, 100}) {
            assertSame(reference(items, n, users, 9, k, null, null), fused.topK(users, 9, k, null, null));
        }
    }

    @Test
    void exclusionsAreLeftOutInsideTheSelection() {
        int n = 2_000;
        float[] items = vectors(n, DIM, 5, 0);
        int b = 13; // a group of eight (with 512-bit vectors), then four, then one
        float[] users = vectors(b, DIM, 6, 0);
        ItemIndex.TopK plain = reference(items, n, users, b, 20, null, null);
        int[][] excluded = new int[b][];
        for (int u : new int[] {0, 1, 2, 3, 9, 12}) { // these lose their best 10 rows; user 4 and others none
            excluded[u] = Arrays.copyOfRange(plain.rows(), u * 20, u * 20 + 10);
            Arrays.sort(excluded[u]);
        }
        long[] unavailable = new long[(n + 63) / 64];
        int gone = plain.row(4, 0);
        unavailable[gone >>> 6] |= 1L << gone;
        ItemIndex.TopK expected = reference(items, n, users, b, 20, excluded, unavailable);
        ItemIndex.TopK actual = kernel(items, n, 512).topK(users, b, 20, excluded, unavailable);
        assertSame(expected, actual);
        assertEquals(plain.row(0, 10), actual.row(0, 0), "the 11th best is now first");
        assertTrue(Arrays.stream(actual.rows()).noneMatch(r -> r == gone));
    }

    @Test
    void aCatalogueSmallerThanKAfterExclusionsLeavesEmptyPlaces() {
        int n = 5;
        float[] items = vectors(n, DIM, 7, 0);
        float[] users = vectors(1, DIM, 8, 0);
        ItemIndex.TopK top = kernel(items, n, 1024).topK(users, 1, 10, new int[][] {{0, 3}}, null);
        assertEquals(5, top.k(), "k is capped at the catalogue");
        assertEquals(-1, top.row(0, 3));
        assertEquals(-1, top.row(0, 4));
        assertSame(reference(items, n, users, 1, 10, new int[][] {{0, 3}}, null), top);
    }

    @Test
    void buffersAreReusedAcrossBatchesOfDifferentSizes() {
        int n = 1_500;
        float[] items = vectors(n, DIM, 9, 0);
        FusedTopK fused = kernel(items, n, 1024);
        for (int b : new int[] {64, 1, 13, 256, 4}) {
            float[] users = vectors(b, DIM, 10 + b, 0);
            assertSame(reference(items, n, users, b, 20, null, null), fused.topK(users, b, 20, null, null));
        }
    }

    @Test
    void sameRowsAsTheNaiveDjlKernel() {
        int n = 20_000;
        float[] items = vectors(n, DIM, 11, 0);
        float[] users = vectors(64, DIM, 12, 0);
        String[] ids = new String[n];
        for (int i = 0; i < n; i++) {
            ids[i] = "i" + i;
        }
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                ItemIndex index = new ItemIndex(ids, new long[n], m.create(items, new Shape(n, DIM)))) {
            assertTrue(index.hasFusedKernel(), "tests run with --add-modules jdk.incubator.vector");
            ItemIndex.TopK naive = index.topK(m.create(users, new Shape(64, DIM)), 20);
            ItemIndex.TopK fused = index.topK(users, 64, 20, null);
            assertArrayEquals(naive.rows(), fused.rows());
            assertArrayEquals(naive.scores(), fused.scores(), 1e-4f);
        }
    }
}
