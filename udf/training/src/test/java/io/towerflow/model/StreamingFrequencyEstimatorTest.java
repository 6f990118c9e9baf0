package io.towerflow.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class StreamingFrequencyEstimatorTest {

    @Test
    void learnsHowOftenEachItemIsInABatch() {
        StreamingFrequencyEstimator f = new StreamingFrequencyEstimator(2, 1024, 0.05);
        int every2 = 11;
        int every10 = 22;
        int twicePerBatch = 33;
        int[] keys = new int[4];
        for (long step = 1; step <= 2000; step++) {
            int n = 0;
            keys[n++] = twicePerBatch;
            keys[n++] = twicePerBatch;
            if (step % 2 == 0) {
                keys[n++] = every2;
            }
            if (step % 10 == 0) {
                keys[n++] = every10;
            }
            f.update(keys, n, step);
        }
        assertEquals(0.5, f.probability(every2), 1e-3);
        assertEquals(0.1, f.probability(every10), 1e-3);
        assertEquals(1.0, f.probability(twicePerBatch), 1e-9, "capped at 1 (an interval of half a step)");
        assertEquals(1.0, f.probability(44), "never seen: no correction");
    }

    @Test
    void firstSightingCountsTheStepsSinceTheStart() {
        StreamingFrequencyEstimator f = new StreamingFrequencyEstimator(1, 64, 0.01);
        f.update(new int[] {7}, 1, 40);
        assertEquals(1 / 40.0, f.probability(7), 1e-9);
        f.update(new int[] {7}, 1, 50);
        assertEquals(1 / (0.99 * 40 + 0.01 * 10), f.probability(7), 1e-6);
    }

    @Test
    void aCollisionOnlyInOneHashingIsOutvoted() {
        // with one bucket per array every key collides; the largest interval is still the honest one
        StreamingFrequencyEstimator f = new StreamingFrequencyEstimator(2, 1, 1.0);
        f.update(new int[] {1}, 1, 10);
        assertEquals(0.1, f.probability(1), 1e-9);
        f.update(new int[] {2}, 1, 11);
        assertEquals(1.0, f.probability(1), 1e-9, "both arrays collide: the estimate is shared");
    }

    @Test
    void anItemNeverSeenHasNoSeenProbability() {
        StreamingFrequencyEstimator f = new StreamingFrequencyEstimator(2, 1024, 0.01);
        f.update(new int[] {7}, 1, 40);
        assertEquals(1.0, f.probability(8), 0.0, "unseen: no correction");
        assertEquals(0.0, f.seenProbability(8), 0.0, "unseen: 0 when mixed with other samplers");
        assertEquals(f.probability(7), f.seenProbability(7), 0.0);
        assertEquals(1 / 40.0, f.seenProbability(7), 1e-6);
    }

    @Test
    void refusesNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new StreamingFrequencyEstimator(0, 8, 0.1));
        assertThrows(IllegalArgumentException.class, () -> new StreamingFrequencyEstimator(1, 8, 0));
        StreamingFrequencyEstimator f = new StreamingFrequencyEstimator(1, 8, 0.1);
        assertThrows(IllegalArgumentException.class, () -> f.update(new int[] {1}, 1, 0));
    }
}
