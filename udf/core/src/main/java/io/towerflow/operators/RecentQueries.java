package io.towerflow.operators;

import java.util.Arrays;

/**
 * A user's latest search queries, oldest first, as parallel arrays: a Flink POJO of basic and
 * primitive arrays, so RocksDB state is serialized without Kryo. Kept in its own keyed state
 * ("recent-queries", with the history's TTL) beside {@link UserHistory}, so that a savepoint taken
 * before queries existed restores unchanged, and written only when a search carries a query.
 */
public class RecentQueries {
    /** How many queries a user's state keeps (a model reads at most this many). */
    public static final int MAX = 10;

    public String[] queries = new String[0];
    /** Event time of each query, epoch ms. */
    public long[] ts = new long[0];

    public RecentQueries() {}

    public int size() {
        return queries.length;
    }

    /** A new list with {@code query} at {@code eventTs} appended, keeping the newest {@code maxLength}. */
    public RecentQueries append(String query, long eventTs, int maxLength) {
        int keep = Math.min(size(), maxLength - 1);
        int from = size() - keep;
        RecentQueries q = new RecentQueries();
        q.queries = Arrays.copyOfRange(queries, from, from + keep + 1);
        q.ts = Arrays.copyOfRange(ts, from, from + keep + 1);
        q.queries[keep] = query;
        q.ts[keep] = eventTs;
        return q;
    }
}
