package io.towerflow.explore;

import static org.assertj.core.api.Assertions.assertThat;

import io.towerflow.records.ScoredItem;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The bandit on its own, over a catalogue of ids ranked by popularity ("i0" most popular). */
class ExplorationBanditTest {

    /** A catalogue of {@code n} items, "i0" the most popular, some of them not servable. */
    private static ExplorationBandit.Catalogue catalogue(int n, Set<String> unavailable) {
        return new ExplorationBandit.Catalogue() {
            @Override
            public int size() {
                return n;
            }

            @Override
            public String leastPopular(int rank) {
                return "i" + (n - 1 - rank);
            }

            @Override
            public boolean servable(String itemId) {
                return !unavailable.contains(itemId);
            }
        };
    }

    private static List<String> ids(ScoredItem[] items) {
        return Arrays.stream(items).map(s -> s.itemId).toList();
    }

    @Test
    void exploresTheLeastPopularItemsNeverTakenOrExcludedOnesAndMarksThem() {
        ExplorationBandit b = new ExplorationBandit(8, 1_000, 3);
        ExplorationBandit.Catalogue cat = catalogue(1_000, Set.of("i999"));
        Set<String> taken = Set.of("i998", "i0");
        Set<String> exclude = Set.of("i997");
        for (int round = 0; round < 200; round++) {
            ScoredItem[] chosen = b.choose(3, cat, taken, exclude);
            assertThat(chosen).hasSize(3);
            assertThat(new HashSet<>(ids(chosen))).hasSize(3);
            for (ScoredItem s : chosen) {
                assertThat(s.explore).isTrue();
                assertThat(s.itemId).isNotIn("i999", "i998", "i997", "i0");
                // the pool is the 8 least popular items
                assertThat(Integer.parseInt(s.itemId.substring(1))).isGreaterThanOrEqualTo(992);
            }
            b.shown(chosen);
        }
        assertThat(b.trackedItems()).isLessThanOrEqualTo(32);
    }

    @Test
    void newItemsComeFirstAndClickedItemsWinMoreOften() {
        ExplorationBandit b = new ExplorationBandit(16, 10_000, 5);
        ExplorationBandit.Catalogue cat = catalogue(100, Set.of());
        b.choose(1, cat, Set.of(), Set.of()); // fills the pool
        b.arrived("i50", 1_000);
        assertThat(ids(b.choose(1, cat, Set.of(), Set.of()))).containsExactly("i50");
        assertThat(ids(b.choose(2, cat, Set.of("i50"), Set.of()))).doesNotContain("i50").hasSize(2);

        // among old items, one clicked 30 of 60 times beats the ones shown 60 times unclicked
        ExplorationBandit c = new ExplorationBandit(16, 10_000, 5);
        c.choose(1, cat, Set.of(), Set.of());
        for (int i = 0; i < 60; i++) {
            ScoredItem[] all = new ScoredItem[16];
            for (int j = 0; j < 16; j++) {
                all[j] = new ScoredItem("i" + (99 - j), 0);
            }
            c.shown(all);
            if (i % 2 == 0) {
                c.clicked("i90");
            }
        }
        Map<String, Integer> wins = new HashMap<>();
        for (int i = 0; i < 500; i++) {
            wins.merge(c.choose(1, cat, Set.of(), Set.of())[0].itemId, 1, Integer::sum);
        }
        assertThat(wins.get("i90")).isGreaterThan(490);
    }

    @Test
    void anItemShownMaxImpressionsTimesIsNoLongerACandidateAndThePoolRefills() {
        ExplorationBandit b = new ExplorationBandit(2, 3, 9);
        ExplorationBandit.Catalogue cat = catalogue(8, Set.of());
        Set<String> explored = new HashSet<>();
        for (int i = 0; i < 24; i++) {
            ScoredItem[] chosen = b.choose(1, cat, Set.of(), Set.of());
            b.shown(chosen);
            explored.addAll(ids(chosen));
        }
        // 24 impressions, 3 each: eight items had their chance, the whole catalogue
        assertThat(explored).hasSize(8);
        for (String id : explored) {
            assertThat(b.counts(id).impressions).isEqualTo(3);
        }
        assertThat(b.choose(1, cat, Set.of(), Set.of())).as("nothing left to explore").isEmpty();
        assertThat(b.trackedItems()).isEqualTo(8);
    }

    @Test
    void snapshotsOfSeveralSubtasksMergeIntoGlobalCountsAtAnyParallelismWithoutDoubleCounting() {
        ExplorationBandit.Catalogue cat = catalogue(100, Set.of());
        // two subtasks, each counts its own lists
        ExplorationBandit s0 = new ExplorationBandit(8, 1_000, 1);
        ExplorationBandit s1 = new ExplorationBandit(8, 1_000, 2);
        s0.arrived("new", 500);
        s1.arrived("new", 400);
        for (ExplorationBandit b : List.of(s0, s1)) {
            b.choose(1, cat, Set.of(), Set.of());
            b.shown(new ScoredItem[] {new ScoredItem("i99", 0), new ScoredItem("new", 0)});
            b.clicked("i99");
        }
        s1.shown(new ScoredItem[] {new ScoredItem("i98", 0)});
        List<ExploreCount> union = new ArrayList<>(s0.snapshot(true));
        union.addAll(s1.snapshot(false));

        // restored at parallelism 3: every subtask sees the totals
        List<ExplorationBandit> three = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ExplorationBandit b = new ExplorationBandit(8, 1_000, 10 + i);
            b.restore(union);
            assertThat(b.counts("i99")).isEqualTo(new ExploreCount("i99", 2, 2, 0));
            assertThat(b.counts("i98")).isEqualTo(new ExploreCount("i98", 1, 0, 0));
            assertThat(b.counts("new")).isEqualTo(new ExploreCount("new", 2, 0, 400));
            three.add(b);
        }
        // each shows i99 once more; restored again at parallelism 1: 2 + 3, not 3 × 2 + 3
        List<ExploreCount> again = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            three.get(i).shown(new ScoredItem[] {new ScoredItem("i99", 0)});
            again.addAll(three.get(i).snapshot(i == 0));
        }
        ExplorationBandit one = new ExplorationBandit(8, 1_000, 1);
        one.restore(again);
        assertThat(one.counts("i99")).isEqualTo(new ExploreCount("i99", 5, 2, 0));
        assertThat(one.counts("i98")).isEqualTo(new ExploreCount("i98", 1, 0, 0));
        assertThat(one.counts("new").arrivedTs).isEqualTo(400);
    }

    @Test
    void trackedItemsStayBoundedUnderAStreamOfNewItems() {
        ExplorationBandit b = new ExplorationBandit(4, 2, 1);
        ExplorationBandit.Catalogue cat = catalogue(10_000, Set.of());
        for (int i = 0; i < 5_000; i++) {
            b.arrived("n" + i, 1 + i);
            b.shown(b.choose(1, cat, Set.of(), Set.of()));
        }
        assertThat(b.trackedItems()).isLessThanOrEqualTo(4 * 4 + 4);
        assertThat(b.snapshot(true).size()).isLessThanOrEqualTo(20);
    }
}
