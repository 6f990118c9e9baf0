package io.towerflow.synthetic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.stream.IntStream;

class SyntheticGeneratorTest {

    private static SyntheticGenerator small() {
        SyntheticGenerator.Config cfg = new SyntheticGenerator.Config();
        cfg.users = 300;
        cfg.items = 2_000;
        cfg.categories = 20;
        cfg.seed = 9;
        return new SyntheticGenerator(cfg);
    }

    @Test
    void sameSeedSameStreamAndTheItemLayoutIsFixed() {
        SyntheticGenerator g = small();
        List<BehaviorEvent> a = new ArrayList<>();
        List<BehaviorEvent> b = new ArrayList<>();
        g.events(5_000).forEachRemaining(a::add);
        small().events(5_000).forEachRemaining(b::add);
        assertEquals(a, b);
        for (int i = 1; i < a.size(); i++) {
            assertTrue(a.get(i).ts > a.get(i - 1).ts, "time advances");
        }
        for (BehaviorEvent e : a) {
            assertEquals(g.categoryOf(e.itemId), e.categoryId);
        }
        assertEquals("7", g.categoryOf("8"));
        assertEquals(8, g.item(7, 0));
        assertEquals(8 + 20, g.item(7, 1));
    }

    @Test
    void generatingProbabilitiesAreDistributions() {
        SyntheticGenerator g = small();
        double popular = 0;
        for (int i = 1; i <= 2_000; i++) {
            popular += g.popularProbability(i);
        }
        assertEquals(1.0, popular, 1e-9);
        for (int c : new int[] {0, 7, 19}) {
            double inCategory = 0;
            for (int i = c + 1; i <= 2_000; i += 20) {
                inCategory += g.inCategoryProbability(42, i);
            }
            assertEquals(1.0, inCategory, 1e-9, "category " + c);
        }
    }

    @Test
    void eventsFollowTheLatentStateTheyAreLabelledWith() {
        SyntheticGenerator g = small();
        Map<Integer, SyntheticGenerator.UserState> last = new HashMap<>();
        int inSessionCategory = 0;
        int inOpenSession = 0;
        Iterator<SyntheticGenerator.Labeled> it = g.labeled(20_000);
        while (it.hasNext()) {
            SyntheticGenerator.Labeled l = it.next();
            int user = Integer.parseInt(l.event().userId);
            SyntheticGenerator.UserState before = last.get(user);
            if (before != null && before.remaining() > 0) {
                assertEquals(before.remaining() - 1, l.state().remaining(),
                        "one open session per user: the same session continues");
                boolean shifted = before.shiftAt() == before.remaining();
                if (!shifted) {
                    inOpenSession++;
                    if (g.categoryOf(Integer.parseInt(l.event().itemId)) == before.category()) {
                        inSessionCategory++;
                    }
                }
            }
            last.put(user, l.state());
        }
        // 90% of acts are in-session (10% noise, a few noise items fall in the category by chance)
        double share = inSessionCategory / (double) inOpenSession;
        assertTrue(share > 0.87 && share < 0.93, "share in the session's category: " + share);
    }

    @Test
    void oracleTopKIsTheBruteForceRankingOverTheWholeCatalogue() {
        assertOracleTopKIsTheBruteForceRanking(small(), List.of(
                new SyntheticGenerator.UserState(5, 7, 4, -1),
                new SyntheticGenerator.UserState(6, 3, 6, 2),
                SyntheticGenerator.UserState.idle(7)));
    }

    /** For each state and horizons 1 and 5: the oracle's top 50 is the brute-force ranking of all items. */
    static void assertOracleTopKIsTheBruteForceRanking(SyntheticGenerator g, List<SyntheticGenerator.UserState> states) {
        Set<Integer> excluded = Set.of(1, 2, 3, 8, 28);
        for (SyntheticGenerator.UserState s : states) {
            for (int horizon : new int[] {1, 5}) {
                SyntheticGenerator.Ranking top = g.oracleTopK(s, horizon, 50, i -> !excluded.contains(i));
                int[] brute = IntStream.rangeClosed(1, g.config().items)
                        .filter(i -> !excluded.contains(i))
                        .boxed()
                        .sorted(Comparator.comparingDouble((Integer i) -> -g.oracleScore(s, horizon, i))
                                .thenComparingInt(i -> i))
                        .limit(50)
                        .mapToInt(Integer::intValue)
                        .toArray();
                assertArrayEquals(brute, top.items(), s + " horizon " + horizon);
                for (int r = 1; r < 50; r++) {
                    assertTrue(top.scores()[r] <= top.scores()[r - 1]);
                }
            }
        }
    }

    @Test
    void anOpenSessionOutweighsTheUsersOtherInterests() {
        SyntheticGenerator g = small();
        int user = 11;
        int outside = IntStream.range(0, 20)
                .filter(c -> c != g.interest(user, 0) && c != g.interest(user, 1))
                .findFirst().orElseThrow();
        Map<Integer, Double> shares = g.categoryShares(new SyntheticGenerator.UserState(user, outside, 10, -1), 5);
        assertEquals(1.0, shares.get(outside), 1e-9, "5 more events of a 10-event session");
        Map<Integer, Double> idle = g.categoryShares(SyntheticGenerator.UserState.idle(user), 5);
        assertEquals(new HashSet<>(List.of(g.interest(user, 0), g.interest(user, 1))), idle.keySet());
        Map<Integer, Double> shifting = g.categoryShares(new SyntheticGenerator.UserState(user, outside, 4, 2), 4);
        assertEquals(0.5, shifting.get(outside), 1e-9, "2 events before the shift, 2 after it");
    }

    @Test
    void scalesToAMillionUsersAndItemsWithoutPerUserOrPerItemMemory() {
        SyntheticGenerator.Config cfg = new SyntheticGenerator.Config();
        cfg.users = 1_000_000;
        cfg.items = 1_000_000;
        cfg.categories = 10_000;
        SyntheticGenerator g = new SyntheticGenerator(cfg);
        Set<String> users = new HashSet<>();
        Set<String> items = new HashSet<>();
        Iterator<SyntheticGenerator.Labeled> it = g.labeled(200_000);
        SyntheticGenerator.UserState state = null;
        while (it.hasNext()) {
            SyntheticGenerator.Labeled l = it.next();
            users.add(l.event().userId);
            items.add(l.event().itemId);
            state = l.state();
        }
        assertTrue(users.size() > 20_000 && items.size() > 50_000, users.size() + " users, " + items.size() + " items");
        SyntheticGenerator.Ranking top = g.oracleTopK(state, 5, 50, i -> true);
        assertEquals(50, top.items().length);
        assertTrue(top.items()[49] >= 1 && top.items()[0] <= 1_000_000);
    }

    @Test
    void aPlantedSessionStaysInItsCategoryAndPrefersTheUsersTaste() {
        SyntheticGenerator g = small();
        List<BehaviorEvent> s = g.plantedSession(3, 12, 400, 1_000, 10, 1);
        int taste = g.taste(3, 12);
        long inTaste = s.stream().filter(e -> g.rankOf(Integer.parseInt(e.itemId)) % 4 == taste).count();
        for (BehaviorEvent e : s) {
            assertEquals("12", e.categoryId);
            assertEquals("3", e.userId);
        }
        // half of the acts go to the taste group, the other half spread over all 4 groups
        assertTrue(inTaste > 0.5 * 400 && inTaste < 0.75 * 400, inTaste + " of 400 in the taste group");
    }
}
