package io.towerflow.eval;

import io.towerflow.model.ItemCatalogue;
import io.towerflow.model.TrainingExamples;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * "Viewed together": two items co-occur when one user acted on both within {@code window} events
 * of each other in the training data; a user's score for item j is Σ decay^age · count(h, j) over
 * the user's latest {@code historyItems} items h (age 0 = the newest). Ties go to the more popular
 * item, and a list that runs out of co-occurring items is filled with the most popular ones.
 *
 * <p>Counts are kept as a compressed sparse table (for each item its neighbours and counts),
 * built by sorting the pairs as packed longs: no map entry per pair.
 */
public final class CoOccurrenceRanker implements Ranker {
    /** Defaults: pairs within 5 events of each other, the latest 10 items scored, decay 0.8. */
    public static final int WINDOW = 5;
    public static final int HISTORY_ITEMS = 10;
    public static final double DECAY = 0.8;

    private final Map<String, Integer> index;
    private final String[] ids;
    private final long[] counts;
    private final int[] start;
    private final int[] neighbour;
    private final int[] weight;
    private final int historyItems;
    private final double decay;
    private final PopularityRanker popularity;

    private CoOccurrenceRanker(TrainingExamples train, ItemCatalogue catalogue, int[] start, int[] neighbour,
            int[] weight, int historyItems, double decay) {
        this.ids = new String[train.itemCount()];
        this.index = new HashMap<>(ids.length * 2);
        for (int i = 0; i < ids.length; i++) {
            ids[i] = train.itemIdOf(i);
            index.put(ids[i], i);
        }
        this.counts = new long[ids.length];
        for (int i = 0; i < catalogue.size(); i++) {
            Integer d = index.get(catalogue.itemId(i));
            if (d != null) {
                counts[d] = catalogue.count(i);
            }
        }
        this.start = start;
        this.neighbour = neighbour;
        this.weight = weight;
        this.historyItems = historyItems;
        this.decay = decay;
        this.popularity = new PopularityRanker(catalogue);
    }

    /** Counts the pairs of {@code train} (a view ordered by user, then time). */
    public static CoOccurrenceRanker build(TrainingExamples train, ItemCatalogue catalogue, int window,
            int historyItems, double decay) {
        if (window < 1 || historyItems < 1 || !(decay > 0 && decay <= 1)) {
            throw new IllegalArgumentException("need window >= 1, historyItems >= 1, decay in (0, 1]");
        }
        long[] pairs = new long[Math.max(16, train.size())];
        int n = 0;
        int runStart = 0;
        for (int i = 0; i < train.size(); i++) {
            if (i > 0 && train.userIndex(i) != train.userIndex(i - 1)) {
                runStart = i;
            }
            int b = train.itemIndex(i);
            for (int j = Math.max(runStart, i - window); j < i; j++) {
                int a = train.itemIndex(j);
                if (a == b) {
                    continue;
                }
                if (n == pairs.length) {
                    pairs = Arrays.copyOf(pairs, pairs.length * 2);
                }
                pairs[n++] = ((long) Math.min(a, b) << 32) | Math.max(a, b);
            }
        }
        Arrays.sort(pairs, 0, n);
        // distinct pairs (compacted in place) with their counts, then a symmetric compressed table
        int distinct = 0;
        for (int p = 0; p < n; distinct++) {
            int q = p + 1;
            while (q < n && pairs[q] == pairs[p]) {
                q++;
            }
            p = q;
        }
        int items = train.itemCount();
        int[] degree = new int[items + 1];
        int[] pairCount = new int[distinct];
        for (int p = 0, d = 0; p < n; d++) {
            int q = p + 1;
            while (q < n && pairs[q] == pairs[p]) {
                q++;
            }
            pairs[d] = pairs[p];
            pairCount[d] = q - p;
            degree[(int) (pairs[d] >>> 32) + 1]++;
            degree[(int) pairs[d] + 1]++;
            p = q;
        }
        int[] start = new int[items + 1];
        for (int i = 0; i < items; i++) {
            start[i + 1] = start[i] + degree[i + 1];
        }
        int[] fill = Arrays.copyOf(start, items);
        int[] neighbour = new int[2 * distinct];
        int[] weight = new int[2 * distinct];
        for (int d = 0; d < distinct; d++) {
            int a = (int) (pairs[d] >>> 32);
            int b = (int) pairs[d];
            neighbour[fill[a]] = b;
            weight[fill[a]++] = pairCount[d];
            neighbour[fill[b]] = a;
            weight[fill[b]++] = pairCount[d];
        }
        return new CoOccurrenceRanker(train, catalogue, start, neighbour, weight, historyItems, decay);
    }

    /** With the defaults {@link #WINDOW}, {@link #HISTORY_ITEMS}, {@link #DECAY}. */
    public static CoOccurrenceRanker build(TrainingExamples train, ItemCatalogue catalogue) {
        return build(train, catalogue, WINDOW, HISTORY_ITEMS, DECAY);
    }

    @Override
    public String name() {
        return "cooccurrence";
    }

    @Override
    public List<String[]> rank(List<EvalCase> cases, int k) {
        double[] score = new double[ids.length];
        int[] touched = new int[ids.length];
        List<String[]> out = new ArrayList<>(cases.size());
        for (EvalCase c : cases) {
            int nTouched = 0;
            String[] history = c.query().itemIds();
            int len = history == null ? 0 : history.length;
            double w = 1;
            for (int h = len - 1; h >= Math.max(0, len - historyItems); h--, w *= decay) {
                Integer item = index.get(history[h]);
                if (item == null) {
                    continue;
                }
                for (int e = start[item]; e < start[item + 1]; e++) {
                    int j = neighbour[e];
                    if (score[j] == 0) {
                        touched[nTouched++] = j;
                    }
                    score[j] += w * weight[e];
                }
            }
            Integer[] order = new Integer[nTouched];
            for (int i = 0; i < nTouched; i++) {
                order[i] = touched[i];
            }
            Arrays.sort(order, (a, b) -> score[a] != score[b] ? Double.compare(score[b], score[a])
                    : counts[a] != counts[b] ? Long.compare(counts[b], counts[a]) : Integer.compare(a, b));
            Set<String> exclude = c.query().exclude();
            Set<String> list = new LinkedHashSet<>();
            for (int i = 0; i < nTouched && list.size() < k; i++) {
                String id = ids[order[i]];
                if (counts[order[i]] > 0 && (exclude == null || !exclude.contains(id))) {
                    list.add(id);
                }
            }
            for (int i = 0; i < nTouched; i++) {
                score[touched[i]] = 0;
            }
            if (list.size() < k) {
                list.addAll(Arrays.asList(popularity.top(k - list.size(), exclude, list)));
            }
            out.add(list.toArray(new String[0]));
        }
        return out;
    }
}
