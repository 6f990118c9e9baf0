package io.towerflow.records;

/**
 * One training example, emitted each time a user acts ({@code rec-feedback} topic, key userId):
 * the user's history before the act, the act itself, and how it relates to the last list the user
 * was shown. A Flink POJO of arrays, so it is serialized without Kryo.
 */
public class Feedback {
    public String userId;
    public String itemId;
    public String categoryId;
    public Action action;
    /** Event time of the act, epoch ms. */
    public long ts;

    /** The history before the act, oldest first (parallel arrays). */
    public String[] historyItemIds = new String[0];
    public String[] historyCategoryIds = new String[0];
    /** {@link Action#code()} of each history entry. */
    public byte[] historyActions = new byte[0];
    public long[] historyTs = new long[0];

    /**
     * The user's latest search queries when the act happened (oldest first, parallel arrays; the
     * serving state's, written only while the serving version reads text), so that retraining
     * learns from queries as training does; empty otherwise and in records written before.
     */
    public String[] queryTexts = new String[0];
    public long[] queryTs = new long[0];

    /** Model version of the last list shown before the act; null when none was shown. */
    public String shownModelVersion;
    /** When that list was emitted (epoch ms); 0 when none was shown. */
    public long shownTs;
    /** Size of that list; 0 when none was shown. */
    public int shownSize;
    /** 1-based rank of the acted-on item in that list; 0 when it was not in the list. */
    public int shownRank;
    /**
     * Whether the acted-on item was in an exploration slot of that list (not chosen by the model);
     * false when it was not in the list, and in records written before exploration existed.
     */
    public boolean shownExplore;

    public Feedback() {}

    /** Whether a list had been shown before this act. */
    public boolean wasShown() {
        return shownModelVersion != null;
    }

    /** Whether the acted-on item was among the first {@code k} items of the last list shown. */
    public boolean hitAt(int k) {
        return shownRank > 0 && shownRank <= k;
    }

    /** Whether the acted-on item was among the first {@code k} items and in a slot the model chose. */
    public boolean exploitedHitAt(int k) {
        return hitAt(k) && !shownExplore;
    }
}
