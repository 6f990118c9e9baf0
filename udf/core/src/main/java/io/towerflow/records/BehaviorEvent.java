package io.towerflow.records;

import java.util.Objects;

/**
 * One user act on an item: the input of the job ({@code user-behavior} topic). A Flink POJO
 * (public fields, no-arg constructor) so that it is serialized without Kryo.
 */
public class BehaviorEvent {
    public String userId;
    public String itemId;
    public Action action;
    /** Event time, epoch milliseconds. */
    public long ts;
    /** Optional. */
    public String categoryId;
    /** Optional. */
    public String sessionId;
    /** Optional; the search text of a {@link Action#SEARCH}. */
    public String query;

    public BehaviorEvent() {}

    public BehaviorEvent(String userId, String itemId, Action action, long ts, String categoryId) {
        this.userId = userId;
        this.itemId = itemId;
        this.action = action;
        this.ts = ts;
        this.categoryId = categoryId;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof BehaviorEvent)) {
            return false;
        }
        BehaviorEvent e = (BehaviorEvent) o;
        return ts == e.ts
                && Objects.equals(userId, e.userId)
                && Objects.equals(itemId, e.itemId)
                && action == e.action
                && Objects.equals(categoryId, e.categoryId)
                && Objects.equals(sessionId, e.sessionId)
                && Objects.equals(query, e.query);
    }

    @Override
    public int hashCode() {
        return Objects.hash(userId, itemId, action, ts);
    }

    @Override
    public String toString() {
        return "BehaviorEvent{" + userId + " " + action + " " + itemId + " @" + ts
                + (categoryId == null ? "" : " cat=" + categoryId) + "}";
    }
}
