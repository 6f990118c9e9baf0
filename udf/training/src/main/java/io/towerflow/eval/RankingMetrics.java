package io.towerflow.eval;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Top-K metrics of one method over many test cases, for every K from 1 to {@code maxK} at once.
 * A case is a ranked list and the set of items the user really acted on next (its targets,
 * distinct; binary relevance):
 *
 * <ul>
 *   <li>HR@K: 1 if any target is among the first K, else 0;
 *   <li>Recall@K: the share of the targets among the first K;
 *   <li>NDCG@K: Σ 1 / log2(rank + 1) over the targets among the first K (rank from 1), divided by
 *       the same sum for an ideal list, which puts min(|targets|, K) targets first.
 * </ul>
 *
 * Each is the mean over cases. A case without targets is not counted; a list shorter than K is
 * scored as it is (its missing places hold no target).
 */
public final class RankingMetrics {
    /** The K of the evaluation table. */
    public static final int[] TABLE_KS = {5, 10, 20, 50};

    private final int maxK;
    private final double[] hits;
    private final double[] recall;
    private final double[] ndcg;
    private long cases;

    public RankingMetrics(int maxK) {
        if (maxK < 1) {
            throw new IllegalArgumentException("maxK must be >= 1");
        }
        this.maxK = maxK;
        this.hits = new double[maxK + 1];
        this.recall = new double[maxK + 1];
        this.ndcg = new double[maxK + 1];
    }

    public int maxK() {
        return maxK;
    }

    /** Adds one case: {@code ranked} best first (only the first maxK count). */
    public void add(String[] ranked, Set<String> targets) {
        if (targets.isEmpty()) {
            return;
        }
        cases++;
        // per K: hits up to K, DCG up to K, ideal DCG up to K (prefix sums over ranks)
        int found = 0;
        double dcg = 0;
        double ideal = 0;
        boolean hit = false;
        for (int k = 1; k <= maxK; k++) {
            if (k <= ranked.length && ranked[k - 1] != null && targets.contains(ranked[k - 1])
                    && !seenBefore(ranked, k - 1)) {
                found++;
                dcg += discount(k);
                hit = true;
            }
            if (k <= targets.size()) {
                ideal += discount(k);
            }
            hits[k] += hit ? 1 : 0;
            recall[k] += found / (double) targets.size();
            ndcg[k] += dcg / ideal;
        }
    }

    /** Whether ranked[i] already appeared before i (a list that repeats an item counts it once). */
    private static boolean seenBefore(String[] ranked, int i) {
        for (int j = 0; j < i; j++) {
            if (ranked[i].equals(ranked[j])) {
                return true;
            }
        }
        return false;
    }

    private static double discount(int rank) {
        return 1 / (Math.log(rank + 1) / Math.log(2));
    }

    public long cases() {
        return cases;
    }

    public double hitRate(int k) {
        return mean(hits, k);
    }

    public double recall(int k) {
        return mean(recall, k);
    }

    public double ndcg(int k) {
        return mean(ndcg, k);
    }

    private double mean(double[] sums, int k) {
        if (k < 1 || k > maxK) {
            throw new IllegalArgumentException("K " + k + " outside [1, " + maxK + "]");
        }
        return cases == 0 ? Double.NaN : sums[k] / cases;
    }

    /** HR@K for K = 1 .. maxK (index K - 1). */
    public double[] hitRateCurve() {
        double[] out = new double[maxK];
        for (int k = 1; k <= maxK; k++) {
            out[k - 1] = hitRate(k);
        }
        return out;
    }

    /** HR, Recall and NDCG at each of {@link #TABLE_KS} that is <= maxK, keyed "HR@10", …. */
    public Map<String, Double> table() {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String metric : new String[] {"HR", "Recall", "NDCG"}) {
            for (int k : TABLE_KS) {
                if (k <= maxK) {
                    out.put(metric + "@" + k, metric.equals("HR") ? hitRate(k)
                            : metric.equals("Recall") ? recall(k) : ndcg(k));
                }
            }
        }
        return out;
    }
}
