package io.towerflow.eval;

import io.towerflow.model.ItemCatalogue;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

/** The same list for everyone: the items acted on most often in training (ties in catalogue order). */
public final class PopularityRanker implements Ranker {
    private final String[] byCount;

    public PopularityRanker(ItemCatalogue catalogue) {
        this.byCount = IntStream.range(0, catalogue.size())
                .boxed()
                .sorted(Comparator.<Integer>comparingLong(i -> -catalogue.count(i)).thenComparingInt(i -> i))
                .map(catalogue::itemId)
                .toArray(String[]::new);
    }

    @Override
    public String name() {
        return "popularity";
    }

    @Override
    public List<String[]> rank(List<EvalCase> cases, int k) {
        List<String[]> out = new ArrayList<>(cases.size());
        for (EvalCase c : cases) {
            out.add(top(k, c.query().exclude(), Set.of()));
        }
        return out;
    }

    /** The {@code k} most popular ids that are neither excluded nor {@code taken}. */
    String[] top(int k, Set<String> exclude, Set<String> taken) {
        List<String> items = new ArrayList<>(k);
        for (int i = 0; i < byCount.length && items.size() < k; i++) {
            String id = byCount[i];
            if ((exclude == null || !exclude.contains(id)) && !taken.contains(id)) {
                items.add(id);
            }
        }
        return items.toArray(new String[0]);
    }
}
