package io.towerflow.records;

import java.util.Objects;

/** One entry of a recommendation list. */
public class ScoredItem {
    public String itemId;
    public float score;
    /**
     * An exploration slot ({@code towerflow.recommend.explore-slots}): chosen by Thompson sampling
     * among the least-shown items, not by the model; its score is the sampled click rate.
     */
    public boolean explore;

    public ScoredItem() {}

    public ScoredItem(String itemId, float score) {
        this.itemId = itemId;
        this.score = score;
    }

    public ScoredItem(String itemId, float score, boolean explore) {
        this(itemId, score);
        this.explore = explore;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ScoredItem
                && ((ScoredItem) o).score == score
                && ((ScoredItem) o).explore == explore
                && Objects.equals(((ScoredItem) o).itemId, itemId);
    }

    @Override
    public int hashCode() {
        return Objects.hash(itemId, score, explore);
    }

    @Override
    public String toString() {
        return itemId + ":" + score + (explore ? "(explore)" : "");
    }
}
