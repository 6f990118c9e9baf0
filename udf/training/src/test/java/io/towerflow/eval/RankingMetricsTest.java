package io.towerflow.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

class RankingMetricsTest {
    private static final double LOG2_3 = Math.log(3) / Math.log(2);
    private static final double LOG2_5 = Math.log(5) / Math.log(2);

    @Test
    void oneCaseByHand() {
        RankingMetrics m = new RankingMetrics(4);
        // targets b and d are found at ranks 2 and 4; x is never found
        m.add(new String[] {"a", "b", "c", "d"}, Set.of("b", "d", "x"));
        assertEquals(0.0, m.hitRate(1));
        assertEquals(1.0, m.hitRate(2));
        assertEquals(0.0, m.recall(1));
        assertEquals(1 / 3.0, m.recall(3), 1e-12);
        assertEquals(2 / 3.0, m.recall(4), 1e-12);
        double idcg2 = 1 + 1 / LOG2_3;
        assertEquals((1 / LOG2_3) / idcg2, m.ndcg(2), 1e-12);
        double dcg4 = 1 / LOG2_3 + 1 / LOG2_5;
        double idcg4 = 1 + 1 / LOG2_3 + 0.5; // three targets fill ranks 1..3 of the ideal list
        assertEquals(dcg4 / idcg4, m.ndcg(4), 1e-12);
        assertEquals(0.498189, m.ndcg(4), 1e-6);
    }

    @Test
    void meansOverCasesAndShortListsAndRepeats() {
        RankingMetrics m = new RankingMetrics(4);
        m.add(new String[] {"a", "b", "c", "d"}, Set.of("b", "d", "x"));
        m.add(new String[] {"z"}, Set.of("z")); // a list shorter than K is scored as it is
        m.add(new String[] {"q"}, Set.of()); // no targets: not a case
        m.add(new String[] {"y", "y", "w"}, Set.of("y", "w")); // a repeated item counts once
        assertEquals(3, m.cases());
        assertEquals(2 / 3.0, m.hitRate(1), 1e-12);
        assertEquals(1.0, m.hitRate(4));
        assertEquals((2 / 3.0 + 1 + 1) / 3, m.recall(4), 1e-12);
        double thirdNdcg4 = (1 + 0.5) / (1 + 1 / LOG2_3); // w at rank 3: 1 / log2(4)
        assertEquals((0.498189 + 1 + thirdNdcg4) / 3, m.ndcg(4), 1e-6);
        assertEquals((1 / 3.0 + 1 + 0.5) / 3, m.recall(2), 1e-12, "the repeat of y at rank 2 finds nothing new");
    }

    @Test
    void tableAndCurve() {
        RankingMetrics m = new RankingMetrics(50);
        m.add(new String[] {"a"}, Set.of("a"));
        m.add(new String[] {"b"}, Set.of("c"));
        Map<String, Double> t = m.table();
        assertEquals(List.of("HR@5", "HR@10", "HR@20", "HR@50", "Recall@5", "Recall@10", "Recall@20", "Recall@50",
                "NDCG@5", "NDCG@10", "NDCG@20", "NDCG@50"), List.copyOf(t.keySet()));
        assertEquals(0.5, t.get("HR@20"));
        double[] curve = m.hitRateCurve();
        assertEquals(50, curve.length);
        assertEquals(0.5, curve[0]);
        assertTrue(Double.isNaN(new RankingMetrics(5).hitRate(5)), "no cases: undefined");
        assertThrows(IllegalArgumentException.class, () -> m.hitRate(51));
    }
}
