package io.towerflow.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

class ModelConfigTest {
    @TempDir Path root;

    @Test
    void aManifestWrittenBeforeTheShortTermChannelReadsAsOneWithoutIt() throws Exception {
        String json = "{\"version\":\"v0\",\"parent\":null,\"createdAt\":\"2026-01-01T00:00:00Z\","
                + "\"config\":{\"dim\":64,\"embeddingDim\":32,\"hidden\":128,\"itemBuckets\":65536,"
                + "\"categoryBuckets\":1024,\"userBuckets\":16384,\"historyLength\":50,"
                + "\"recencyHalfLifeMs\":3600000,\"temperature\":0.05},"
                + "\"trainingWindow\":{\"fromTs\":1,\"toTs\":2,\"events\":3},\"metrics\":{},\"files\":{}}";
        ModelConfig c = ModelManifest.fromJson(json.getBytes(StandardCharsets.UTF_8)).config();
        assertFalse(c.hasRecentChannel());
        assertEquals(new ModelConfig(64, 32, 128, 65536, 1024, 16384, 50, 3_600_000L, 0.05), c);
        ModelManifest written = new ModelManifest("v1", null, "2026-01-01T00:00:00Z", ModelConfig.defaults(),
                null, null, null);
        assertEquals(ModelConfig.defaults(), ModelManifest.fromJson(written.toJson()).config());
        assertTrue(ModelConfig.defaults().hasRecentChannel());
    }

    @Test
    void bothArchitecturesTrainSaveAndServe() throws Exception {
        TrainingExamples train = PlantedModels.plantedSplit().train();
        for (double recent : new double[] {0, 1}) {
            ModelConfig cfg = PlantedData.testConfig().withRecentHalfLifeEvents(recent);
            try (TwoTowerModel m = TwoTowerModel.create(cfg, Device.cpu(), 3)) {
                new TwoTowerTrainer(m, PlantedModels.options(1)).fit(train);
                Path dir = PlantedModels.write(root, "r" + (int) recent, null, m, train);
                try (ServingModel s = ServingModel.load(dir, Device.cpu())) {
                    UserQuery q = train.query(10, Set.of());
                    assertEquals(10, s.recommend(List.of(q), 10).get(0).items().length);
                    assertEquals(recent, s.config().recentHalfLifeEvents());
                }
            }
        }
    }

    @Test
    void refusesANegativeHalfLife() {
        assertThrows(IllegalArgumentException.class, () -> ModelConfig.defaults().withRecentHalfLifeEvents(-1));
    }
}
