package io.towerflow.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.records.Action;

import org.junit.jupiter.api.Test;

class HistoryWeightsTest {
    private static final long HOUR = 3_600_000L;

    @Test
    void actionTimesHalfLifeDecayNormalised() {
        byte[] a = {Action.VIEW.code(), Action.PURCHASE.code(), Action.VIEW.code()};
        long[] ts = {0, HOUR, 2 * HOUR};
        float[] w = new float[3];
        HistoryWeights.fill(a, ts, 0, 3, HOUR, w, 0);
        // raw: 1 * 0.25, 5 * 0.5, 1 * 1
        double sum = 0.25 + 2.5 + 1;
        assertEquals(0.25 / sum, w[0], 1e-6);
        assertEquals(2.5 / sum, w[1], 1e-6);
        assertEquals(1 / sum, w[2], 1e-6);
    }

    @Test
    void oldHistoriesDoNotUnderflow() {
        byte[] a = {Action.VIEW.code(), Action.VIEW.code()};
        long[] ts = {0, 1000 * HOUR};
        float[] w = new float[2];
        HistoryWeights.fill(a, ts, 0, 2, HOUR, w, 0);
        assertEquals(1f, w[1], 1e-6);
        assertEquals(0f, w[0], 1e-6);
        assertTrue(w[0] + w[1] > 0.99);
    }

    @Test
    void writesOnlyTheRange() {
        byte[] a = {0, 0, 0, 0};
        long[] ts = {1, 2, 3, 4};
        float[] w = {9, 9, 9, 9, 9};
        HistoryWeights.fill(a, ts, 1, 3, HOUR, w, 2);
        assertEquals(9f, w[0]);
        assertEquals(9f, w[1]);
        assertEquals(1f, w[2] + w[3], 1e-6);
        assertEquals(9f, w[4]);
        HistoryWeights.fill(a, ts, 2, 2, HOUR, w, 0);
        assertEquals(9f, w[0]);
    }

    @Test
    void recentWeightsHalveEveryHalfLifeOfEventsBackwards() {
        float[] w = {9, 9, 9, 9};
        HistoryWeights.fillRecent(0, 3, 1.0, w, 1);
        // newest 1, then 0.5, 0.25; sum 1.75
        assertEquals(0.25 / 1.75, w[1], 1e-6);
        assertEquals(0.5 / 1.75, w[2], 1e-6);
        assertEquals(1 / 1.75, w[3], 1e-6);
        assertEquals(9f, w[0]);
        float[] slow = new float[2];
        HistoryWeights.fillRecent(0, 2, 2.0, slow, 0);
        assertEquals(Math.sqrt(0.5) / (1 + Math.sqrt(0.5)), slow[0], 1e-6);
    }
}
