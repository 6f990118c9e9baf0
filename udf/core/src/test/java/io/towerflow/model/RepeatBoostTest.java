package io.towerflow.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/** The boost itself; how {@link ServingModel} ranks with it is in {@link ServingModelTest}. */
class RepeatBoostTest {
    @Test
    void recencySumsHalvingWeightsOverTheNewestEntries() {
        String[] history = {"a", "b", "a", "c"}; // oldest first
        RepeatBoost everyEvent = new RepeatBoost(1, 1);
        // newest c = 1, a one back = 0.5, b two back = 0.25; the oldest a lies outside 3 entries
        assertEquals(Map.of("c", 1.0, "a", 0.5, "b", 0.25), everyEvent.recency(history, 3));
        // with all 4 entries the oldest a adds 0.125
        assertEquals(Map.of("c", 1.0, "a", 0.625, "b", 0.25), everyEvent.recency(history, 4));
        // half-life 2: each step back multiplies by 0.5^(1/2)
        assertEquals(Math.sqrt(0.5), new RepeatBoost(1, 2).recency(history, 3).get("a"), 1e-12);
        assertTrue(everyEvent.recency(null, 4).isEmpty());
    }

    @Test
    void refusesANegativeWeightOrANonPositiveHalfLife() {
        assertThrows(IllegalArgumentException.class, () -> new RepeatBoost(-0.1, 1));
        assertThrows(IllegalArgumentException.class, () -> new RepeatBoost(Double.NaN, 1));
        assertThrows(IllegalArgumentException.class, () -> new RepeatBoost(0.1, 0));
        assertFalse(RepeatBoost.NONE.active());
    }

    @Test
    void theManifestCarriesTheBoostAndOlderManifestsReadAsNone() throws Exception {
        RepeatBoost b = new RepeatBoost(0.2, 8);
        ModelManifest m = new ModelManifest("v2", null, TestModels.CREATED_AT, ModelConfig.defaults(),
                null, null, null, b);
        assertEquals(b, ModelManifest.fromJson(m.toJson()).repeat());
        String old = new String(m.toJson(), StandardCharsets.UTF_8)
                .replaceAll(",\\s*\"repeat\"\\s*:\\s*\\{[^}]*\\}", "");
        assertFalse(old.contains("repeat"), old);
        assertEquals(RepeatBoost.NONE, ModelManifest.fromJson(old.getBytes(StandardCharsets.UTF_8)).repeat());
    }
}
