package io.towerflow.operators;

import static io.towerflow.operators.RecommendOperatorControlTest.advanceUntil;
import static io.towerflow.operators.RecommendOperatorTest.harness;
import static io.towerflow.operators.RecommendOperatorTest.options;
import static io.towerflow.operators.RecommendOperatorTest.popularIds;
import static io.towerflow.operators.RecommendOperatorTest.view;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.config.ModelOptions;
import io.towerflow.records.CatalogueItem;
import io.towerflow.records.ControlMessage;
import io.towerflow.records.Recommendation;
import io.towerflow.records.ScoredItem;

import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/** The operator serving through the approximate index (threshold lowered below the bootstrap's 20k items). */
class RecommendOperatorApproximateTest {
    private static final long T0 = 1_764_547_200_000L;

    private static RecommendConfig approximateConfig() {
        Configuration c = options(1, Duration.ofSeconds(1), Duration.ofDays(1));
        c.set(ModelOptions.ANN_MIN_ITEMS, 1_000);
        c.set(ModelOptions.ANN_LISTS, 64);
        c.set(ModelOptions.ANN_PROBES, 8);
        return RecommendConfig.from(c);
    }

    @Test
    void servesApproximatelyWithoutSeenItemsAndAppliesCatalogueChangesOffThePath() throws Exception {
        RecommendOperator op = new RecommendOperator(approximateConfig());
        String[] popular = popularIds(4);
        try (var h = harness(op)) {
            assertTrue(op.servingModel().approximate(), "20k items >= 1,000");
            for (int i = 0; i < 3; i++) {
                h.processElement1(view("u", popular[i], T0 + i), T0 + i);
            }
            List<Recommendation> out = h.extractOutputValues();
            assertEquals(3, out.size());
            Recommendation last = out.get(2);
            assertEquals(10, last.items.length);
            for (ScoredItem s : last.items) {
                assertFalse(Arrays.asList(popular).subList(0, 3).contains(s.itemId), s.itemId + " was seen");
            }
            int before = op.catalogueSize();
            h.processElement2(ControlMessage.of(new CatalogueItem("brand-new-item", "7", true)), T0);
            h.processElement2(ControlMessage.of(new CatalogueItem(popular[3], null, false)), T0);
            advanceUntil(h, () -> !op.modelWorkPending());
            assertEquals(before, op.catalogueSize(), "one item in, one item out");
            assertTrue(op.servingModel().approximate());
            assertEquals(2, op.servingModel().index().approximate().drift(), "placed in a list, not re-clustered");
            h.processElement1(view("fresh", "brand-new-item", T0 + 5), T0 + 5);
            Recommendation fresh = h.extractOutputValues().get(3);
            assertEquals(10, fresh.items.length, "the new item is known: no cold start");
            for (ScoredItem s : fresh.items) {
                assertFalse(s.itemId.equals(popular[3]) || s.itemId.equals("brand-new-item"));
            }
        }
    }
}
