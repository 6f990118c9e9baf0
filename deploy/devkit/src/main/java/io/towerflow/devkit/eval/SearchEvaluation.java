package io.towerflow.devkit.eval;

import io.towerflow.eval.EvalCase;
import io.towerflow.eval.TwoTowerRanker;
import io.towerflow.model.ServingModel;
import io.towerflow.records.Action;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.RawRecord;
import io.towerflow.records.Recommendation;
import io.towerflow.synthetic.SyntheticGenerator;


import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.IntPredicate;

/**
 * What queries and titles buy, on synthetic data with searches ({@code --search-rate}):
 *
 * <ul>
 *   <li><b>after a search</b>: each of the first {@code users} test users' real history is followed by
 *       a query-only search for a category the user never touched (a query the generator draws for
 *       that category), and the generator draws the act that follows it in that category. The
 *       events go through the real job DAG ({@code RecommendationPipeline.define}, parallelism 1,
 *       like {@link IntentShift}) serving the version with text, then the same events serving the
 *       version trained without text (which reads no query); the list the job emits for the search
 *       gives the share of its top-K in the searched category ({@code categoryShareAfterSearch})
 *       and whether the next act is in it ({@code hrAfterSearch}).
 *   <li><b>cold items</b>: test cases whose targets include items that never occur in training
 *       (every {@code coldEvery}-th item id, see {@link #isCold}), known to the catalogue by title
 *       and category only: the share of them with such an item in the top-K, ranked as the
 *       evaluation ranks ({@code coldItemHR@K}), with titles and with the model without text.
 * </ul>
 */
public final class SearchEvaluation {
    static final long PAUSE_MS = 60_000;

    /** The figures of one run. */
    public record Result(int users, double shareWithQuery, double shareWithoutQuery, double hrWithQuery,
            double hrWithoutQuery, int coldCases, double coldWithTitle, double coldIdOnly, int topK) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT,
                    "search (%d users, top-%d): category share after a search %.3f with the query, %.3f without;"
                            + " HR@%d of the next act %.3f with, %.3f without; cold items (%d cases): HR@%d"
                            + " %.3f with titles, %.3f id only",
                    users, topK, shareWithQuery, shareWithoutQuery, topK, hrWithQuery, hrWithoutQuery,
                    coldCases, topK, coldWithTitle, coldIdOnly);
        }
    }

    private SearchEvaluation() {}

    /** Whether an item id of the generator is cold: held out of training, known by title and category. */
    public static boolean isCold(int item, int coldEvery) {
        return coldEvery > 0 && item % coldEvery == 1;
    }

    /** One user's planted search and the act that follows it. */
    private record Planted(EvalCase c, int category, BehaviorEvent search, String next) {}

    /**
     * @param withText the version with text on disk, and {@code withTextModel} the same loaded here
     * @param withoutText the version trained without text, and {@code withoutTextModel} loaded here
     */
    public static Result measure(Path withText, ServingModel withTextModel, Path withoutText,
            ServingModel withoutTextModel, SyntheticGenerator g, List<EvalCase> cases, int users, int coldEvery,
            int topK, long seed) throws Exception {
        List<Planted> planted = new ArrayList<>();
        SplittableRandom rnd = new SplittableRandom(seed ^ 0x5EA2C4L);
        for (EvalCase c : IntentShift.withHistory(cases, users)) {
            planted.add(plant(g, c, rnd, seed));
        }
        double[] with = afterSearch(withText, g, planted, topK);
        double[] without = afterSearch(withoutText, g, planted, topK);
        List<EvalCase> cold = new ArrayList<>();
        for (EvalCase c : cases) {
            if (c.targets().stream().anyMatch(id -> isCold(Integer.parseInt(id), coldEvery))) {
                cold.add(c);
            }
        }
        IntPredicate coldItem = item -> isCold(item, coldEvery);
        return new Result(planted.size(), with[0], without[0], with[1], without[1], cold.size(),
                coldHitRate(withTextModel, cold, coldItem, topK), coldHitRate(withoutTextModel, cold, coldItem, topK),
                topK);
    }

    private static Planted plant(SyntheticGenerator g, EvalCase c, SplittableRandom rnd, long seed) {
        int user = Integer.parseInt(c.userId());
        int category = IntentShift.untouchedCategory(g, c, rnd.nextInt(g.config().categories));
        long[] ts = c.query().ts();
        long at = ts[ts.length - 1] + PAUSE_MS;
        BehaviorEvent search = new BehaviorEvent(c.userId(), null, Action.SEARCH, at, null);
        search.query = g.query(user, category, rnd);
        String next = g.plantedSession(user, category, 1, at + 1, 1, seed ^ user).get(0).itemId;
        return new Planted(c, category, search, next);
    }

    /** Mean category share and hit rate of the lists the job emits for the planted searches. */
    private static double[] afterSearch(Path versionDir, SyntheticGenerator g, List<Planted> planted, int topK)
            throws Exception {
        List<RawRecord> records = new ArrayList<>();
        long offset = 0;
        for (Planted p : planted) {
            for (BehaviorEvent e : IntentShift.historyEvents(p.c().query())) {
                records.add(IntentShift.raw(e, offset++));
            }
            records.add(IntentShift.raw(p.search(), offset++));
        }
        Map<String, Recommendation> lists = IntentShift.listsFromJob(versionDir, records, topK, "towerflow-search");
        double share = 0;
        double hits = 0;
        for (Planted p : planted) {
            Recommendation r = lists.get(p.search().userId + "@" + p.search().ts);
            if (r == null) {
                throw new IllegalStateException("the job emitted no list for " + p.search());
            }
            int in = 0;
            for (int i = 0; i < r.items.length; i++) {
                if (g.categoryOf(Integer.parseInt(r.items[i].itemId)) == p.category()) {
                    in++;
                }
                if (r.items[i].itemId.equals(p.next())) {
                    hits++;
                }
            }
            share += in / (double) topK;
        }
        int n = Math.max(1, planted.size());
        return new double[] {share / n, hits / n};
    }

    /** Share of the cases with one of their cold targets in the model's top-K. */
    private static double coldHitRate(ServingModel model, List<EvalCase> cold, IntPredicate coldItem, int topK) {
        if (cold.isEmpty()) {
            return Double.NaN;
        }
        List<String[]> lists = new TwoTowerRanker(model).rank(cold, topK);
        int hits = 0;
        for (int i = 0; i < cold.size(); i++) {
            Set<String> top = Set.of(lists.get(i));
            if (cold.get(i).targets().stream().anyMatch(t -> coldItem.test(Integer.parseInt(t)) && top.contains(t))) {
                hits++;
            }
        }
        return hits / (double) cold.size();
    }

}
