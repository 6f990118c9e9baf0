package io.towerflow.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class IdHashingTest {
    @Test
    void bucketsAreStableAcrossReleases() {
        // Fixed values: changing the hash silently invalidates every trained model.
        assertEquals(IdHashing.mix32("1".hashCode()), IdHashing.mix32(49));
        assertEquals(Math.floorMod(IdHashing.mix32(49), 262_144), IdHashing.bucket("1", 262_144));
        assertEquals(0x514E28B7, IdHashing.mix32(1));
        assertEquals(158_600, IdHashing.bucket("1", 262_144));
        assertEquals(87_087, IdHashing.bucket("item-42", 262_144));
        assertEquals(20_132, IdHashing.bucket("u7", 65_536));
        assertEquals(0, IdHashing.mix32(0));
        assertEquals(IdHashing.bucket("", 8192), IdHashing.bucket(null, 8192));
    }

    @Test
    void sequentialIdsSpreadOverTheTable() {
        int buckets = 1024;
        int[] hits = new int[buckets];
        for (int i = 0; i < 100_000; i++) {
            int b = IdHashing.bucket(Integer.toString(i), buckets);
            assertTrue(b >= 0 && b < buckets);
            hits[b]++;
        }
        for (int h : hits) {
            assertTrue(h > 40 && h < 160, "bucket load " + h + " far from the mean 98");
        }
    }
}
