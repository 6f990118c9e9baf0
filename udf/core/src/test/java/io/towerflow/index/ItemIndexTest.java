package io.towerflow.index;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import org.junit.jupiter.api.Test;

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
}
