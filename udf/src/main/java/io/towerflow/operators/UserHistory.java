package io.towerflow.operators;

import io.towerflow.records.BehaviorEvent;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * A user's most recent interactions, oldest first, as parallel arrays: a Flink POJO whose fields
 * are all basic or primitive arrays, so RocksDB state is serialized without Kryo.
 */
public class UserHistory {
    public String[] itemIds = new String[0];
    public String[] categoryIds = new String[0];
    /** {@link io.towerflow.records.Action#code()} of each interaction. */
    public byte[] actions = new byte[0];
    public long[] ts = new long[0];

    public UserHistory() {}

    public int size() {
        return itemIds.length;
    }

    /** A new history with {@code e} appended, keeping the newest {@code maxLength}. */
    public UserHistory append(BehaviorEvent e, int maxLength) {
        int keep = Math.min(size(), maxLength - 1);
        int from = size() - keep;
        UserHistory h = new UserHistory();
        h.itemIds = Arrays.copyOfRange(itemIds, from, from + keep + 1);
        h.categoryIds = Arrays.copyOfRange(categoryIds, from, from + keep + 1);
        h.actions = Arrays.copyOfRange(actions, from, from + keep + 1);
        h.ts = Arrays.copyOfRange(ts, from, from + keep + 1);
        h.itemIds[keep] = e.itemId;
        h.categoryIds[keep] = e.categoryId;
        h.actions[keep] = e.action.code();
        h.ts[keep] = e.ts;
        return h;
    }

    /** The distinct items of this history. */
    public Set<String> itemSet() {
        return new HashSet<>(Arrays.asList(itemIds));
    }
}
