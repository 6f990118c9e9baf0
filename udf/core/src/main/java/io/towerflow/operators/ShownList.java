package io.towerflow.operators;

/** The last list shown to a user, kept in state to judge what the user does next. */
public class ShownList {
    public String modelVersion;
    public long emittedTs;
    public String[] itemIds = new String[0];
    /**
     * How many of the last items were exploration slots. Added with exploration: a list restored
     * from an earlier savepoint reads 0 (POJO schema evolution), which is what it was.
     */
    public int exploreSlots;

    public ShownList() {}

    public ShownList(String modelVersion, long emittedTs, String[] itemIds) {
        this.modelVersion = modelVersion;
        this.emittedTs = emittedTs;
        this.itemIds = itemIds;
    }

    public ShownList(String modelVersion, long emittedTs, String[] itemIds, int exploreSlots) {
        this(modelVersion, emittedTs, itemIds);
        this.exploreSlots = exploreSlots;
    }

    /** Whether the 1-based {@code rank} of this list was an exploration slot. */
    public boolean exploredAt(int rank) {
        return rank > 0 && rank <= itemIds.length && rank > itemIds.length - exploreSlots;
    }
}
