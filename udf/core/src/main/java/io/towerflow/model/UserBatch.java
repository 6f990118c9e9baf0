package io.towerflow.model;

import java.util.Arrays;

/**
 * Input of the user tower for a batch of users: for each user {@code historyLength} history slots
 * (item row, category row, pooling weight, short-term pooling weight; unused slots have weights 0
 * and row 0) and the user row.
 * Rows are table rows (hash buckets) when serving; the trainer fills in rows of its per-step
 * gathered sub-tables instead.
 */
public final class UserBatch {
    final int capacity;
    final int historyLength;
    final int[] itemRows;
    final int[] categoryRows;
    final float[] weights;
    final float[] recentWeights;
    final int[] userRows;
    /** How many history slots of each user are filled (slots {@code [0, length)}, oldest first). */
    final int[] lengths;
    /** The latest queries of each user (null for a model without text). */
    final TokenBags queries;
    private int size;

    public UserBatch(int capacity, int historyLength) {
        this(capacity, historyLength, null);
    }

    /** A batch for a model with the text features {@code text} (null: none). */
    public UserBatch(int capacity, int historyLength, TextConfig text) {
        this.queries = text == null ? null : new TokenBags(capacity, text.querySlots());
        this.capacity = capacity;
        this.historyLength = historyLength;
        this.itemRows = new int[capacity * historyLength];
        this.categoryRows = new int[capacity * historyLength];
        this.weights = new float[capacity * historyLength];
        this.recentWeights = new float[capacity * historyLength];
        this.userRows = new int[capacity];
        this.lengths = new int[capacity];
    }

    public int size() {
        return size;
    }

    /**
     * Adds a user by ids, hashing them with the buckets of {@code config}. History arrays are
     * oldest first and of equal length; only the newest {@code historyLength} entries are used.
     * Null or empty arrays mean no history.
     */
    public void addUser(
            ModelConfig config,
            String userId,
            String[] itemIds,
            String[] categoryIds,
            byte[] actions,
            long[] ts) {
        int n = itemIds == null ? 0 : itemIds.length;
        if (n > 0
                && (categoryIds == null
                        || actions == null
                        || ts == null
                        || categoryIds.length != n
                        || actions.length != n
                        || ts.length != n)) {
            throw new IllegalArgumentException(
                    "history arrays of user " + userId + " differ in length");
        }
        int from = Math.max(0, n - historyLength);
        int u = beginUser(IdHashing.bucket(userId, config.userBuckets()));
        int base = u * historyLength;
        for (int i = from; i < n; i++) {
            itemRows[base + i - from] = IdHashing.bucket(itemIds[i], config.itemBuckets());
            categoryRows[base + i - from] = IdHashing.bucket(categoryIds[i], config.categoryBuckets());
        }
        if (n > 0) {
            fillWeights(config, actions, ts, from, n, base);
        }
    }

    /**
     * {@link #addUser(ModelConfig, String, String[], String[], byte[], long[])} with the user's
     * latest search queries (oldest first, {@code queryTs} their times; null or empty: none). A
     * model with text reads the newest {@link TextConfig#queries()} of them, each weighted by
     * {@link TokenBags#queryWeights} with the acts after it counted as the history entries newer than
     * the query; a model without text ignores them.
     */
    public void addUser(
            ModelConfig config,
            String userId,
            String[] itemIds,
            String[] categoryIds,
            byte[] actions,
            long[] ts,
            String[] queryTexts,
            long[] queryTs) {
        addUser(config, userId, itemIds, categoryIds, actions, ts);
        int m = queryTexts == null ? 0 : queryTexts.length;
        if (queries == null || m == 0) {
            return;
        }
        TextConfig text = config.text();
        int from = Math.max(0, m - text.queries());
        int[][] tokens = new int[m - from][];
        int[] actsAfter = new int[m - from];
        for (int i = from; i < m; i++) {
            tokens[i - from] = TextTokens.buckets(queryTexts[i], text.buckets(), text.maxTokens());
            int after = 0;
            for (int j = ts == null ? -1 : ts.length - 1; j >= 0 && ts[j] > queryTs[i]; j--) {
                after++;
            }
            actsAfter[i - from] = after;
        }
        putQueries(config, size - 1, tokens, actsAfter);
    }

    /**
     * Sets user {@code u}'s queries (token rows, oldest first; {@code actsAfter}: acts on items since
     * each), weighted by {@link TokenBags#queryWeights}; in a model whose searches start a new short
     * term ({@link TextConfig#resetsShortTerm()}), the short-term channel then pools only the
     * history entries after the latest query. Serving and training both come here.
     */
    void putQueries(ModelConfig config, int u, int[][] tokens, int[] actsAfter) {
        TextConfig text = config.text();
        queries.put(u, tokens, TokenBags.queryWeights(actsAfter, text.queryHalfLifeEvents()));
        if (tokens.length > 0 && text.resetsShortTerm() && config.hasRecentChannel()) {
            int acts = actsAfter[actsAfter.length - 1];
            int len = lengths[u];
            if (acts < len) {
                int base = u * historyLength;
                Arrays.fill(recentWeights, base, base + historyLength, 0f);
                HistoryWeights.fillRecent(len - acts, len, config.recentHalfLifeEvents(), recentWeights, base + len - acts);
            }
        }
    }

    /** Both pooling weights of history entries {@code [from, to)} into slots from {@code base}. */
    void fillWeights(ModelConfig config, byte[] actions, long[] ts, int from, int to, int base) {
        lengths[base / historyLength] = to - from;
        HistoryWeights.fill(actions, ts, from, to, config.recencyHalfLifeMs(), weights, base);
        if (config.hasRecentChannel()) {
            HistoryWeights.fillRecent(from, to, config.recentHalfLifeEvents(), recentWeights, base);
        }
    }

    /** Starts a user with empty history; returns its index. Slots are then set directly. */
    int beginUser(int userRow) {
        if (size == capacity) {
            throw new IllegalStateException("batch is full (" + capacity + ")");
        }
        int u = size++;
        userRows[u] = userRow;
        lengths[u] = 0;
        int base = u * historyLength;
        Arrays.fill(itemRows, base, base + historyLength, 0);
        Arrays.fill(categoryRows, base, base + historyLength, 0);
        Arrays.fill(weights, base, base + historyLength, 0f);
        Arrays.fill(recentWeights, base, base + historyLength, 0f);
        if (queries != null) {
            queries.clear(u);
        }
        return u;
    }

    void clear() {
        size = 0;
    }
}
