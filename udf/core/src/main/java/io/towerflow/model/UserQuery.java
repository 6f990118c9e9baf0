package io.towerflow.model;

import java.util.Set;

/**
 * One user to score: the user's recent history (oldest first, parallel arrays of equal length;
 * only the newest {@code historyLength} entries are used; may be empty or null), the time of the
 * request, and item ids that must not be recommended.
 *
 * @param actions {@link io.towerflow.records.Action#code()} of each history entry
 * @param ts event time of each history entry, epoch ms
 * @param now request time, epoch ms. History weights decay with age, but as they are normalised
 *     the decay from {@code now} to the newest entry cancels (see {@link HistoryWeights}): today
 *     the vector does not depend on {@code now}.
 * @param exclude ids to leave out of the result (may be null or empty)
 * @param queries the user's latest search queries, oldest first (null or empty: none); read by a
 *     model with text only
 * @param queryTs the time of each query, epoch ms
 */
public record UserQuery(
        String userId,
        String[] itemIds,
        String[] categoryIds,
        byte[] actions,
        long[] ts,
        long now,
        Set<String> exclude,
        String[] queries,
        long[] queryTs) {

    /** A user without queries. */
    public UserQuery(String userId, String[] itemIds, String[] categoryIds, byte[] actions, long[] ts, long now,
            Set<String> exclude) {
        this(userId, itemIds, categoryIds, actions, ts, now, exclude, null, null);
    }

    /** This query with the user's latest search queries (oldest first) and their times. */
    public UserQuery withQueries(String[] texts, long[] times) {
        return new UserQuery(userId, itemIds, categoryIds, actions, ts, now, exclude, texts, times);
    }

    /** A user without history. */
    public static UserQuery withoutHistory(String userId, long now, Set<String> exclude) {
        return new UserQuery(userId, new String[0], new String[0], new byte[0], new long[0], now, exclude);
    }

    public int historySize() {
        return itemIds == null ? 0 : itemIds.length;
    }

    public int excludeSize() {
        return exclude == null ? 0 : exclude.size();
    }
}
