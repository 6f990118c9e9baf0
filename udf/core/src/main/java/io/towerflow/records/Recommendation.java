package io.towerflow.records;

import java.util.Arrays;

/** The top-K list for one user, written to the {@code recommendations} topic. */
public class Recommendation {
    public String userId;
    /** Event time of the event that produced this list. */
    public long eventTs;
    /** Wall-clock time at which the list was produced. */
    public long emittedTs;
    public String modelVersion;
    public ScoredItem[] items;

    public Recommendation() {}

    public Recommendation(
            String userId, long eventTs, long emittedTs, String modelVersion, ScoredItem[] items) {
        this.userId = userId;
        this.eventTs = eventTs;
        this.emittedTs = emittedTs;
        this.modelVersion = modelVersion;
        this.items = items;
    }

    @Override
    public String toString() {
        return "Recommendation{" + userId + " v" + modelVersion + " " + Arrays.toString(items) + "}";
    }
}
