package io.towerflow.devkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.model.ModelConfig;
import io.towerflow.model.RepeatBoost;
import io.towerflow.model.TwoTowerTrainer;

import org.junit.jupiter.api.Test;

/** The model-size, regularisation and repeat-boost options of {@code train} and {@code evaluate}. */
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

    @Test
    void theRepeatBoostIsFittedByDefaultGivenOrLeftOut() {
        TrainCommand.Options fit = TrainCommand.Options.parse(new String[] {"--synthetic"});
        assertTrue(fit.fitRepeatBoost);
        assertEquals(5, fit.recipe.validationEvents());
        TrainCommand.Options none = TrainCommand.Options.parse(new String[] {"--synthetic", "--repeat-boost", "none"});
        assertFalse(none.fitRepeatBoost);
        assertEquals(RepeatBoost.NONE, none.repeatBoost);
        TrainCommand.Options given = TrainCommand.Options.parse(new String[] {
            "--synthetic", "--repeat-boost", "0.5:32", "--validation-events", "1"});
        assertFalse(given.fitRepeatBoost);
        assertEquals(new RepeatBoost(0.5, 32), given.repeatBoost);
        assertEquals(1, given.recipe.validationEvents());
        for (String bad : new String[] {"0.5", "-1:2", "1:0", "x:y", "1:2:3"}) {
            assertThrows(IllegalArgumentException.class,
                    () -> TrainCommand.Options.parse(new String[] {"--synthetic", "--repeat-boost", bad}), bad);
        }
    }
}
