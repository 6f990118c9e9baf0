package io.towerflow.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

class TwoTowerTrainerTest {
    @TempDir Path root;

    @Test
    void learnsThePlantedInterestsAndBeatsRandomAndPopularity() throws Exception {
        TrainingExamples.Split split = PlantedModels.plantedSplit();
        List<TwoTowerTrainer.Progress> reports = new ArrayList<>();
        Path version;
        TwoTowerTrainer.Result result;
        try (TwoTowerModel m = TwoTowerModel.create(PlantedData.testConfig(), Device.cpu(), 3)) {
            result = new TwoTowerTrainer(m, PlantedModels.options(5).withListener(reports::add))
                    .fit(split.train());
            version = PlantedModels.write(root, "v1", null, m, split.train());
        }
        double[] epochs = result.epochLosses();
        assertEquals(5, epochs.length);
        assertTrue(epochs[4] < epochs[0] - 0.5, "loss per epoch " + java.util.Arrays.toString(epochs));
        assertTrue(result.lastLoss() < result.firstLoss());
        assertEquals(split.train().size() * 5L, result.examples());
        assertTrue(result.examplesPerSecond() > 0);
        assertTrue(!reports.isEmpty() && reports.get(reports.size() - 1).step() == result.steps());

        try (ServingModel s = ServingModel.load(version, Device.cpu())) {
            Evaluation.HitRates hr = Evaluation.hitRates(s, Evaluation.heldOut(split.heldOut()), 10);
            assertEquals(200, hr.queries());
            assertEquals(10.0 / s.catalogueSize(), hr.random(), 1e-9);
            assertTrue(hr.model() > 5 * hr.random(), hr.toString());
            assertTrue(hr.model() > 2 * hr.popularity(), hr.toString());
        }
    }

    @Test
    void mixedNegativesLearnThePlantedInterestsDeterministically() throws Exception {
        TrainingExamples.Split split = PlantedModels.plantedSplit();
        byte[][] params = new byte[2][];
        Path version = null;
        for (int run = 0; run < 2; run++) {
            try (TwoTowerModel m = TwoTowerModel.create(PlantedData.testConfig(), Device.cpu(), 3)) {
                TwoTowerTrainer.Result r = new TwoTowerTrainer(m, PlantedModels.options(5).withUniformNegatives(64))
                        .fit(split.train());
                assertTrue(r.lastLoss() < r.firstLoss() - 0.5, r.toString());
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                m.saveParameters(out);
                params[run] = out.toByteArray();
                if (run == 0) {
                    version = PlantedModels.write(root, "mixed", null, m, split.train());
                }
            }
        }
        assertArrayEquals(params[0], params[1], "same seed, same uniform draws, same model");
        try (ServingModel s = ServingModel.load(version, Device.cpu())) {
            Evaluation.HitRates hr = Evaluation.hitRates(s, Evaluation.heldOut(split.heldOut()), 10);
            assertTrue(hr.model() > 5 * hr.random(), hr.toString());
            assertTrue(hr.model() > 2 * hr.popularity(), hr.toString());
        }
    }

    @Test
    void sameSeedSameModel() throws Exception {
        TrainingExamples train = PlantedModels.plantedSplit().train();
        double[][] losses = new double[2][];
        byte[][] params = new byte[2][];
        for (int run = 0; run < 2; run++) {
            try (TwoTowerModel m = TwoTowerModel.create(PlantedData.testConfig(), Device.cpu(), 5)) {
                losses[run] = new TwoTowerTrainer(m, PlantedModels.options(1)).fit(train).epochLosses();
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                m.saveParameters(out);
                params[run] = out.toByteArray();
            }
        }
        assertArrayEquals(losses[0], losses[1]);
        assertArrayEquals(params[0], params[1]);
    }

    @Test
    void warmStartContinuesFromTheParent() throws Exception {
        TrainingExamples train = PlantedModels.plantedSplit().train();
        Path parent = PlantedModels.trainPlanted(root, "parent", 3);
        double fresh;
        try (TwoTowerModel m = TwoTowerModel.create(PlantedData.testConfig(), Device.cpu(), 3)) {
            fresh = new TwoTowerTrainer(m, PlantedModels.options(1)).fit(train).firstLoss();
        }
        ModelArtifacts artifacts = ModelArtifacts.load(parent);
        try (TwoTowerModel m = artifacts.loadModel(Device.cpu())) {
            TwoTowerTrainer.Result r = new TwoTowerTrainer(m, PlantedModels.options(1)).fit(train);
            assertTrue(r.firstLoss() < fresh - 0.5,
                    "warm start begins where the parent ended: " + r.firstLoss() + " vs fresh " + fresh);
            Path child = PlantedModels.write(root, "child", "parent", m, train);
            assertEquals("parent", ModelArtifacts.load(child).manifest().parent());
        }
    }

    @Test
    void stopsWhenTheEpochCallbackSaysSoAndASnapshotRestoresTheParameters() throws Exception {
        TrainingExamples train = PlantedModels.plantedSplit().train();
        try (TwoTowerModel m = TwoTowerModel.create(PlantedData.testConfig(), Device.cpu(), 5)) {
            List<Integer> seen = new ArrayList<>();
            float[][][] afterFirst = new float[1][][];
            TwoTowerTrainer.Result r = new TwoTowerTrainer(m, PlantedModels.options(5)).fit(train, epoch -> {
                seen.add(epoch);
                if (epoch == 1) {
                    afterFirst[0] = m.snapshot();
                }
                return epoch < 2;
            });
            assertEquals(List.of(1, 2), seen);
            assertEquals(2, r.epochs());
            assertEquals(2, r.epochLosses().length);
            assertEquals(2L * train.size(), r.examples());
            ByteArrayOutputStream second = new ByteArrayOutputStream();
            m.saveParameters(second);
            m.restore(afterFirst[0]);
            ByteArrayOutputStream restored = new ByteArrayOutputStream();
            m.saveParameters(restored);
            assertTrue(!java.util.Arrays.equals(second.toByteArray(), restored.toByteArray()));
            float[][] now = m.snapshot();
            for (int i = 0; i < now.length; i++) {
                assertArrayEquals(afterFirst[0][i], now[i], 0f, "parameter " + i);
            }
        }
    }

    @Test
    void theMeanOfTwoEpochsSnapshotsIsTheirElementwiseMeanAndRestores() throws Exception {
        TrainingExamples train = PlantedModels.plantedSplit().train();
        try (TwoTowerModel m = TwoTowerModel.create(PlantedData.testConfig(), Device.cpu(), 5)) {
            float[][][] byEpoch = new float[2][][];
            new TwoTowerTrainer(m, PlantedModels.options(2)).fit(train, epoch -> {
                byEpoch[epoch - 1] = m.snapshot();
                return true;
            });
            float[][] mean = TwoTowerModel.mean(byEpoch[0], byEpoch[1]);
            m.restore(mean);
            float[][] now = m.snapshot();
            int changed = 0;
            for (int i = 0; i < now.length; i++) {
                for (int j = 0; j < now[i].length; j++) {
                    assertEquals(0.5f * (byEpoch[0][i][j] + byEpoch[1][i][j]), now[i][j], 0f, "parameter " + i);
                    changed += byEpoch[0][i][j] != byEpoch[1][i][j] ? 1 : 0;
                }
            }
            assertTrue(changed > 0, "the second epoch moved some parameters");
            float[][] wrongShape = {new float[1]};
            assertThrows(IllegalArgumentException.class, () -> TwoTowerModel.mean(byEpoch[0], wrongShape));
        }
    }
}
