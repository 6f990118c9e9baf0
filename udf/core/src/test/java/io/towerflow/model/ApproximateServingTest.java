package io.towerflow.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.index.AnnSettings;
import io.towerflow.index.ClusteredIndex;
import io.towerflow.records.Action;
import io.towerflow.records.CatalogueItem;
import io.towerflow.records.ScoredItem;

import ai.djl.Device;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

/**
 * {@link ServingModel} over the approximate index (the bootstrap's 20k items with the threshold
 * lowered to 1,000; 64 lists, 8 probed): against exact serving, exclusions, the repeat boost and
 * catalogue changes.
 */
class ApproximateServingTest {
    private static final AnnSettings ANN = new AnnSettings(1_000, 64, 8, 0.2, 4, 1);
    private static final int K = 20;

    /** {@code n} users with 30 random catalogue items as history, all excluded when {@code exclude}. */
    static List<UserQuery> users(ItemCatalogue cat, int n, boolean exclude, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<UserQuery> out = new ArrayList<>();
        for (int u = 0; u < n; u++) {
            int h = 30;
            String[] ids = new String[h];
            String[] cats = new String[h];
            byte[] actions = new byte[h];
            long[] ts = new long[h];
            // a user's history sits in one category, so it has a direction to score
            String category = cat.categoryId(r.nextInt(cat.size()));
            for (int i = 0, tries = 0; i < h; tries++) {
                int row = r.nextInt(cat.size());
                if (cat.categoryId(row).equals(category) || tries > 20_000) {
                    ids[i] = cat.itemId(row);
                    cats[i] = cat.categoryId(row);
                    actions[i] = Action.VIEW.code();
                    ts[i] = 1_764_547_200_000L + 1000L * i;
                    i++;
                }
            }
            out.add(new UserQuery("u" + u, ids, cats, actions, ts, ts[h - 1] + 1000,
                    exclude ? new HashSet<>(Arrays.asList(ids)) : null));
        }
        return out;
    }

    private static Set<String> ids(UserResult r) {
        return Arrays.stream(r.items()).map(s -> s.itemId).collect(Collectors.toSet());
    }

    @Test
    void closeToExactNeverRecommendingAnExcludedItemAndDeterministic() throws Exception {
        Path dir = TestModels.bootstrapVersionDir();
        try (ServingModel ann = ServingModel.load(dir, Device.cpu(), ANN);
                ServingModel again = ServingModel.load(dir, Device.cpu(), ANN)) {
            assertTrue(ann.approximate(), "20k items >= 1,000: served approximately");
            assertEquals(64, ann.index().approximate().lists());
            List<UserQuery> queries = users(ModelArtifacts.load(dir).catalogue(), 64, true, 3);
            List<UserResult> approx = ann.recommend(queries, K);
            List<UserResult> exact = ann.withApproximateIndex(false).recommend(queries, K);
            assertFalse(ann.approximate());
            int hits = 0;
            for (int u = 0; u < queries.size(); u++) {
                assertEquals(K, approx.get(u).items().length);
                for (ScoredItem s : approx.get(u).items()) {
                    assertFalse(queries.get(u).exclude().contains(s.itemId), "excluded " + s.itemId);
                }
                Set<String> truth = ids(exact.get(u));
                hits += (int) ids(approx.get(u)).stream().filter(truth::contains).count();
            }
            double recall = hits / (double) (K * queries.size());
            assertTrue(recall >= 0.8, "recall@20 " + recall);
            List<UserResult> second = again.recommend(queries, K);
            for (int u = 0; u < queries.size(); u++) {
                assertEquals(Arrays.asList(approx.get(u).items()), Arrays.asList(second.get(u).items()),
                        "same model, same seed: same lists");
            }
        }
    }

    @Test
    void theRepeatBoostMergesTheSameWayOverTheApproximateIndex(@TempDir Path tmp) throws Exception {
        TestModels.copyOfBootstrap(tmp, "v20991231-boosted");
        Path dir = tmp.resolve("v20991231-boosted");
        Path manifest = dir.resolve("manifest.json");
        String boosted = Files.readString(manifest).replaceFirst("\"weight\" : 0\\.0", "\"weight\" : 0.3");
        assertFalse(boosted.equals(Files.readString(manifest)), "the bootstrap's manifest names its boost");
        Files.writeString(manifest, boosted);
        try (ServingModel m = ServingModel.load(dir, Device.cpu(), ANN)) {
            assertTrue(m.repeat().active() && m.approximate());
            List<UserQuery> queries = users(ModelArtifacts.load(dir).catalogue(), 32, false, 4);
            List<UserResult> approx = m.recommend(queries, K);
            List<UserResult> exact = m.withApproximateIndex(false).recommend(queries, K);
            int repeated = 0;
            for (int u = 0; u < queries.size(); u++) {
                Set<String> history = new HashSet<>(Arrays.asList(queries.get(u).itemIds()));
                Set<String> got = ids(approx.get(u));
                for (ScoredItem s : exact.get(u).items()) {
                    // a boosted history item is scored from the item matrix: the index misses none
                    if (history.contains(s.itemId)) {
                        repeated++;
                        assertTrue(got.contains(s.itemId), "history item " + s.itemId + " lost");
                    }
                }
            }
            assertTrue(repeated > 0, "the boost brings history items into the lists");
        }
    }

    @Test
    void catalogueChangesUpdateTheIndexWithoutKMeans() throws Exception {
        Path dir = TestModels.bootstrapVersionDir();
        try (ServingModel m = ServingModel.load(dir, Device.cpu(), ANN)) {
            ItemCatalogue cat = ModelArtifacts.load(dir).catalogue();
            int before = m.catalogueSize();
            String gone = m.popular(1, Set.of())[0].itemId;
            String moved = cat.itemId(7);
            String otherCategory = cat.categoryId(7).equals(cat.categoryId(8)) ? "other" : cat.categoryId(8);
            Map<String, CatalogueItem> changes = new HashMap<>();
            changes.put("new-1", new CatalogueItem("new-1", cat.categoryId(3), true));
            changes.put("new-2", new CatalogueItem("new-2", cat.categoryId(4), true));
            changes.put(gone, new CatalogueItem(gone, null, false));
            changes.put(moved, new CatalogueItem(moved, otherCategory, true));
            m.applyCatalogue(changes);
            ClusteredIndex ivf = m.index().approximate();
            assertNotNull(ivf);
            assertEquals(before + 1, m.catalogueSize());
            assertEquals(m.catalogueSize(), ivf.size());
            // new-1, new-2 and the changed item placed; the removed and the changed item's old place gone
            assertEquals(5, ivf.drift(), "updated, not re-clustered");
            assertFalse(m.knows(gone));
            // users who have seen the new items' categories: never the removed item
            for (UserResult r : m.recommend(users(cat, 16, true, 5), K)) {
                assertFalse(ids(r).contains(gone));
            }
        }
    }
}
