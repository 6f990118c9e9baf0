package io.towerflow.model;

import io.towerflow.records.ScoredItem;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@link #fit} chose for a {@link RepeatBoost}: the boost, and over {@code queries} validation events the HR@k
 * with it and with the towers alone; {@code tried} holds the HR@k of every grid point.
 */
public record RepeatBoostFit(RepeatBoost boost, int queries, double hitRate, double hitRateWithout, Map<RepeatBoost, Double> tried) {
    /** Validation queries the towers score at once while fitting. */
    private static final int FIT_BATCH = 256;

    /**
     * The boost of the grid {@code RepeatBoost.HALF_LIVES} × {@code RepeatBoost.WEIGHTS} whose lists put most
     * {@code validation} targets in the top {@code k} (then the higher NDCG@k; then the smaller
     * weight, so weight 0 wins a tie). The towers score each query once; only the merge is
     * repeated per grid point.
     */
    public static RepeatBoostFit fit(ServingModel model, List<Evaluation.HeldOut> validation, int k) {
        List<ServingModel.Candidates> candidates = new ArrayList<>(validation.size());
        for (int from = 0; from < validation.size(); from += FIT_BATCH) {
            List<UserQuery> queries = new ArrayList<>(FIT_BATCH);
            for (Evaluation.HeldOut h : validation.subList(from, Math.min(validation.size(), from + FIT_BATCH))) {
                queries.add(h.query());
            }
            candidates.addAll(model.candidates(queries, k, true));
        }
        RepeatBoost best = RepeatBoost.NONE;
        long bestHits = -1;
        double bestGain = -1;
        long hitsWithout = 0;
        int n = validation.size();
        Map<RepeatBoost, Double> tried = new LinkedHashMap<>();
        for (double halfLife : RepeatBoost.HALF_LIVES) {
            for (double weight : RepeatBoost.WEIGHTS) {
                if (weight == 0 && halfLife != RepeatBoost.HALF_LIVES[0]) {
                    continue;
                }
                RepeatBoost boost = weight == 0 ? RepeatBoost.NONE : new RepeatBoost(weight, halfLife);
                long hits = 0;
                double gain = 0;
                for (int i = 0; i < candidates.size(); i++) {
                    ScoredItem[] list = candidates.get(i).rank(k, boost).items();
                    String target = validation.get(i).targetItemId();
                    for (int r = 0; r < list.length; r++) {
                        if (list[r].itemId.equals(target)) {
                            hits++;
                            gain += 1 / (Math.log(r + 2) / Math.log(2));
                            break;
                        }
                    }
                }
                if (weight == 0) {
                    hitsWithout = hits;
                }
                tried.put(boost, n == 0 ? Double.NaN : hits / (double) n);
                if (hits > bestHits || (hits == bestHits && gain > bestGain)) {
                    best = boost;
                    bestHits = hits;
                    bestGain = gain;
                }
            }
        }
        return new RepeatBoostFit(best, n, n == 0 ? Double.NaN : bestHits / (double) n,
                n == 0 ? Double.NaN : hitsWithout / (double) n, tried);
    }
}
