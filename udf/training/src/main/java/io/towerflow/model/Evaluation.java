package io.towerflow.model;

import io.towerflow.records.ScoredItem;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Offline hit rate at K over the full catalogue of a {@link ServingModel}: the share of held-out
 * (query → target item) pairs whose target is among the K items recommended. Reported for the
 * model, for a uniformly random ranking (its exact expectation, min(K, N) / N for a target in the
 * catalogue) and for the K most popular items. A target outside the catalogue is a miss for all
 * three. Each query's {@code exclude} applies to the model and to popularity.
 */
public final class Evaluation {
    private static final int BATCH = 256;

    private Evaluation() {}

    /** A held-out query and the item the user acted on next. */
    public record HeldOut(UserQuery query, String targetItemId) {}

    public record HitRates(int queries, int k, double model, double random, double popularity) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT,
                    "HR@%d over %d queries: model %.4f, random %.4f, popularity %.4f",
                    k, queries, model, random, popularity);
        }
    }

    /** The examples of {@code heldOut} as queries (history before the event, now = its time). */
    public static List<HeldOut> heldOut(TrainingExamples heldOut) {
        List<HeldOut> out = new ArrayList<>(heldOut.size());
        for (int i = 0; i < heldOut.size(); i++) {
            out.add(new HeldOut(heldOut.query(i, Set.of()), heldOut.targetItemId(i)));
        }
        return out;
    }

    public static HitRates hitRates(ServingModel model, List<HeldOut> pairs, int k) {
        Set<String> catalogue = new HashSet<>();
        for (int i = 0; i < model.catalogueSize(); i++) {
            catalogue.add(model.index().id(i));
        }
        int n = model.catalogueSize();
        double randomPerHit = n == 0 ? 0 : Math.min(k, n) / (double) n;
        long modelHits = 0;
        long popularHits = 0;
        double random = 0;
        ScoredItem[] popularNoExclude = model.popular(k, Set.of());
        for (int from = 0; from < pairs.size(); from += BATCH) {
            List<HeldOut> chunk = pairs.subList(from, Math.min(pairs.size(), from + BATCH));
            List<UserQuery> queries = new ArrayList<>(chunk.size());
            for (HeldOut h : chunk) {
                queries.add(h.query());
            }
            List<UserResult> results = model.recommend(queries, k);
            for (int i = 0; i < chunk.size(); i++) {
                String target = chunk.get(i).targetItemId();
                if (!catalogue.contains(target)) {
                    continue;
                }
                random += randomPerHit;
                if (contains(results.get(i).items(), target)) {
                    modelHits++;
                }
                Set<String> exclude = chunk.get(i).query().exclude();
                ScoredItem[] popular = exclude == null || exclude.isEmpty()
                        ? popularNoExclude
                        : model.popular(k, exclude);
                if (contains(popular, target)) {
                    popularHits++;
                }
            }
        }
        int q = pairs.size();
        return q == 0
                ? new HitRates(0, k, Double.NaN, Double.NaN, Double.NaN)
                : new HitRates(q, k, modelHits / (double) q, random / q, popularHits / (double) q);
    }

    private static boolean contains(ScoredItem[] items, String id) {
        for (ScoredItem s : items) {
            if (s.itemId.equals(id)) {
                return true;
            }
        }
        return false;
    }
}
