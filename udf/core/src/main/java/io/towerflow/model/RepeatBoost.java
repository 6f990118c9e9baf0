package io.towerflow.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

import java.util.HashMap;
import java.util.Map;

/**
 * Re-consumption in a list: an item the user acted on recently scores {@code cosine + weight ×
 * r}, where r = Σ 0.5^(k / halfLifeEvents) over the positions k (0 = newest) at which the item
 * occurs among the user's last {@code historyLength} acts. On e-commerce data much of what a user
 * does next is a return to an item seen minutes ago (on the Taobao sequences, ranking the user's own
 * history finds the next item of 46% of users), which the towers — whose rare items hardly train —
 * score poorly. The weight and half-life are fitted after training on the validation users
 * ({@code RepeatBoostFit} in the training module); weight 0 is the towers alone. The job applies it only where history items may be
 * recommended at all ({@code towerflow.recommend.exclude-seen: false}).
 *
 * @param weight added per unit of r, in cosine units (0 = off)
 * @param halfLifeEvents how many acts back an occurrence counts half (&gt; 0)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record RepeatBoost(double weight, double halfLifeEvents) {
    /** The towers alone. */
    public static final RepeatBoost NONE = new RepeatBoost(0, 1);

    /** Weights the fit tries (cosine units: 1 puts any repeat above every other item). */
    static final double[] WEIGHTS = {0, 0.02, 0.05, 0.1, 0.2, 0.5, 1};
    /** Half-lives the fit tries, in acts. */
    static final double[] HALF_LIVES = {2, 8, 32};
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
}
