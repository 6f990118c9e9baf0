package io.towerflow.operators;

/** The last list shown to a user, kept in state to judge what the user does next. */
public class ShownList {
    public String modelVersion;
    public long emittedTs;
    public String[] itemIds = new String[0];

    public ShownList() {}

    public ShownList(String modelVersion, long emittedTs, String[] itemIds) {
        this.modelVersion = modelVersion;
        this.emittedTs = emittedTs;
        this.itemIds = itemIds;
    }
}
