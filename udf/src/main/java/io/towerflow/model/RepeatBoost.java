package io.towerflow.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

import io.towerflow.records.ScoredItem;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Re-consumption in a list: an item the user acted on recently scores {@code cosine + weight ×
 * r}, where r = Σ 0.5^(k / halfLifeEvents) over the positions k (0 = newest) at which the item
 * occurs among the user's last {@code historyLength} acts. On e-commerce data much of what a user
 * does next is a return to an item seen minutes ago (on the Taobao sequences, ranking the user's own
 * history finds the next item of 46% of users), which the towers — whose rare items hardly train —
 * score poorly. The weight and half-life are fitted after training on the validation users
 * ({@link #fit}); weight 0 is the towers alone. The job applies it only where history items may be
 * recommended at all ({@code towerflow.recommend.exclude-seen: false}).
 *
 * @param weight added per unit of r, in cosine units (0 = off)
 * @param halfLifeEvents how many acts back an occurrence counts half (&gt; 0)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record RepeatBoost(double weight, double halfLifeEvents) {
    /** The towers alone. */
    public static final RepeatBoost NONE = new RepeatBoost(0, 1);

    /** Weights {@link #fit} tries (cosine units: 1 puts any repeat above every other item). */
    static final double[] WEIGHTS = {0, 0.02, 0.05, 0.1, 0.2, 0.5, 1};
    /** Half-lives {@link #fit} tries, in acts. */
    static final double[] HALF_LIVES = {2, 8, 32};
    /** Validation queries the towers score at once while fitting. */
    private static final int FIT_BATCH = 256;

    public RepeatBoost {
        if (!(weight >= 0) || !Double.isFinite(weight)) {
            throw new IllegalArgumentException("repeat weight must be >= 0, was " + weight);
        }
        if (!(halfLifeEvents > 0) || !Double.isFinite(halfLifeEvents)) {
            throw new IllegalArgumentException("repeat half-life must be > 0, was " + halfLifeEvents);
        }
    }

    public boolean active() {
        return weight > 0;
    }

    /**
     * r of every distinct item among the newest {@code historyLength} entries of {@code itemIds}
     * (oldest first; null or empty gives an empty map).
     */
    public Map<String, Double> recency(String[] itemIds, int historyLength) {
        Map<String, Double> r = new HashMap<>();
        if (itemIds == null) {
            return r;
        }
        double decay = Math.pow(0.5, 1 / halfLifeEvents);
        double w = 1;
        int oldest = Math.max(0, itemIds.length - historyLength);
        for (int i = itemIds.length - 1; i >= oldest; i--) {
            if (itemIds[i] != null) {
                r.merge(itemIds[i], w, Double::sum);
            }
            w *= decay;
        }
        return r;
    }

    /**
     * What {@link #fit} chose: the boost, and over {@code queries} validation events the HR@k
     * with it and with the towers alone; {@code tried} holds the HR@k of every grid point.
     */
    public record Fit(RepeatBoost boost, int queries, double hitRate, double hitRateWithout, Map<RepeatBoost, Double> tried) {}

    /**
     * The boost of the grid {@link #HALF_LIVES} × {@link #WEIGHTS} whose lists put most
     * {@code validation} targets in the top {@code k} (then the higher NDCG@k; then the smaller
     * weight, so weight 0 wins a tie). The towers score each query once; only the merge is
     * repeated per grid point.
     */
    public static Fit fit(ServingModel model, List<Evaluation.HeldOut> validation, int k) {
        List<ServingModel.Candidates> candidates = new ArrayList<>(validation.size());
        for (int from = 0; from < validation.size(); from += FIT_BATCH) {
            List<UserQuery> queries = new ArrayList<>(FIT_BATCH);
            for (Evaluation.HeldOut h : validation.subList(from, Math.min(validation.size(), from + FIT_BATCH))) {
                queries.add(h.query());
            }
            candidates.addAll(model.candidates(queries, k, true));
        }
        RepeatBoost best = NONE;
        long bestHits = -1;
        double bestGain = -1;
        long hitsWithout = 0;
        int n = validation.size();
        Map<RepeatBoost, Double> tried = new LinkedHashMap<>();
        for (double halfLife : HALF_LIVES) {
            for (double weight : WEIGHTS) {
                if (weight == 0 && halfLife != HALF_LIVES[0]) {
                    continue;
                }
                RepeatBoost boost = weight == 0 ? NONE : new RepeatBoost(weight, halfLife);
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
        return new Fit(best, n, n == 0 ? Double.NaN : bestHits / (double) n,
                n == 0 ? Double.NaN : hitsWithout / (double) n, tried);
    }
}
