package io.towerflow.operators;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.towerflow.records.Action;
import io.towerflow.records.BehaviorEvent;

import org.junit.jupiter.api.Test;

class UserHistoryTest {

    @Test
    void keepsTheNewestInteractionsOldestFirst() {
        UserHistory h = new UserHistory();
        for (int i = 1; i <= 5; i++) {
            h = h.append(new BehaviorEvent("u", "i" + i, i == 5 ? Action.CART : Action.VIEW, i, "c" + i), 3);
        }
        assertArrayEquals(new String[] {"i3", "i4", "i5"}, h.itemIds);
        assertArrayEquals(new String[] {"c3", "c4", "c5"}, h.categoryIds);
        assertArrayEquals(new long[] {3, 4, 5}, h.ts);
        assertEquals(Action.CART, Action.ofCode(h.actions[2]));
        assertEquals(3, h.size());
        assertEquals(java.util.Set.of("i3", "i4", "i5"), h.itemSet());
    }
}
