package io.towerflow.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.eval.LeaveOneOutSplit;
import io.towerflow.records.Action;
import io.towerflow.records.BehaviorEvent;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * All-position training of the sequence tower: the windows cover every training example once and
 * never a held-out one, a later input never changes an earlier position's user vector, the newest
 * position is the serving path's vector, and the same seed trains the same model.
 */
class AllPositionTrainingTest {
    private static final long T0 = 1_700_000_000_000L;

    private static ModelConfig config(int historyLength) {
        return ModelConfig.defaults().withBuckets(4096, 64, 1024).withEmbeddingDim(16).withHidden(32).withDim(16)
                .withHistoryLength(historyLength).withSequenceTower(new SequenceTowerConfig(2, 2, 0.1));
    }

    /** Users with 1 to 13 events each, one day apart, items drawn from 40. */
    private static List<BehaviorEvent> events(int users, long seed) {
        Random r = new Random(seed);
        List<BehaviorEvent> out = new ArrayList<>();
        for (int u = 0; u < users; u++) {
            int n = 1 + r.nextInt(13);
            for (int k = 0; k < n; k++) {
                out.add(new BehaviorEvent("u" + u, "i" + r.nextInt(40), Action.PURCHASE, T0 + 86_400_000L * k,
                        "c" + r.nextInt(3)));
            }
        }
        return out;
    }

    @Test
    void windowsCoverEveryTrainingExampleOnceAndNeverAHeldOutTarget() {
        TrainingExamples all = TrainingExamples.fromEvents(events(60, 1), 4);
        LeaveOneOutSplit split = LeaveOneOutSplit.of(all);
        TrainingExamples train = split.train();
        TrainingExamples.Windows w = train.sequenceWindows();
        Set<Integer> trainEvents = new HashSet<>();
        for (int p : train.positions) {
            trainEvents.add(p);
        }
        List<Integer> covered = new ArrayList<>();
        for (int k = 0; k < w.size(); k++) {
            int end = w.ends()[k];
            int from = train.windowFrom(end);
            assertTrue(end - from <= 4 && end > from, "at most N inputs, at least one");
            assertTrue(trainEvents.contains(end), "a window ends at a training example");
            int targets = 0;
            for (int q = from; q < end; q++) {
                assertEquals(train.eventUser[end], train.eventUser[q], "one user per window");
                if (w.isTarget(q + 1)) {
                    covered.add(q + 1);
                    targets++;
                }
            }
            assertEquals(w.targets()[k], targets);
        }
        // every training example with an earlier event of its user is a target exactly once
        List<Integer> expected = new ArrayList<>();
        for (int p : train.positions) {
            if (p > train.userStart[train.eventUser[p]]) {
                expected.add(p);
            }
        }
        covered.sort(null);
        assertEquals(expected, covered);
        // the held-out targets (each user's last two events) are never targets, and no window reaches them
        for (int u = 0; u < all.userCount(); u++) {
            int last = all.userStart[u + 1] - 1;
            for (int held = Math.max(all.userStart[u] + 1, last - 1); held <= last; held++) {
                assertFalse(w.isTarget(held), "held-out event " + held + " of user " + u);
                for (int end : w.ends()) {
                    assertTrue(end < held || all.eventUser[end] != u, "a window stops before the held-out events");
                }
            }
        }
        assertEquals(expected.size(), w.totalTargets());
    }

    @Test
    void aLaterInputNeverChangesAnEarlierPositionsUserVectorAndTheNewestIsTheServingVector() {
        ModelConfig c = config(6);
        int n = c.historyLength();
        int e = c.embeddingDim();
        try (TwoTowerModel m = TwoTowerModel.create(c, Device.cpu(), 3);
                NDManager nd = m.getNDManager().newSubManager()) {
            // two windows: one full, one with its first two slots padded; a target at every real slot
            float[] valid = new float[2 * n];
            Arrays.fill(valid, 1f);
            valid[n] = 0f;
            valid[n + 1] = 0f;
            int[] rows = new int[2 * n];
            Random r = new Random(5);
            for (int i = 0; i < rows.length; i++) {
                rows[i] = valid[i] == 0f ? 0 : 1 + r.nextInt(4000);
            }
            int[] slots = new int[2 * n - 2];
            for (int i = 0, k = 0; i < 2 * n; i++) {
                if (valid[i] == 1f) {
                    slots[k++] = i;
                }
            }
            float[] before = atPositions(m, nd, rows, valid, slots);
            for (int changed = 0; changed < 2 * n; changed++) {
                if (valid[changed] == 0f) {
                    continue;
                }
                int[] other = rows.clone();
                other[changed] = (rows[changed] + 1000) % 4000 + 1;
                float[] after = atPositions(m, nd, other, valid, slots);
                for (int k = 0; k < slots.length; k++) {
                    boolean sameWindow = slots[k] / n == changed / n;
                    float[] b = Arrays.copyOfRange(before, k * c.dim(), (k + 1) * c.dim());
                    float[] a = Arrays.copyOfRange(after, k * c.dim(), (k + 1) * c.dim());
                    if (!sameWindow || slots[k] < changed) {
                        assertArrayEquals(b, a, "slot " + slots[k] + " must not see slot " + changed);
                    } else if (slots[k] == changed) {
                        assertFalse(Arrays.equals(b, a), "slot " + changed + " sees its own input");
                    }
                }
            }
            // the newest position of a window is what serving computes for that history
            UserBatch batch = new UserBatch(2, n);
            for (int wdw = 0; wdw < 2; wdw++) {
                int len = wdw == 0 ? n : n - 2;
                int u = batch.beginUser(7);
                // slots oldest first from 0, as serving fills them; rows given directly (no hashing)
                for (int j = 0; j < len; j++) {
                    batch.itemRows[u * n + j] = rows[(wdw + 1) * n - len + j];
                    batch.categoryRows[u * n + j] = 0;
                }
                batch.lengths[u] = len;
            }
            float[] serving = m.userVectors(nd, batch).toFloatArray();
            float[] full = atPositions(m, nd, rows, valid, new int[] {n - 1, 2 * n - 1});
            assertArrayEquals(serving, full, 1e-5f);
        }
    }

    /** User vectors at {@code slots} of windows of item rows {@code rows} (category row 0, user row 7). */
    private static float[] atPositions(TwoTowerModel m, NDManager nd, int[] rows, float[] valid, int[] slots) {
        int n = m.config().historyLength();
        int w = rows.length / n;
        Shape hist = new Shape(w, n, m.config().embeddingDim());
        int[] users = new int[slots.length];
        Arrays.fill(users, 7);
        return m.sequenceTowerAtPositions(
                TwoTowerModel.lookup(nd, m.itemTable().getArray(), rows, rows.length, hist),
                TwoTowerModel.lookup(nd, m.categoryTable().getArray(), new int[rows.length], rows.length, hist),
                nd.create(valid, new Shape(w, n)),
                TwoTowerModel.lookup(nd, m.userTable().getArray(), users, users.length, null),
                TwoTowerModel.index(nd, slots, slots.length),
                false).toFloatArray();
    }

    @Test
    void sameSeedSameModelAndTheTwoPathsDiffer() throws Exception {
        ModelConfig c = config(5);
        TrainingExamples train = LeaveOneOutSplit.of(TrainingExamples.fromEvents(events(80, 2), 5)).train();
        byte[][] params = new byte[3][];
        long[] examples = new long[3];
        for (int run = 0; run < 3; run++) {
            try (TwoTowerModel m = TwoTowerModel.create(c, Device.cpu(), 6)) {
                TwoTowerTrainer.Result result = new TwoTowerTrainer(m, PlantedModels.options(2).withBatchSize(16)
                        .withUniformNegatives(8).withAllPositions(run < 2)).fit(train);
                examples[run] = result.examples();
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                m.saveParameters(out);
                params[run] = out.toByteArray();
            }
        }
        assertArrayEquals(params[0], params[1], "windows, dropout and negatives follow the seed");
        assertFalse(Arrays.equals(params[0], params[2]), "per-event training is another path");
        assertEquals(2 * train.sequenceWindows().totalTargets(), examples[0], "every covered example, each epoch");
    }
}
