package io.towerflow.model;

import ai.djl.Device;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;

/** Small model versions trained on {@link PlantedData}, for the training module's tests. */
final class PlantedModels {
    private PlantedModels() {}

    static TrainingExamples.Split plantedSplit() {
        PlantedData d = PlantedData.generate(200, 500, 10, 30, 0.1, 7);
        return TrainingExamples.fromEvents(d.events, PlantedData.testConfig().historyLength())
                .splitLastPerUser();
    }

    static TwoTowerTrainer.Options options(int epochs) {
        return TrainingRecipe.DEFAULT.trainerOptions().withUniformNegatives(0).withBatchSize(128).withEpochs(epochs).withSeed(11);
    }

    /** Trains on the planted data and writes version {@code version} under {@code root}. */
    static Path trainPlanted(Path root, String version, int epochs) {
        TrainingExamples train = plantedSplit().train();
        ModelConfig cfg = PlantedData.testConfig();
        try (TwoTowerModel m = TwoTowerModel.create(cfg, Device.cpu(), 3)) {
            new TwoTowerTrainer(m, options(epochs)).fit(train);
            return write(root, version, null, m, train);
        }
    }

    static Path write(Path root, String version, String parent, TwoTowerModel m, TrainingExamples train) {
        ModelManifest manifest = new ModelManifest(version, parent, TestModels.CREATED_AT, m.config(),
                train.window(), Map.of("test", 1.0), Map.of());
        try {
            return ModelArtifacts.write(root, manifest, m, train.catalogue());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
