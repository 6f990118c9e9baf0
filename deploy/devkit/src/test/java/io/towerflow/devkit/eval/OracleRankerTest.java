package io.towerflow.devkit.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.eval.CoOccurrenceRanker;
import io.towerflow.eval.EvalCase;
import io.towerflow.eval.PopularityRanker;
import io.towerflow.eval.Ranker;
import io.towerflow.eval.RankingMetrics;
import io.towerflow.eval.TemporalSplit;
import io.towerflow.model.ItemCatalogue;
import io.towerflow.model.TrainingExamples;
import io.towerflow.synthetic.SyntheticGenerator;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

class OracleRankerTest {

    @Test
    void theOracleBeatsPopularityAndCoOccurrenceOnGeneratedData() {
        SyntheticGenerator.Config cfg = new SyntheticGenerator.Config();
        cfg.users = 500;
        cfg.items = 4_000;
        cfg.categories = 40;
        cfg.seed = 3;
        SyntheticGenerator g = new SyntheticGenerator(cfg);
        long events = 60_000;
        TrainingExamples all = TrainingExamples.fromEvents(() -> g.events(events), 50);
        TemporalSplit split = TemporalSplit.of(all, 5, false, 10_000, 3);
        ItemCatalogue catalogue = split.train().catalogue();
        List<EvalCase> cases = split.cases();
        OracleRanker oracle = OracleRanker.atSplit(g, events, catalogue, cases);
        double hrOracle = hitRate20(oracle, cases);
        double hrPopular = hitRate20(new PopularityRanker(catalogue), cases);
        double hrTogether = hitRate20(CoOccurrenceRanker.build(split.train(), catalogue), cases);
        assertTrue(cases.size() > 300, cases.size() + " cases");
        assertTrue(hrOracle > 3 * hrPopular, "oracle " + hrOracle + " vs popularity " + hrPopular);
        assertTrue(hrOracle > hrTogether + 0.05, "oracle " + hrOracle + " vs co-occurrence " + hrTogether);
    }

    @Test
    void theOracleRanksOnlyTheCandidates() {
        SyntheticGenerator.Config cfg = new SyntheticGenerator.Config();
        cfg.users = 50;
        cfg.items = 400;
        cfg.categories = 10;
        SyntheticGenerator g = new SyntheticGenerator(cfg);
        long events = 3_000;
        TrainingExamples all = TrainingExamples.fromEvents(() -> g.events(events), 50);
        TemporalSplit split = TemporalSplit.of(all, 3, true, 100, 1);
        ItemCatalogue catalogue = split.train().catalogue();
        Set<String> known = Set.of(catalogue.itemIds());
        OracleRanker oracle = OracleRanker.atSplit(g, events, catalogue, split.cases());
        List<String[]> lists = oracle.rank(split.cases(), 20);
        for (int i = 0; i < lists.size(); i++) {
            assertEquals(20, lists.get(i).length);
            for (String id : lists.get(i)) {
                assertTrue(known.contains(id), id + " is not in the catalogue");
                assertTrue(!split.cases().get(i).query().exclude().contains(id), id + " was excluded");
            }
        }
    }

    static double hitRate20(Ranker r, List<EvalCase> cases) {
        RankingMetrics m = new RankingMetrics(20);
        List<String[]> lists = r.rank(cases, 20);
        for (int i = 0; i < cases.size(); i++) {
            m.add(lists.get(i), cases.get(i).targets());
        }
        return m.hitRate(20);
    }
}
