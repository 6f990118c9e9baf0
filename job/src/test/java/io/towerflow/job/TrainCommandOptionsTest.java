package io.towerflow.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.model.ModelConfig;
import io.towerflow.model.TwoTowerTrainer;

import org.junit.jupiter.api.Test;

/** The model-size and regularisation options of {@code train} and {@code evaluate}. */
class TrainCommandOptionsTest {

    @Test
    void sizesReachTheFreshConfigAndDecayTheTrainer() {
        TrainCommand.Options o = TrainCommand.Options.parse(new String[] {
            "--synthetic", "--dim", "96", "--embedding-dim", "48", "--hidden", "256",
            "--embedding-weight-decay", "0.01"});
        ModelConfig c = o.freshConfig();
        assertEquals(96, c.dim());
        assertEquals(48, c.embeddingDim());
        assertEquals(256, c.hidden());
        TwoTowerTrainer.Options t = o.trainerOptions(null, 100, null);
        assertEquals(0.01f, t.embeddingWeightDecay());
    }

    @Test
    void defaultsAreTheRecipe() {
        TrainCommand.Options o = TrainCommand.Options.parse(new String[] {"--synthetic"});
        ModelConfig c = o.freshConfig();
        assertEquals(ModelConfig.DEFAULT_DIM, c.dim());
        assertEquals(ModelConfig.DEFAULT_EMBEDDING_DIM, c.embeddingDim());
        assertEquals(ModelConfig.DEFAULT_HIDDEN, c.hidden());
        assertEquals(0f, o.trainerOptions(null, 100, null).embeddingWeightDecay());
    }

    @Test
    void aWarmStartKeepsItsParentsSizes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainCommand.Options.parse(new String[] {"--synthetic", "--parent", "x", "--hidden", "64"}));
        assertTrue(e.getMessage().contains("--parent keeps the parent's configuration"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> TrainCommand.Options.parse(new String[] {"--synthetic", "--embedding-weight-decay", "-1"}));
    }
}
