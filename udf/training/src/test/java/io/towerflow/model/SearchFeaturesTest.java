package io.towerflow.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.records.Action;
import io.towerflow.records.BehaviorEvent;

import ai.djl.Device;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * A planted search → category pattern: users view items of their own category, search for another
 * category with one of its words, and then act in that category. Trained on the same events, the
 * model with text follows the search to the new category; the model without it cannot know.
 */
class SearchFeaturesTest {
    static final int CATEGORIES = 10;
    static final int ITEMS_PER_CATEGORY = 12;
    static final long T0 = 1_700_000_000_000L;
    static final String[][] WORDS = {
        {"kettle", "teapot"}, {"sneaker", "trainer"}, {"sofa", "couch"}, {"laptop", "notebook"}, {"tent", "sleeping bag"},
        {"连衣裙", "长裙"}, {"drill", "screwdriver"}, {"lipstick", "mascara"}, {"guitar", "ukulele"}, {"stroller", "crib"}};

    @TempDir Path root;

    static String item(int category, int k) {
        return category + "-" + k;
    }

    /** Six views in the user's category, a search for another, then three acts in that one. */
    static List<BehaviorEvent> userEvents(int u, Random rnd, boolean afterSearch) {
        List<BehaviorEvent> out = new ArrayList<>();
        int own = u % CATEGORIES;
        int searched = (own + 1 + rnd.nextInt(CATEGORIES - 1)) % CATEGORIES;
        long t = T0 + u * 1_000_000L;
        for (int i = 0; i < 6; i++) {
            out.add(new BehaviorEvent("u" + u, item(own, rnd.nextInt(ITEMS_PER_CATEGORY)), Action.VIEW, t++, Integer.toString(own)));
        }
        BehaviorEvent search = new BehaviorEvent("u" + u, null, Action.SEARCH, t++, null);
        search.query = WORDS[searched][rnd.nextInt(2)] + (rnd.nextBoolean() ? " cheap" : "");
        out.add(search);
        for (int i = 0; afterSearch && i < 3; i++) {
            out.add(new BehaviorEvent("u" + u, item(searched, rnd.nextInt(ITEMS_PER_CATEGORY)), Action.VIEW, t++,
                    Integer.toString(searched)));
        }
        return out;
    }

    static ModelConfig config(boolean text) {
        ModelConfig c = ModelConfig.defaults().withBuckets(1024, 64, 1024).withHistoryLength(10).withDim(32)
                .withHidden(64);
        return text ? c.withText(new TextConfig(4096, 16, 3, 4.0)) : c;
    }

    @Test
    void aSearchForAnotherCategoryMovesTheListThereOnlyWithText() throws Exception {
        Random rnd = new Random(5);
        List<BehaviorEvent> events = new ArrayList<>();
        for (int u = 0; u < 600; u++) {
            events.addAll(userEvents(u, rnd, true));
        }
        TrainingExamples train = TrainingExamples.fromEvents(events, 10);
        assertTrue(train.hasQueries());
        assertEquals(600 * 9, train.size(), "the searches are queries, not examples");
        List<BehaviorEvent> test = new ArrayList<>();
        for (int u = 600; u < 700; u++) {
            test.addAll(userEvents(u, rnd, false));
        }
        double[] share = new double[2];
        for (int text = 0; text < 2; text++) {
            try (TwoTowerModel m = TwoTowerModel.create(config(text == 1), Device.cpu(), 3)) {
                new TwoTowerTrainer(m, TrainingRecipe.DEFAULT.trainerOptions().withUniformNegatives(0).withBatchSize(128).withEpochs(6).withSeed(11))
                        .fit(train);
                try (ServingModel s = ServingModel.ofUnsaved("v", m, train.catalogue())) {
                    share[text] = shareInSearchedCategory(s, test);
                }
            }
        }
        assertTrue(share[1] > 0.7, "with text: " + share[1]);
        assertTrue(share[1] > share[0] + 0.5, "with text " + share[1] + " vs without " + share[0]);
    }

    /** Mean share of the top-10 in the searched category, the list served right after the search. */
    static double shareInSearchedCategory(ServingModel s, List<BehaviorEvent> test) {
        List<UserQuery> queries = new ArrayList<>();
        List<Integer> searched = new ArrayList<>();
        for (int from = 0; from < test.size(); from += 7) {
            List<BehaviorEvent> views = test.subList(from, from + 6);
            BehaviorEvent search = test.get(from + 6);
            UserQuery q = new UserQuery(search.userId, views.stream().map(e -> e.itemId).toArray(String[]::new),
                    views.stream().map(e -> e.categoryId).toArray(String[]::new), new byte[] {0, 0, 0, 0, 0, 0},
                    views.stream().mapToLong(e -> e.ts).toArray(), search.ts, Set.of());
            queries.add(q.withQueries(new String[] {search.query}, new long[] {search.ts}));
            for (int c = 0; c < CATEGORIES; c++) {
                if (search.query.startsWith(WORDS[c][0]) || search.query.startsWith(WORDS[c][1])) {
                    searched.add(c);
                }
            }
        }
        double share = 0;
        List<UserResult> results = s.recommend(queries, 10);
        for (int i = 0; i < results.size(); i++) {
            int in = 0;
            for (var item : results.get(i).items()) {
                in += item.itemId.startsWith(searched.get(i) + "-") ? 1 : 0;
            }
            share += in / 10.0;
        }
        return share / results.size();
    }

    @Test
    void titlesTravelWithTheCatalogueAndAModelWithoutTextStillLoads() throws Exception {
        Random rnd = new Random(6);
        List<BehaviorEvent> events = new ArrayList<>();
        for (int u = 0; u < 50; u++) {
            events.addAll(userEvents(u, rnd, true));
        }
        TrainingExamples train = TrainingExamples.fromEvents(events, 10)
                .withTitles(id -> WORDS[Integer.parseInt(id.substring(0, id.indexOf('-')))][0] + " " + id);
        assertTrue(train.catalogue().hasTitles());
        for (boolean text : new boolean[] {false, true}) {
            try (TwoTowerModel m = TwoTowerModel.create(config(text), Device.cpu(), 3)) {
                new TwoTowerTrainer(m, TrainingRecipe.DEFAULT.trainerOptions().withUniformNegatives(0).withBatchSize(64).withEpochs(1)).fit(train);
                Path dir = PlantedModels.write(root, "v-" + text, null, m, train);
                try (ServingModel direct = ServingModel.ofUnsaved("v", m, train.catalogue());
                        ServingModel loaded = ServingModel.load(dir, Device.cpu())) {
                    assertEquals(text, loaded.config().hasText());
                    UserQuery q = train.query(train.size() - 1, Set.of());
                    assertArrayEquals(direct.recommend(List.of(q), 5).get(0).items(),
                            loaded.recommend(List.of(q), 5).get(0).items(), "written and read back, text " + text);
                }
            }
        }
    }
}
