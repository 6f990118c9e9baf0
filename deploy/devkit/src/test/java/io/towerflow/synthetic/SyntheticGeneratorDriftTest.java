package io.towerflow.synthetic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.records.BehaviorEvent;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Population drift ({@link SyntheticGenerator.Config#driftEvery}) and the oracle under it. */
class SyntheticGeneratorDriftTest {

    private static SyntheticGenerator.Config small(long driftEvery) {
        SyntheticGenerator.Config cfg = new SyntheticGenerator.Config();
        cfg.users = 300;
        cfg.items = 2_000;
        cfg.categories = 20;
        cfg.seed = 9;
        cfg.driftEvery = driftEvery;
        return cfg;
    }

    /**
     * A fingerprint of the default configuration's first 50,000 events, taken from the generator
     * before drift existed: without drift the stream (and so {@code evaluate}, the tests and the
     * shipped bootstrap, which were made from it) is bit for bit what it was.
     */
    @Test
    void withoutDriftTheStreamIsExactlyTheOldOne() {
        long h = 1;
        Iterator<BehaviorEvent> it = new SyntheticGenerator(new SyntheticGenerator.Config()).events(50_000);
        while (it.hasNext()) {
            BehaviorEvent e = it.next();
            h = h * 31 + (e.userId + ',' + e.itemId + ',' + e.categoryId + ',' + e.action + ',' + e.ts + ',' + e.sessionId)
                    .hashCode();
        }
        assertEquals(OLD_STREAM_FINGERPRINT, h);
    }

    /** Printed by the test above run against SyntheticGenerator at commit 778f4f8 (no drift). */
    private static final long OLD_STREAM_FINGERPRINT = -3256397826167417064L;

    @Test
    void driftLeavesTheFirstEpochAloneAndThenChangesInterestsAndTrends() {
        SyntheticGenerator still = new SyntheticGenerator(small(0));
        SyntheticGenerator drifting = new SyntheticGenerator(small(10_000));
        List<BehaviorEvent> a = new ArrayList<>();
        List<BehaviorEvent> b = new ArrayList<>();
        still.events(30_000).forEachRemaining(a::add);
        drifting.events(30_000).forEachRemaining(b::add);
        assertEquals(a.subList(0, 10_000), b.subList(0, 10_000), "epoch 0 is the stationary world");
        assertNotEquals(a.subList(10_000, 30_000), b.subList(10_000, 30_000));
        assertEquals(0, drifting.epochOf(9_999));
        assertEquals(1, drifting.epochOf(10_000));
        assertEquals(0, still.epochOf(1_000_000));

        // most users' interests are drawn anew
        int changed = 0;
        for (int user = 1; user <= 300; user++) {
            Set<Integer> before = new HashSet<>(List.of(drifting.interest(user, 0, 0), drifting.interest(user, 1, 0)));
            Set<Integer> after = new HashSet<>(List.of(drifting.interest(user, 0, 1), drifting.interest(user, 1, 1)));
            changed += before.equals(after) ? 0 : 1;
            assertEquals(drifting.interest(user, 0), drifting.interest(user, 0, 0));
        }
        assertTrue(changed > 280, changed + " of 300 users changed interests");

        // the popularity order within a category is a rotation per taste group: a bijection that
        // keeps the group, the identity in epoch 0, another order in later epochs
        for (int c : new int[] {0, 7, 19}) {
            int movedTop = 0;
            for (int epoch = 0; epoch < 4; epoch++) {
                Set<Integer> seen = new HashSet<>();
                for (int r = 0; r < 100; r++) {
                    int item = drifting.itemAt(c, r, epoch);
                    assertEquals(c, drifting.categoryOf(item));
                    assertEquals(r, drifting.popularityRank(item, epoch));
                    assertEquals(r % 4, drifting.rankOf(item) % 4, "the taste group stays");
                    assertTrue(seen.add(item));
                    if (epoch == 0) {
                        assertEquals(drifting.item(c, r), item);
                    }
                }
                if (epoch > 0 && drifting.itemAt(c, 0, epoch) != drifting.itemAt(c, 0, epoch - 1)) {
                    movedTop++;
                }
                double sum = 0;
                for (int i = c + 1; i <= 2_000; i += 20) {
                    sum += drifting.inCategoryProbability(42, i, epoch);
                }
                assertEquals(1.0, sum, 1e-9, "category " + c + " epoch " + epoch);
            }
            assertTrue(movedTop >= 2, "category " + c + ": the top item moved in " + movedTop + " of 3 drifts");
        }

        // in the stream: a category's most frequent items of epoch 1 were rare in epoch 0
        Map<Integer, Integer> count0 = new HashMap<>();
        Map<Integer, Integer> count1 = new HashMap<>();
        for (int i = 0; i < 20_000; i++) {
            (i < 10_000 ? count0 : count1).merge(Integer.parseInt(b.get(i).itemId), 1, Integer::sum);
        }
        List<Integer> top1 = count1.keySet().stream()
                .sorted(Comparator.comparingInt((Integer i) -> -count1.get(i)).thenComparingInt(i -> i))
                .limit(20).toList();
        int top1InEpoch0 = top1.stream().mapToInt(i -> count0.getOrDefault(i, 0)).sum();
        int top1InEpoch1 = top1.stream().mapToInt(count1::get).sum();
        assertTrue(top1InEpoch0 < top1InEpoch1 / 2,
                "epoch 1's top 20 items: " + top1InEpoch1 + " acts in epoch 1, " + top1InEpoch0 + " in epoch 0");
    }

    @Test
    void eventsFollowTheStateTheyAreLabelledWithAcrossDrifts() {
        SyntheticGenerator g = new SyntheticGenerator(small(5_000));
        Iterator<SyntheticGenerator.Labeled> it = g.labeled(20_000);
        for (long n = 0; it.hasNext(); n++) {
            SyntheticGenerator.Labeled l = it.next();
            assertEquals(g.epochOf(n), l.state().epoch());
        }
    }

    @Test
    void oracleTopKIsTheBruteForceRankingAfterADrift() {
        SyntheticGeneratorTest.assertOracleTopKIsTheBruteForceRanking(new SyntheticGenerator(small(10_000)), List.of(
                new SyntheticGenerator.UserState(5, 7, 4, -1, 1),
                new SyntheticGenerator.UserState(6, 3, 6, 2, 2),
                SyntheticGenerator.UserState.idle(7, 3)));
    }

    /**
     * Prequential HR@20 over epoch 2 of a drifting stream: the oracle with the true state beats
     * popularity counted over everything seen so far, and beats the same oracle that still
     * believes in epoch 0's world (which is what a model that stopped learning knows).
     */
    @Test
    void theOracleStillBeatsPopularityAfterADriftAndTheStaleWorldLoses() {
        SyntheticGenerator g = new SyntheticGenerator(small(15_000));
        Map<Integer, SyntheticGenerator.UserState> state = new HashMap<>();
        Map<Integer, Integer> counts = new HashMap<>();
        int queries = 0;
        int oracleHits = 0;
        int staleHits = 0;
        int popularityHits = 0;
        Iterator<SyntheticGenerator.Labeled> it = g.labeled(40_000);
        for (long n = 0; it.hasNext(); n++) {
            SyntheticGenerator.Labeled l = it.next();
            int user = Integer.parseInt(l.event().userId);
            int item = Integer.parseInt(l.event().itemId);
            SyntheticGenerator.UserState before = state.get(user);
            if (n >= 32_000 && before != null) {
                queries++;
                oracleHits += contains(g.oracleTopK(before, 1, 20, i -> true).items(), item);
                SyntheticGenerator.UserState stale = new SyntheticGenerator.UserState(
                        before.user(), before.category(), before.remaining(), before.shiftAt(), 0);
                staleHits += contains(g.oracleTopK(stale, 1, 20, i -> true).items(), item);
                int[] popular = counts.keySet().stream()
                        .sorted(Comparator.comparingInt((Integer i) -> -counts.get(i)).thenComparingInt(i -> i))
                        .limit(20).mapToInt(Integer::intValue).toArray();
                popularityHits += contains(popular, item);
            }
            counts.merge(item, 1, Integer::sum);
            state.put(user, l.state());
        }
        double oracle = oracleHits / (double) queries;
        double stale = staleHits / (double) queries;
        double popularity = popularityHits / (double) queries;
        String figures = String.format("HR@20 over %d queries: oracle %.3f, stale oracle %.3f, popularity %.3f",
                queries, oracle, stale, popularity);
        assertTrue(queries > 5_000, figures);
        assertTrue(oracle > 2 * popularity, figures);
        assertTrue(oracle > stale + 0.05, figures);
    }

    private static int contains(int[] items, int item) {
        for (int i : items) {
            if (i == item) {
                return 1;
            }
        }
        return 0;
    }
}
