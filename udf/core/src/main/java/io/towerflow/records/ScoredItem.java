package io.towerflow.records;

import java.util.Objects;

/** One entry of a recommendation list. */
public class ScoredItem {
    public String itemId;
    public float score;

    public ScoredItem() {}

    public ScoredItem(String itemId, float score) {
        this.itemId = itemId;
        this.score = score;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ScoredItem
                && ((ScoredItem) o).score == score
                && Objects.equals(((ScoredItem) o).itemId, itemId);
    }

    @Override
    public int hashCode() {
        return Objects.hash(itemId, score);
    }

    @Override
    public String toString() {
        return itemId + ":" + score;
    }
}
