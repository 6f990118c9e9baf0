package io.towerflow.explore;

import java.util.Objects;

/**
 * What an {@link ExplorationBandit} keeps of one item through a checkpoint: how often it was
 * shown and acted on, and when it arrived through {@code item-catalog} (0: not a new item). An
 * entry of the {@code recommend} operator's union list state {@code explore-counts}; a Flink POJO,
 * serialized without Kryo.
 */
public class ExploreCount {
    public String itemId;
    public long impressions;
    public long clicks;
    /** Processing time at which the item arrived as a new catalogue item; 0 when it is not new. */
    public long arrivedTs;

    public ExploreCount() {}

    public ExploreCount(String itemId, long impressions, long clicks, long arrivedTs) {
        this.itemId = itemId;
        this.impressions = impressions;
        this.clicks = clicks;
        this.arrivedTs = arrivedTs;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ExploreCount c
                && Objects.equals(c.itemId, itemId)
                && c.impressions == impressions
                && c.clicks == clicks
                && c.arrivedTs == arrivedTs;
    }

    @Override
    public int hashCode() {
        return Objects.hash(itemId, impressions, clicks, arrivedTs);
    }

    @Override
    public String toString() {
        return "ExploreCount{" + itemId + " shown " + impressions + " clicked " + clicks
                + (arrivedTs > 0 ? " new since " + arrivedTs : "") + "}";
    }
}
