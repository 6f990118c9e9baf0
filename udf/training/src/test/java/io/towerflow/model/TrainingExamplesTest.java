package io.towerflow.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.towerflow.records.Action;
import io.towerflow.records.BehaviorEvent;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

class TrainingExamplesTest {
    private static BehaviorEvent ev(String u, String i, long ts) {
        return new BehaviorEvent(u, i, Action.VIEW, ts, "c" + i);
    }

    @Test
    void eachEventIsAnExampleWithTheHistoryBeforeIt() {
        List<BehaviorEvent> events = List.of(
                ev("a", "1", 10), ev("b", "9", 11), ev("a", "2", 12), ev("a", "3", 13), ev("a", "4", 14));
        TrainingExamples x = TrainingExamples.fromEvents(events, 2);
        assertEquals(5, x.size());
        // user a first (first seen), time order
        TrainingExamples.Example first = x.example(0);
        assertEquals("a", first.userId());
        assertEquals("1", first.itemId());
        assertEquals(0, first.historyItemIds().length);
        TrainingExamples.Example last = x.example(3);
        assertEquals("4", last.itemId());
        assertArrayEquals(new String[] {"2", "3"}, last.historyItemIds(), "the latest 2 only");
        assertArrayEquals(new String[] {"c2", "c3"}, last.historyCategoryIds());
        assertArrayEquals(new long[] {12, 13}, last.historyTs());
        assertEquals("b", x.example(4).userId());
    }

    @Test
    void outOfOrderEventsOfAUserAreSortedByTime() {
        List<BehaviorEvent> events = List.of(ev("a", "3", 30), ev("a", "1", 10), ev("a", "2", 20));
        TrainingExamples x = TrainingExamples.fromEvents(events, 5);
        assertEquals("3", x.example(2).itemId());
        assertArrayEquals(new String[] {"1", "2"}, x.example(2).historyItemIds());
    }

    @Test
    void splitHoldsOutTheLastEventOfUsersWithHistory() {
        List<BehaviorEvent> events = List.of(
                ev("a", "1", 10), ev("b", "9", 11), ev("a", "2", 12), ev("a", "3", 13), ev("c", "1", 14),
                ev("c", "5", 15));
        TrainingExamples.Split s = TrainingExamples.fromEvents(events, 50).splitLastPerUser();
        assertEquals(2, s.heldOut().size(), "b has a single event: nothing to hold out");
        assertEquals(4, s.train().size());
        assertEquals("3", s.heldOut().targetItemId(0));
        assertEquals("5", s.heldOut().targetItemId(1));
        UserQuery q = s.heldOut().query(0, Set.of());
        assertArrayEquals(new String[] {"1", "2"}, q.itemIds());
        assertEquals(13, q.now());
        // catalogue: the training targets with their counts, by first appearance
        ItemCatalogue cat = s.train().catalogue();
        assertArrayEquals(new String[] {"1", "2", "9"}, cat.itemIds());
        assertArrayEquals(new long[] {2, 1, 1}, cat.counts());
        assertEquals(new ModelManifest.TrainingWindow(10, 14, 4), s.train().window());
    }

    @Test
    void missingCategoryIsNull() {
        BehaviorEvent e = new BehaviorEvent("a", "1", Action.CART, 5, null);
        TrainingExamples x = TrainingExamples.fromEvents(List.of(e), 3);
        assertNull(x.targetCategoryId(0));
        assertNull(x.catalogue().categoryId(0));
    }

    @Test
    void perUserSplitOfTheLastEventsForChosenUsers() {
        List<BehaviorEvent> events = List.of(
                ev("a", "1", 10), ev("b", "9", 11), ev("a", "2", 12), ev("a", "3", 13), ev("b", "8", 14));
        TrainingExamples x = TrainingExamples.fromEvents(events, 50);
        TrainingExamples.Split all = x.splitLastPerUser(1, u -> true);
        assertEquals(2, all.heldOut().size());
        TrainingExamples.Split onlyA = x.splitLastPerUser(2, u -> x.userId(0).equals("a") && u == x.userIndex(0));
        assertEquals(2, onlyA.heldOut().size());
        assertEquals("2", onlyA.heldOut().targetItemId(0));
        assertEquals("3", onlyA.heldOut().targetItemId(1));
        assertEquals(3, onlyA.train().size(), "a's first event and both of b's");
        assertEquals(2, x.userCount());
    }
}
