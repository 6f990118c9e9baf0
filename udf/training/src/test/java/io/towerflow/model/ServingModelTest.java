package io.towerflow.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.index.ScoringKernel;
import io.towerflow.records.Action;
import io.towerflow.records.ScoredItem;

import ai.djl.Device;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

class ServingModelTest {
    @TempDir static Path root;
    static ServingModel model;
    static TrainingExamples.Split split;

    @BeforeAll
    static void load() throws Exception {
        split = PlantedModels.plantedSplit();
        model = ServingModel.load(PlantedModels.trainPlanted(root, "v7", 2), Device.cpu());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static UserQuery query(int i, Set<String> exclude) {
        return split.heldOut().query(i, exclude);
    }

    private static List<String> ids(ScoredItem[] items) {
        List<String> out = new ArrayList<>();
        for (ScoredItem s : items) {
            out.add(s.itemId);
        }
        return out;
    }

    @Test
    void describesItsVersion() {
        assertEquals("v7", model.version());
        assertEquals(PlantedData.testConfig(), model.config());
        assertEquals(split.train().catalogue().size(), model.catalogueSize());
        assertTrue(model.knowsAny(new String[] {"nope", PlantedData.item(3)}));
        assertFalse(model.knowsAny(new String[] {"nope"}));
        assertFalse(model.knowsAny(null));
    }

    @Test
    void returnsKItemsBestFirstWithAUnitUserVector() {
        UserResult r = model.recommend(List.of(query(0, Set.of())), 10).get(0);
        assertEquals(10, r.items().length);
        for (int j = 1; j < r.items().length; j++) {
            assertTrue(r.items()[j - 1].score >= r.items()[j].score);
        }
        assertEquals(model.config().dim(), r.userVector().length);
        assertEquals(1.0, norm(r.userVector()), 1e-4);
        assertEquals(10, new HashSet<>(ids(r.items())).size(), "no duplicates");
    }

    @Test
    void excludedItemsAreLeftOutAndTheListStaysFull() {
        ScoredItem[] plain = model.recommend(List.of(query(1, Set.of())), 10).get(0).items();
        Set<String> exclude = Set.of(plain[0].itemId, plain[2].itemId, plain[5].itemId);
        // in one batch with a user who excludes nothing
        List<UserResult> both = model.recommend(List.of(query(1, exclude), query(2, Set.of())), 10);
        ScoredItem[] filtered = both.get(0).items();
        assertEquals(10, filtered.length);
        for (ScoredItem s : filtered) {
            assertFalse(exclude.contains(s.itemId), s.itemId);
        }
        assertEquals(plain[1].itemId, filtered[0].itemId);
        assertEquals(plain[3].itemId, filtered[1].itemId);
        assertEquals(10, both.get(1).items().length);

        // excluding all but two items of the catalogue leaves those two
        Set<String> all = new HashSet<>(Arrays.asList(model.index() == null ? new String[0] : catalogueIds()));
        List<String> keep = new ArrayList<>(all).subList(0, 2);
        all.removeAll(keep);
        ScoredItem[] two = model.recommend(List.of(query(3, all)), 10).get(0).items();
        assertEquals(new HashSet<>(keep), new HashSet<>(ids(two)));
    }

    @Test
    void theFusedKernelServesTheSameListsAsTheNaiveReference() {
        assertEquals(ScoringKernel.FUSED, model.kernel(), "tests run with the Vector API");
        List<UserQuery> qs = new ArrayList<>();
        for (int i = 0; i < 37; i++) { // exclusions of every size, some of them the user's best items
            Set<String> exclude = new HashSet<>();
            for (ScoredItem s : model.recommend(List.of(query(i, Set.of())), 2 * i + 1).get(0).items()) {
                if (exclude.size() < i) {
                    exclude.add(s.itemId);
                }
            }
            qs.add(query(i, exclude));
        }
        try {
            List<UserResult> fused = model.recommend(qs, 20);
            List<UserResult> naive = model.withKernel(ScoringKernel.NAIVE).recommend(qs, 20);
            int same = 0;
            for (int i = 0; i < qs.size(); i++) {
                ScoredItem[] n = naive.get(i).items();
                ScoredItem[] f = fused.get(i).items();
                assertEquals(n.length, f.length, "user " + i);
                for (int j = 0; j < n.length; j++) {
                    // the planted catalogue has items of equal vectors: torch.topk orders such ties
                    // as it likes, the fused kernel by row; the score at each place is the same
                    assertEquals(n[j].score, f[j].score, 1e-5f, "user " + i + " place " + j);
                    assertFalse(qs.get(i).exclude().contains(f[j].itemId));
                    same += n[j].itemId.equals(f[j].itemId) ? 1 : 0;
                }
            }
            assertTrue(same > 0.9 * qs.size() * 20, same + " of " + qs.size() * 20 + " places hold the same item");
        } finally {
            model.withKernel(ScoringKernel.FUSED);
        }
    }

    @Test
    void usersWithoutHistoryGetResults() {
        List<UserResult> r = model.recommend(List.of(
                UserQuery.withoutHistory("new-user", PlantedData.T0, Set.of()),
                new UserQuery("other", null, null, null, null, PlantedData.T0, null)), 10);
        for (UserResult u : r) {
            assertEquals(10, u.items().length);
            assertEquals(1.0, norm(u.userVector()), 1e-4);
        }
    }

    @Test
    void kIsCappedAtTheCatalogue() {
        int n = model.catalogueSize();
        assertEquals(n, model.recommend(List.of(query(0, Set.of())), n + 50).get(0).items().length);
        assertEquals(0, model.recommend(List.of(query(0, Set.of())), 0).get(0).items().length);
        assertTrue(model.recommend(List.of(), 10).isEmpty());
    }

    @Test
    void onlyTheNewestHistoryLengthEntriesCount() {
        int n = model.config().historyLength();
        int len = n + 7;
        String[] items = new String[len];
        String[] cats = new String[len];
        byte[] actions = new byte[len];
        long[] ts = new long[len];
        for (int i = 0; i < len; i++) {
            items[i] = PlantedData.item(i);
            cats[i] = PlantedData.category(PlantedData.categoryOfItem(i, 10));
            actions[i] = Action.VIEW.code();
            ts[i] = PlantedData.T0 + i;
        }
        UserQuery longQ = new UserQuery("u", items, cats, actions, ts, PlantedData.T0 + len, Set.of());
        UserQuery shortQ = new UserQuery("u", Arrays.copyOfRange(items, 7, len), Arrays.copyOfRange(cats, 7, len),
                Arrays.copyOfRange(actions, 7, len), Arrays.copyOfRange(ts, 7, len), PlantedData.T0 + len, Set.of());
        List<UserResult> r = model.recommend(List.of(longQ, shortQ), 5);
        assertArrayEquals(r.get(1).userVector(), r.get(0).userVector());

        UserQuery broken = new UserQuery("u", items, cats, new byte[1], ts, 0, Set.of());
        assertThrows(IllegalArgumentException.class, () -> model.recommend(List.of(broken), 5));
    }

    @Test
    void batchedAndSingleCallsAgree() {
        List<UserQuery> qs = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            qs.add(query(i, Set.of()));
        }
        List<UserResult> batched = model.recommend(qs, 5);
        for (int i = 0; i < qs.size(); i++) {
            UserResult single = model.recommend(List.of(qs.get(i)), 5).get(0);
            assertArrayEquals(single.userVector(), batched.get(i).userVector(), 1e-5f);
            for (int j = 0; j < 5; j++) {
                assertEquals(single.items()[j].score, batched.get(i).items()[j].score, 1e-5f);
            }
        }
    }

    @Test
    void popularIsByCountWithoutExcluded() {
        ItemCatalogue cat = split.train().catalogue();
        ScoredItem[] top = model.popular(5, Set.of());
        assertEquals(5, top.length);
        long max = Arrays.stream(cat.counts()).max().orElseThrow();
        assertEquals(max, (long) top[0].score);
        for (int j = 1; j < top.length; j++) {
            assertTrue(top[j - 1].score >= top[j].score);
        }
        ScoredItem[] without = model.popular(5, Set.of(top[0].itemId));
        assertEquals(top[1].itemId, without[0].itemId);
        assertEquals(cat.size(), model.popular(cat.size() + 10, Set.of()).length);
    }

    @Test
    void memoryDoesNotGrowOverManyCalls() {
        List<UserQuery> qs = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            qs.add(query(i, Set.of(PlantedData.item(i))));
        }
        for (int i = 0; i < 5; i++) {
            model.recommend(qs, 20);
            model.candidates(qs, 20, true);
        }
        int before = model.manager().getManagedArrays().size();
        for (int i = 0; i < 300; i++) {
            model.recommend(qs, 20);
            model.candidates(qs, 20, true); // with the history items' cosines
        }
        int after = model.manager().getManagedArrays().size();
        assertEquals(before, after, "arrays attached to the model's manager");
    }

    @Test
    void aLargeBoostPutsTheHistoryFirstAndKeepsTheRestInOrder() {
        UserQuery q = split.heldOut().query(0, Set.of());
        int k = 30;
        ServingModel.Candidates c = model.candidates(List.of(q), k, true).get(0);
        List<String> history = distinctNewestFirst(q.itemIds());
        assertTrue(history.size() >= 2 && history.size() < k, "the planted user has a short history");

        // weight 100 with a long half-life: every history item gains about 100, more than any cosine gap
        List<String> boosted = ids(c.rank(k, new RepeatBoost(100, 1000)).items());
        int h = history.size();
        assertEquals(Set.copyOf(history), Set.copyOf(boosted.subList(0, h)));
        List<String> plain = ids(c.rank(k, RepeatBoost.NONE).items());
        plain.removeAll(history);
        assertEquals(plain.subList(0, k - h), boosted.subList(h, k));
        assertEquals(k, Set.copyOf(boosted).size(), "no duplicates");

        // at half-life 1 the newest act gains twice what the one before it gains
        assertEquals(history.get(0), c.rank(k, new RepeatBoost(100, 1)).items()[0].itemId);

        // an excluded history item stays out however much it is boosted
        UserQuery excluding = split.heldOut().query(0, Set.of(history.get(0)));
        List<String> without = ids(model.candidates(List.of(excluding), k, true).get(0)
                .rank(k, new RepeatBoost(100, 1)).items());
        assertEquals(k, without.size());
        assertFalse(without.contains(history.get(0)));
        assertEquals(history.get(1), without.get(0));
    }

    @Test
    void withoutABoostTheListIsTheTowersOwn() {
        UserQuery q = split.heldOut().query(1, Set.of());
        ScoredItem[] served = model.recommend(List.of(q), 20).get(0).items();
        ScoredItem[] ranked = model.candidates(List.of(q), 20, false).get(0).rank(20, RepeatBoost.NONE).items();
        assertEquals(ids(served), ids(ranked));
        assertEquals(RepeatBoost.NONE, model.repeat());
    }

    @Test
    void fitFindsABoostWhenTheTargetsAreRepeatsAndNoneWhenTheyAreNot() {
        List<Evaluation.HeldOut> repeats = new ArrayList<>();
        List<Evaluation.HeldOut> fresh = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            UserQuery q = split.heldOut().query(i, Set.of());
            List<String> history = distinctNewestFirst(q.itemIds());
            repeats.add(new Evaluation.HeldOut(q, history.get(0)));
            String top = model.recommend(List.of(q), 1).get(0).items()[0].itemId;
            if (!history.contains(top)) {
                fresh.add(new Evaluation.HeldOut(q, top));
            }
        }
        assertTrue(fresh.size() >= 10, "users whose best item is a new one: " + fresh.size());
        RepeatBoostFit onRepeats = RepeatBoostFit.fit(model, repeats, 1);
        assertTrue(onRepeats.boost().active(), onRepeats.toString());
        assertTrue(onRepeats.hitRate() > onRepeats.hitRateWithout(), onRepeats.toString());

        RepeatBoostFit onFresh = RepeatBoostFit.fit(model, fresh, 1);
        assertEquals(RepeatBoost.NONE, onFresh.boost());
        assertEquals(1.0, onFresh.hitRate());
        assertEquals(1.0, onFresh.hitRateWithout());
    }

    /** The distinct items of the newest historyLength entries, newest first. */
    private static List<String> distinctNewestFirst(String[] history) {
        Set<String> out = new LinkedHashSet<>();
        int oldest = Math.max(0, history.length - model.config().historyLength());
        for (int i = history.length - 1; i >= oldest; i--) {
            out.add(history[i]);
        }
        return new ArrayList<>(out);
    }

    private static String[] catalogueIds() {
        String[] ids = new String[model.catalogueSize()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = model.index().id(i);
        }
        return ids;
    }

    private static double norm(float[] v) {
        double s = 0;
        for (float x : v) {
            s += x * x;
        }
        return Math.sqrt(s);
    }
}
