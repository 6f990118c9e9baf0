package io.towerflow.operators;

import static io.towerflow.operators.RecommendOperatorControlTest.advanceUntil;
import static io.towerflow.operators.RecommendOperatorTest.unopened;
import static io.towerflow.operators.RecommendOperatorTest.view;
import static org.assertj.core.api.Assertions.assertThat;

import io.towerflow.config.RecommendOptions;
import io.towerflow.explore.ExploreCount;
import io.towerflow.index.ItemIndex;
import io.towerflow.model.ServingModel;
import io.towerflow.model.TestModels;
import io.towerflow.records.Action;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.CatalogueItem;
import io.towerflow.records.ControlMessage;
import io.towerflow.records.Feedback;
import io.towerflow.records.JsonCodec;
import io.towerflow.records.Recommendation;
import io.towerflow.records.ScoredItem;

import ai.djl.Device;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Exploration slots of the recommend operator under Flink's harness, on the bootstrap model. */
class RecommendOperatorExplorationTest {
    private static final long T0 = 1_764_547_200_000L;
    private static final int K = 10;
    private static final int POOL = 8;

    /** The bootstrap catalogue's least popular items, least first, and its most popular ones. */
    private static String[] least;
    private static String[] popular;

    @BeforeAll
    static void catalogue() throws Exception {
        try (ServingModel m = ServingModel.load(TestModels.bootstrapVersionDir(), Device.cpu())) {
            ItemIndex index = m.index();
            least = new String[40];
            for (int r = 0; r < least.length; r++) {
                least[r] = index.id(index.popularRow(index.size() - 1 - r));
            }
            popular = new String[40];
            for (int r = 0; r < popular.length; r++) {
                popular[r] = index.id(index.popularRow(r));
            }
        }
    }

    private static RecommendConfig config(int slots) {
        Configuration c = RecommendOperatorTest.options(1, Duration.ofSeconds(1), Duration.ofDays(1));
        c.set(RecommendOptions.EXPLORE_SLOTS, slots);
        c.set(RecommendOptions.EXPLORE_POOL_SIZE, POOL);
        c.set(RecommendOptions.EXPLORE_MAX_IMPRESSIONS, 1_000);
        c.set(io.towerflow.config.ModelUpdateOptions.ALLOWED_ROOTS, List.of(TestModels.bootstrapVersionDir().getParent().toString()));
        return RecommendConfig.from(c);
    }

    private static List<Feedback> feedback(KeyedTwoInputStreamOperatorTestHarness<?, ?, ?, ?> h) {
        List<Feedback> out = new ArrayList<>();
        for (StreamRecord<Feedback> r : h.getSideOutput(RecommendOperator.FEEDBACK)) {
            out.add(r.getValue());
        }
        return out;
    }

    /** Events of {@code users} users viewing popular items, and a few acting on the least popular. */
    private static List<BehaviorEvent> events(int n) {
        List<BehaviorEvent> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String item = i % 7 == 3 ? least[i % 5] : popular[i % popular.length];
            out.add(new BehaviorEvent("u" + (i % 13), item, Action.VIEW, T0 + i, null));
        }
        return out;
    }

    @Test
    void exploreSlotsAreTheLastOnesNeverRepeatAListItemNorShowAnExcludedOne() throws Exception {
        RecommendOperator op = new RecommendOperator(config(2));
        try (var h = RecommendOperatorTest.harness(op)) {
            // the least popular item leaves the catalogue: it must never be explored again
            h.processElement2(ControlMessage.of(new CatalogueItem(least[7], null, false)), T0);
            advanceUntil(h, () -> !op.modelWorkPending());
            Map<String, Set<String>> seen = new HashMap<>();
            List<BehaviorEvent> events = events(300);
            for (BehaviorEvent e : events) {
                h.processElement1(e, e.ts);
                seen.computeIfAbsent(e.userId, u -> new HashSet<>()).add(e.itemId);
                Recommendation r = h.extractOutputValues().get(h.extractOutputValues().size() - 1);
                assertThat(r.items).hasSize(K);
                assertThat(Arrays.stream(r.items).map(s -> s.itemId).distinct().count()).as("no repeat in %s", r).isEqualTo(K);
                for (int j = 0; j < K; j++) {
                    assertThat(r.items[j].explore).as("slot %d of %s", j, r).isEqualTo(j >= K - 2);
                }
                for (int j = K - 2; j < K; j++) {
                    String id = r.items[j].itemId;
                    assertThat(seen.get(e.userId)).as("explored an item the user has seen, %s", r).doesNotContain(id);
                    assertThat(id).as("explored an unavailable item").isNotEqualTo(least[7]);
                    // the pool: the least popular items
                    assertThat(Arrays.asList(least).subList(0, 4 * POOL)).contains(id);
                }
            }
            assertThat(op.bandit().trackedItems()).isLessThanOrEqualTo(4 * POOL);
        }
    }

    @Test
    void withExcludeSeenOffSeenItemsMayComeBackFromTheModelButNeverFromExploration() throws Exception {
        Configuration c = RecommendOperatorTest.options(1, Duration.ofSeconds(1), Duration.ofDays(1));
        c.set(RecommendOptions.EXPLORE_SLOTS, 1);
        c.set(RecommendOptions.EXPLORE_POOL_SIZE, 4);
        c.set(RecommendOptions.EXCLUDE_SEEN, false);
        try (var h = RecommendOperatorTest.harness(new RecommendOperator(RecommendConfig.from(c)))) {
            // the user has seen three of the four items of the pool: the fourth is the only one to explore
            for (int i = 0; i < 3; i++) {
                h.processElement1(view("u", least[i], T0 + i), T0 + i);
            }
            for (int i = 0; i < 12; i++) {
                h.processElement1(view("u", popular[i], T0 + 10 + i), T0 + 10 + i);
            }
            for (Recommendation r : h.extractOutputValues().subList(3, 15)) {
                assertThat(r.items[K - 1].explore).isTrue();
                assertThat(r.items[K - 1].itemId).isEqualTo(least[3]);
            }
        }
    }

    @Test
    void withExploreSlotsZeroListsAreTheModelsAndWithExplorationTheirPrefix() throws Exception {
        List<Recommendation> off;
        RecommendOperator offOp = new RecommendOperator(config(0));
        try (var h = RecommendOperatorTest.harness(offOp)) {
            for (BehaviorEvent e : events(60)) {
                h.processElement1(e, e.ts);
            }
            off = h.extractOutputValues();
            assertThat(offOp.bandit().trackedItems()).as("no exploration work with 0 slots").isZero();
        }
        // the operator before exploration: the same lists as a model without it serves them
        List<Recommendation> on;
        try (var h = RecommendOperatorTest.harness(new RecommendOperator(config(2)))) {
            for (BehaviorEvent e : events(60)) {
                h.processElement1(e, e.ts);
            }
            on = h.extractOutputValues();
        }
        assertThat(on).hasSameSizeAs(off);
        for (int i = 0; i < off.size(); i++) {
            ScoredItem[] a = off.get(i).items;
            ScoredItem[] b = on.get(i).items;
            assertThat(a).hasSize(K).noneMatch(s -> s.explore);
            assertThat(Arrays.copyOf(b, K - 2)).containsExactly(Arrays.copyOf(a, K - 2));
            assertThat(b[K - 1].explore).isTrue();
        }
    }

    @Test
    void aNewCatalogueItemIsExploredFirst() throws Exception {
        RecommendOperator op = new RecommendOperator(config(1));
        try (var h = RecommendOperatorTest.harness(op)) {
            h.processElement1(view("a", popular[0], T0), T0);
            assertThat(h.extractOutputValues().get(0).items[K - 1].itemId).isNotEqualTo("brand-new");
            h.processElement2(ControlMessage.of(new CatalogueItem("brand-new", "7", true)), T0);
            advanceUntil(h, () -> !op.modelWorkPending());
            h.processElement1(view("b", popular[1], T0 + 1), T0 + 1);
            h.processElement1(view("brand-new-viewer", "brand-new", T0 + 2), T0 + 2);
            List<Recommendation> out = h.extractOutputValues();
            assertThat(out.get(1).items[K - 1].itemId).isEqualTo("brand-new");
            assertThat(out.get(1).items[K - 1].explore).isTrue();
            // a user who has seen it is not shown it
            assertThat(Arrays.stream(out.get(2).items).map(s -> s.itemId)).doesNotContain("brand-new");
            assertThat(op.bandit().counts("brand-new").arrivedTs).isPositive();
            assertThat(op.bandit().counts("brand-new").impressions).isEqualTo(1);
        }
    }

    @Test
    void anActOnAnExploredItemIsMarkedInFeedbackAndCountsAsAClick() throws Exception {
        RecommendOperator op = new RecommendOperator(config(1));
        try (var h = RecommendOperatorTest.harness(op)) {
            h.processElement1(view("u", popular[0], T0), T0);
            Recommendation first = h.extractOutputValues().get(0);
            ScoredItem explored = first.items[K - 1];
            assertThat(explored.explore).isTrue();
            assertThat(new String(JsonCodec.recommendation(first))).containsOnlyOnce("\"explore\":true");
            h.processElement1(new BehaviorEvent("u", explored.itemId, Action.CLICK, T0 + 1, null), T0 + 1);
            Recommendation second = h.extractOutputValues().get(1);
            h.processElement1(new BehaviorEvent("u", second.items[0].itemId, Action.CART, T0 + 2, null), T0 + 2);

            List<Feedback> fb = feedback(h);
            assertThat(fb.get(1).shownRank).isEqualTo(K);
            assertThat(fb.get(1).shownExplore).isTrue();
            assertThat(JsonCodec.parseFeedback(JsonCodec.feedback(fb.get(1))).shownExplore).isTrue();
            assertThat(fb.get(2).shownRank).isEqualTo(1);
            assertThat(fb.get(2).shownExplore).isFalse();
            ExploreCount c = op.bandit().counts(explored.itemId);
            assertThat(c.clicks).isEqualTo(1);
            assertThat(c.impressions).isEqualTo(1);
        }
    }

    @Test
    void banditCountsAreRestoredAfterARestart() throws Exception {
        OperatorSubtaskState snapshot;
        Map<String, ExploreCount> before = new HashMap<>();
        RecommendOperator first = new RecommendOperator(config(2));
        try (var h = RecommendOperatorTest.harness(first)) {
            h.processElement2(ControlMessage.of(new CatalogueItem("brand-new", "7", true)), T0);
            advanceUntil(h, () -> !first.modelWorkPending());
            for (BehaviorEvent e : events(100)) {
                h.processElement1(e, e.ts);
            }
            // acts on explored items, so there are clicks to restore
            for (Recommendation r : new ArrayList<>(h.extractOutputValues()).subList(0, 5)) {
                h.processElement1(new BehaviorEvent(r.userId, r.items[K - 1].itemId, Action.CLICK, T0 + 500, null), T0 + 500);
            }
            first.bandit().trackedIds().forEachRemaining(id -> before.put(id, first.bandit().counts(id)));
            snapshot = h.snapshot(1L, 1L);
        }
        assertThat(before.values()).anyMatch(c -> c.clicks > 0);
        assertThat(before.get("brand-new").impressions).isPositive();

        RecommendOperator restored = new RecommendOperator(config(2));
        try (var h = unopened(restored)) {
            h.initializeState(snapshot);
            h.open();
            for (Map.Entry<String, ExploreCount> e : before.entrySet()) {
                if (e.getValue().impressions > 0 || e.getValue().clicks > 0 || e.getValue().arrivedTs > 0) {
                    assertThat(restored.bandit().counts(e.getKey())).as(e.getKey()).isEqualTo(e.getValue());
                }
            }
            // counting goes on from there
            long shown = restored.bandit().counts("brand-new").impressions;
            h.processElement1(view("someone-else", popular[3], T0 + 1_000), T0 + 1_000);
            assertThat(restored.bandit().counts("brand-new").impressions).isEqualTo(shown + 1);
        }
    }

    @Test
    void banditCountsSurviveRescalingWithoutCountingTwice() throws Exception {
        int maxParallelism = 128;
        // two subtasks, each with the users whose key groups it owns
        List<OperatorSubtaskState> states = new ArrayList<>();
        long total = 0;
        for (int subtask = 0; subtask < 2; subtask++) {
            RecommendOperator op = new RecommendOperator(config(1));
            try (var h = harness(op, maxParallelism, 2, subtask)) {
                h.open();
                for (BehaviorEvent e : events(200)) {
                    if (KeyGroupRangeAssignment.assignKeyToParallelOperator(e.userId, maxParallelism, 2) == subtask) {
                        h.processElement1(e, e.ts);
                    }
                }
                total += impressions(op);
                states.add(h.snapshot(1L, 1L));
            }
        }
        assertThat(total).isPositive();
        OperatorSubtaskState union = AbstractStreamOperatorTestHarness.repackageState(states.toArray(new OperatorSubtaskState[0]));

        // restored at parallelism 3: every subtask sees the global counts; each shows one list more
        List<OperatorSubtaskState> three = new ArrayList<>();
        long more = 0;
        for (int subtask = 0; subtask < 3; subtask++) {
            RecommendOperator op = new RecommendOperator(config(1));
            try (var h = harness(op, maxParallelism, 3, subtask)) {
                h.initializeState(AbstractStreamOperatorTestHarness.repartitionOperatorState(union, maxParallelism, 2, 3, subtask));
                h.open();
                assertThat(impressions(op)).isEqualTo(total);
                String user = userOf(subtask, 3, maxParallelism);
                long was = impressions(op);
                h.processElement1(view(user, popular[5], T0 + 9_000), T0 + 9_000);
                more += impressions(op) - was;
                three.add(h.snapshot(2L, 2L));
            }
        }
        assertThat(more).isPositive();
        OperatorSubtaskState again = AbstractStreamOperatorTestHarness.repackageState(three.toArray(new OperatorSubtaskState[0]));
        RecommendOperator one = new RecommendOperator(config(1));
        try (var h = harness(one, maxParallelism, 1, 0)) {
            h.initializeState(AbstractStreamOperatorTestHarness.repartitionOperatorState(again, maxParallelism, 3, 1, 0));
            h.open();
            assertThat(impressions(one)).isEqualTo(total + more);
        }
    }

    private static long impressions(RecommendOperator op) {
        long sum = 0;
        for (var it = op.bandit().trackedIds(); it.hasNext(); ) {
            sum += op.bandit().counts(it.next()).impressions;
        }
        return sum;
    }

    private static String userOf(int subtask, int parallelism, int maxParallelism) {
        for (int i = 0; ; i++) {
            if (KeyGroupRangeAssignment.assignKeyToParallelOperator("r" + i, maxParallelism, parallelism) == subtask) {
                return "r" + i;
            }
        }
    }

    private static KeyedTwoInputStreamOperatorTestHarness<String, BehaviorEvent, ControlMessage, Recommendation>
            harness(TwoInputStreamOperator<BehaviorEvent, ControlMessage, Recommendation> op, int maxParallelism,
                    int parallelism, int subtask) throws Exception {
        return new KeyedTwoInputStreamOperatorTestHarness<>(
                op, e -> e.userId, m -> "control", Types.STRING, maxParallelism, parallelism, subtask);
    }
}
