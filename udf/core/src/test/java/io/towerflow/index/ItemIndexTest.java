package io.towerflow.index;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import org.junit.jupiter.api.Test;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

class ItemIndexTest {
    private static final String[] IDS = {"a", "b", "c", "d"};
    private static final long[] COUNTS = {5, 9, 5, 1};
    private static final float[] ITEMS = {1, 0, 0, 1, 0.6f, 0.8f, -1, 0};

    @Test
    void topKIsTheBestRowsBestFirst() {
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                ItemIndex index = new ItemIndex(IDS, COUNTS, m.create(ITEMS, new Shape(4, 2)))) {
            NDArray users = m.create(new float[] {1, 0, 0, 1, -1, 0}, new Shape(3, 2));
            ItemIndex.TopK top = index.topK(users, 2);
            assertEquals(3, top.users());
            assertEquals(2, top.k());
            assertArrayEquals(new int[] {0, 2, 1, 2, 3, 1}, top.rows());
            assertArrayEquals(new float[] {1f, 0.6f, 1f, 0.8f, 1f, 0f}, top.scores(), 1e-6f);
            assertEquals(4, index.topK(users, 10).k(), "k is capped at the catalogue");
        }
    }

    @Test
    void chunkedProductsGiveTheSameResult() {
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                ItemIndex whole = new ItemIndex(IDS, COUNTS, m.create(ITEMS, new Shape(4, 2)));
                ItemIndex chunked = new ItemIndex(IDS, COUNTS, m.create(ITEMS, new Shape(4, 2)), 8)) {
            NDArray users = m.randomNormal(new Shape(7, 2));
            ItemIndex.TopK a = whole.topK(users, 3);
            ItemIndex.TopK b = chunked.topK(users, 3);
            assertArrayEquals(a.rows(), b.rows());
            assertArrayEquals(a.scores(), b.scores(), 1e-6f);
        }
    }

    @Test
    void popularityAndLookups() {
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                ItemIndex index = new ItemIndex(IDS, COUNTS, m.create(ITEMS, new Shape(4, 2)))) {
            assertEquals(1, index.popularRow(0));
            assertEquals(0, index.popularRow(1), "ties by row");
            assertEquals(2, index.popularRow(2));
            assertEquals(3, index.popularRow(3));
            assertEquals(2, index.rowOf("c"));
            assertEquals(-1, index.rowOf("zz"));
            assertEquals(2, index.dim());
            assertEquals("d", index.id(3));
            assertEquals(9, index.count(1));
            assertThrows(IllegalArgumentException.class,
                    () -> new ItemIndex(new String[] {"a"}, new long[] {1}, m.create(ITEMS, new Shape(4, 2))));
        }
    }

    @Test
    void panelsFilledInChunksEqualPanelsOfTheWholeMatrix() {
        int rows = 37;
        int dim = 5;
        float[] matrix = new float[rows * dim];
        for (int i = 0; i < matrix.length; i++) {
            matrix[i] = i * 0.5f - 7;
        }
        ItemPanels whole = new ItemPanels(matrix, rows, dim, FusedTopK.PANEL_WIDTH);
        List<int[]> asked = new ArrayList<>();
        ItemPanels chunked = ItemPanels.fromChunks(rows, dim, FusedTopK.PANEL_WIDTH, 8, (from, to) -> {
            asked.add(new int[] {from, to});
            return Arrays.copyOfRange(matrix, from * dim, to * dim);
        });
        assertArrayEquals(whole.data(), chunked.data());
        assertEquals(5, asked.size(), "37 rows in chunks of 8");
        assertArrayEquals(new int[] {32, 37}, asked.get(4));
    }

    /**
     * Every model swap and catalogue change builds an index. Its build used to copy the whole item
     * matrix to the heap twice on the way to the panels (libtorch's bytes, then the floats): two
     * short-lived arrays as large as the panels, humongous objects for G1 (any array of half a
     * region or more: 512 KiB with this heap's 1 MiB regions), each able to start a collection on its own; in the
     * soak the burst of collections at a swap made G1 triple the heap for good. Now the only such
     * array is the panels themselves. JFR sees every allocation too large for a TLAB.
     */
    @Test
    void buildingAnIndexMakesNoWholeCopyOfTheMatrix() throws Exception {
        assumeTrue(ScoringKernel.vectorApiAvailable(), "needs --add-modules jdk.incubator.vector");
        FusedTopK.warmUp(); // once per JVM; not part of a build
        int rows = 20_000; // the bootstrap catalogue
        int dim = 64;
        String[] ids = new String[rows];
        long[] counts = new long[rows];
        for (int i = 0; i < rows; i++) {
            ids[i] = "item-" + i;
            counts[i] = i % 97;
        }
        long matrixBytes = (long) rows * dim * Float.BYTES;
        long thread = Thread.currentThread().getId();
        Path jfr = Files.createTempFile("index-build", ".jfr");
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray matrix = m.randomNormal(new Shape(rows, dim));
            NDArray users = m.randomNormal(new Shape(3, dim));
            ItemIndex index;
            try (Recording recording = new Recording()) {
                recording.enable("jdk.ObjectAllocationOutsideTLAB");
                recording.start();
                index = new ItemIndex(ids, counts, matrix);
                recording.stop();
                recording.dump(jfr);
            }
            List<Long> large = new ArrayList<>();
            for (RecordedEvent e : RecordingFile.readAllEvents(jfr)) {
                if (e.getThread("eventThread") != null && e.getThread("eventThread").getJavaThreadId() == thread
                        && e.getLong("allocationSize") >= 512 << 10) {
                    large.add(e.getLong("allocationSize"));
                }
            }
            try (index) {
                assertEquals(1, large.size(), "arrays of 512 KiB or more (the panels: " + matrixBytes + " bytes): " + large);
                // and the panels hold the matrix: the fused kernel finds what the naive one finds
                ItemIndex.TopK naive = index.topK(users, 10);
                ItemIndex.TopK fused = index.topK(users.toFloatArray(), 3, 10, null);
                assertArrayEquals(naive.rows(), fused.rows());
                assertArrayEquals(naive.scores(), fused.scores(), 1e-4f);
            }
        } finally {
            Files.deleteIfExists(jfr);
        }
    }
}
