package io.towerflow.operators;

import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.Feedback;

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

    /**
     * The training example of {@code e} acting on top of this history (the history before the
     * act), judged against {@code shown}, the last list the user was shown (null when none).
     */
    public Feedback feedbackFor(BehaviorEvent e, ShownList shown) {
        Feedback f = new Feedback();
        f.userId = e.userId;
        f.itemId = e.itemId;
        f.categoryId = e.categoryId;
        f.action = e.action;
        f.ts = e.ts;
        f.historyItemIds = itemIds;
        f.historyCategoryIds = categoryIds;
        f.historyActions = actions;
        f.historyTs = ts;
        if (shown != null) {
            f.shownModelVersion = shown.modelVersion;
            f.shownTs = shown.emittedTs;
            f.shownSize = shown.itemIds.length;
            f.shownRank = Arrays.asList(shown.itemIds).indexOf(e.itemId) + 1;
        }
        return f;
    }

    /** The distinct items of this history. */
    public Set<String> itemSet() {
        return new HashSet<>(Arrays.asList(itemIds));
    }
}
