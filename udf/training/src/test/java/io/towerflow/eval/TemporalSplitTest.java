package io.towerflow.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.model.ItemCatalogue;
import io.towerflow.model.TrainingExamples;
import io.towerflow.records.Action;
import io.towerflow.records.BehaviorEvent;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

class TemporalSplitTest {
    static BehaviorEvent ev(String user, String item, long ts) {
        return new BehaviorEvent(user, item, Action.VIEW, ts, "c" + item);
    }

    /** a: 1 2 3 4 5 (time order), b: 9 8, c: 1 2 7 1 2 3. */
    static TrainingExamples events() {
        List<BehaviorEvent> e = new ArrayList<>(List.of(
                ev("a", "1", 10), ev("b", "9", 11), ev("a", "2", 12), ev("c", "1", 13), ev("a", "3", 14),
                ev("c", "2", 15), ev("a", "4", 16), ev("c", "7", 17), ev("b", "8", 18), ev("a", "5", 19),
                ev("c", "1", 20), ev("c", "2", 21), ev("c", "3", 22)));
        return TrainingExamples.fromEvents(e, 50);
    }

    @Test
    void holdsOutTheLastEventsOfEachUserWithMore() {
        TemporalSplit s = TemporalSplit.of(events(), 2, false, 100, 1);
        assertEquals(2, s.testUsers(), "b has only 2 events: it only trains");
        assertEquals(13 - 4, s.train().size());
        EvalCase a = s.cases().get(0);
        assertEquals("a", a.userId());
        assertEquals(Set.of("4", "5"), a.targets());
        assertEquals(2, a.horizon());
        assertEquals(3, a.eventsBefore());
        assertArrayEquals(new String[] {"1", "2", "3"}, a.query().itemIds());
        assertEquals(16, a.query().now());
        assertEquals(Set.of(), a.query().exclude());
        EvalCase c = s.cases().get(1);
        assertEquals(Set.of("2", "3"), c.targets());
        assertArrayEquals(new String[] {"1", "2", "7", "1"}, c.query().itemIds());
        ItemCatalogue cat = s.train().catalogue();
        assertEquals(Set.of("1", "2", "3", "7", "8", "9"), Set.of(cat.itemIds()));
    }

    @Test
    void excludeSeenAndASeededSampleOfUsers() {
        TemporalSplit s = TemporalSplit.of(events(), 2, true, 1, 1);
        assertEquals(2, s.testUsers());
        assertEquals(1, s.cases().size());
        assertEquals(13 - 4, s.train().size(), "users left out of the sample still hold out their events");
        EvalCase only = s.cases().get(0);
        assertEquals(Set.of(only.query().itemIds()), only.query().exclude());
        assertEquals(only.userId(), TemporalSplit.of(events(), 2, true, 1, 1).cases().get(0).userId());
        assertTrue(Set.of("a", "c").contains(only.userId()));
    }

    @Test
    void coOccurrenceCountsPairsWithinTheWindowOfOneUser() {
        TemporalSplit s = TemporalSplit.of(events(), 2, false, 100, 1);
        ItemCatalogue cat = s.train().catalogue();
        // training sequences: a 1 2 3, b 9 8, c 1 2 7 1; window 1: pairs 1-2 (a, c), 2-3, 9-8, 2-7, 7-1
        CoOccurrenceRanker r = CoOccurrenceRanker.build(s.train(), cat, 1, 1, 1.0);
        EvalCase a = s.cases().get(0); // latest item 3: only 2 co-occurs with it, then popularity fills
        String[] top = r.rank(List.of(a), 3).get(0);
        assertEquals("2", top[0]);
        assertEquals("1", top[1], "the most popular item fills the list");
        EvalCase c = s.cases().get(1); // latest item 1: neighbours 2 (twice) and 7 (once)
        assertArrayEquals(new String[] {"2", "7"}, java.util.Arrays.copyOf(r.rank(List.of(c), 2).get(0), 2));
        PopularityRanker p = new PopularityRanker(cat);
        assertArrayEquals(new String[] {"1", "2"}, p.rank(List.of(c), 2).get(0));
    }
}
