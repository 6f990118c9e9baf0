package io.towerflow.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.records.BehaviorEvent;

import ai.djl.Device;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.BitSet;
import java.util.List;

/** The lazy Adam of the embedding tables moves exactly the rows a step reads, and no other. */
class RowSparseUpdateTest {

    @Test
    void aStepChangesOnlyTheRowsOfItsBatch() {
        ModelConfig cfg = PlantedData.testConfig();
        List<BehaviorEvent> events = PlantedData.generate(20, 500, 10, 3, 0.1, 5).events;
        TrainingExamples data = TrainingExamples.fromEvents(events, cfg.historyLength());
        BitSet items = new BitSet();
        BitSet categories = new BitSet();
        BitSet users = new BitSet();
        for (BehaviorEvent e : events) { // every event is a target, so every history row is one too
            items.set(IdHashing.bucket(e.itemId, cfg.itemBuckets()));
            categories.set(IdHashing.bucket(e.categoryId, cfg.categoryBuckets()));
            users.set(IdHashing.bucket(e.userId, cfg.userBuckets()));
        }
        try (TwoTowerModel m = TwoTowerModel.create(cfg, Device.cpu(), 1)) {
            float[][] before = tables(m);
            TwoTowerTrainer.Options one = TrainingRecipe.DEFAULT.trainerOptions().withUniformNegatives(0)
                    .withBatchSize(data.size()).withEpochs(1).withSeed(3);
            TwoTowerTrainer.Result r = new TwoTowerTrainer(m, one).fit(data);
            assertEquals(1, r.steps(), "the whole data is one batch: one step");
            float[][] after = tables(m);
            BitSet[] touched = {items, categories, users};
            int[] rows = {cfg.itemBuckets(), cfg.categoryBuckets(), cfg.userBuckets()};
            for (int t = 0; t < 3; t++) {
                BitSet changed = changedRows(before[t], after[t], cfg.embeddingDim());
                BitSet outside = (BitSet) changed.clone();
                outside.andNot(touched[t]);
                assertTrue(outside.isEmpty(), "table " + t + ": rows outside the batch changed: " + outside);
                assertEquals(touched[t], changed, "table " + t + ": every row of the batch moves");
                assertTrue(touched[t].cardinality() < rows[t] / 4, "the batch touches a small part of the table");
            }
        }
    }

    /**
     * Decoupled weight decay: from the same start, one step with decay d leaves every touched row
     * at its no-decay value minus lr × d × its value before the step (Adam's own step does not
     * depend on the decay), and rows outside the batch where they were.
     */
    @Test
    void weightDecayShrinksTheTouchedRowsByLearningRateTimesDecay() {
        ModelConfig cfg = PlantedData.testConfig();
        List<BehaviorEvent> events = PlantedData.generate(20, 500, 10, 3, 0.1, 5).events;
        TrainingExamples data = TrainingExamples.fromEvents(events, cfg.historyLength());
        float lr = 0.05f;
        float decay = 2f;
        TwoTowerTrainer.Options one = TrainingRecipe.DEFAULT.trainerOptions().withUniformNegatives(0)
                .withBatchSize(data.size()).withEpochs(1).withSeed(3).withLearningRates(1e-3f, lr);
        float[][] before;
        float[][] plain;
        float[][] decayed;
        try (TwoTowerModel m = TwoTowerModel.create(cfg, Device.cpu(), 1)) {
            before = tables(m);
            new TwoTowerTrainer(m, one).fit(data);
            plain = tables(m);
        }
        try (TwoTowerModel m = TwoTowerModel.create(cfg, Device.cpu(), 1)) {
            new TwoTowerTrainer(m, one.withEmbeddingWeightDecay(decay)).fit(data);
            decayed = tables(m);
        }
        int width = cfg.embeddingDim();
        for (int t = 0; t < 3; t++) {
            BitSet touched = changedRows(before[t], plain[t], width);
            for (int x = 0; x < before[t].length; x++) {
                float want = touched.get(x / width) ? plain[t][x] - lr * decay * before[t][x] : before[t][x];
                assertEquals(want, decayed[t][x], 1e-6f, "table " + t + " entry " + x);
            }
        }
    }

    private static float[][] tables(TwoTowerModel m) {
        return new float[][] {
            m.itemTable().getArray().toFloatArray(),
            m.categoryTable().getArray().toFloatArray(),
            m.userTable().getArray().toFloatArray()
        };
    }

    private static BitSet changedRows(float[] before, float[] after, int width) {
        BitSet changed = new BitSet();
        for (int row = 0; row < before.length / width; row++) {
            if (!Arrays.equals(before, row * width, (row + 1) * width, after, row * width, (row + 1) * width)) {
                changed.set(row);
            }
        }
        assertFalse(changed.isEmpty());
        return changed;
    }
}
