package io.towerflow.eval;

import io.towerflow.model.Evaluation;
import io.towerflow.model.ItemCatalogue;
import io.towerflow.model.TrainingExamples;
import io.towerflow.model.UserQuery;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The sequential-recommendation literature's leave-one-out protocol (SASRec, RecBole, ICLRec):
 * per user, the last event is the test target and the one before it the validation target; the
 * methods learn from everything before the validation target. At validation time the history is
 * everything before the validation target, at test time everything before the test target (the
 * validation target included, though no method trained on it). Every item of the whole file is a
 * candidate, and the user's earlier items (all of them, not only the model's history window) are
 * excluded.
 *
 * <p>Users with two events have a test target and no validation target (their first event trains);
 * users with one event have neither and only train. On files where every user has at least three
 * events (the literature's 5-core files), every user is evaluated.
 *
 * @param train the events every method learns from (no validation or test target among them)
 * @param validation one held-out pair per user with at least three events: the validation target,
 *     its history and exclusions; for early stopping and fitted weights, never the test target
 * @param cases one per user with at least two events: the test target
 * @param catalogue every item of the file, with its count in {@code train} (0 for items only ever
 *     seen as validation or test targets), so popularity and logQ never count a held-out event
 */
public record LeaveOneOutSplit(TrainingExamples train, List<Evaluation.HeldOut> validation, List<EvalCase> cases,
        ItemCatalogue catalogue) {

    public static LeaveOneOutSplit of(TrainingExamples all) {
        TrainingExamples.Split testSplit = all.splitLastPerUser(1);
        TrainingExamples beforeTest = testSplit.train();
        int[] eventsOf = new int[all.userCount()];
        for (int i = 0; i < all.size(); i++) {
            eventsOf[all.userIndex(i)]++;
        }
        TrainingExamples.Split validationSplit = beforeTest.splitLastPerUser(1, u -> eventsOf[u] >= 3);
        TrainingExamples train = validationSplit.train();

        // every user's items in order, to exclude all earlier items (the history window may be shorter)
        Map<Integer, String[]> itemsOf = new HashMap<>();
        for (int from = 0; from < all.size(); ) {
            int u = all.userIndex(from);
            int to = from + 1;
            while (to < all.size() && all.userIndex(to) == u) {
                to++;
            }
            String[] items = new String[to - from];
            for (int i = from; i < to; i++) {
                items[i - from] = all.targetItemId(i);
            }
            itemsOf.put(u, items);
            from = to;
        }

        TrainingExamples v = validationSplit.heldOut();
        List<Evaluation.HeldOut> validation = new ArrayList<>(v.size());
        for (int i = 0; i < v.size(); i++) {
            Set<String> exclude = firstItems(itemsOf.get(v.userIndex(i)), eventsOf[v.userIndex(i)] - 2);
            validation.add(new Evaluation.HeldOut(v.query(i, exclude), v.targetItemId(i)));
        }
        TrainingExamples t = testSplit.heldOut();
        int[] trainEvents = new int[all.userCount()];
        for (int i = 0; i < train.size(); i++) {
            trainEvents[train.userIndex(i)]++;
        }
        List<EvalCase> cases = new ArrayList<>(t.size());
        for (int i = 0; i < t.size(); i++) {
            int u = t.userIndex(i);
            Set<String> exclude = firstItems(itemsOf.get(u), eventsOf[u] - 1);
            UserQuery q = t.query(i, exclude);
            cases.add(new EvalCase(t.userId(i), q, trainEvents[u], Set.of(t.targetItemId(i)), 1));
        }
        return new LeaveOneOutSplit(train, validation, cases, catalogue(all, train));
    }

    private static Set<String> firstItems(String[] items, int n) {
        Set<String> s = new LinkedHashSet<>();
        for (int i = 0; i < n; i++) {
            s.add(items[i]);
        }
        return Set.copyOf(s);
    }

    /** Every item of {@code all} (first-appearance order, latest category) with its count in {@code train}. */
    private static ItemCatalogue catalogue(TrainingExamples all, TrainingExamples train) {
        ItemCatalogue every = all.catalogue();
        ItemCatalogue trained = train.catalogue();
        Map<String, Long> counts = new HashMap<>();
        for (int i = 0; i < trained.size(); i++) {
            counts.put(trained.itemId(i), trained.count(i));
        }
        String[] ids = new String[every.size()];
        String[] cats = new String[every.size()];
        long[] n = new long[every.size()];
        for (int i = 0; i < every.size(); i++) {
            ids[i] = every.itemId(i);
            cats[i] = every.categoryId(i);
            n[i] = counts.getOrDefault(ids[i], 0L);
        }
        return new ItemCatalogue(ids, cats, n);
    }
}
