package io.towerflow.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * Shapes and hyper-parameters of the two-tower model. Everything needed to rebuild the blocks
 * from a parameter file is here, so a version's manifest carries the whole record.
 *
 * @param dim output dimension of both towers (the vectors are L2-normalised)
 * @param embeddingDim width of every hashed embedding table
 * @param hidden width of the hidden layer of each tower's MLP
 * @param itemBuckets rows of the item-id table (shared by both towers)
 * @param categoryBuckets rows of the category table (shared by both towers)
 * @param userBuckets rows of the user-id table; 1 (the default since 2026-12-07) makes it one
 *     row shared by every user, a learned bias: the history carries the user (docs/model.md)
 * @param historyLength how many of a user's latest acts the user tower pools
 * @param recencyHalfLifeMs half-life of an act's weight in the pooled history
 * @param temperature softmax temperature of training (logits = cosine / temperature)
 * @param recentHalfLifeEvents half-life, in events, of the user tower's second, short-term pooling
 *     of the history (weight 0.5^(k / h) for the k-th newest act, whatever the clock says), which
 *     lets the tower follow an intent that changed a few events ago, and which also feeds the
 *     towers' shared item skip (see {@link TwoTowerModel}); 0 leaves both out (the towers of
 *     versions written before they existed)
 * @param userTower {@value #POOLED} (the history pooled with recency weights; versions written
 *     before there was a choice) or {@value #SEQUENCE} (a causal self-attention encoder that reads
 *     order, shaped by {@code sequence})
 * @param sequence the sequence tower's shape; null for the pooled tower
 * @param text the query and title features ({@link TextConfig}); null (absent from the manifest,
 *     as in every version written before they existed) for a model without text
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ModelConfig(
        int dim,
        int embeddingDim,
        int hidden,
        int itemBuckets,
        int categoryBuckets,
        int userBuckets,
        int historyLength,
        long recencyHalfLifeMs,
        double temperature,
        double recentHalfLifeEvents,
        String userTower,
        SequenceTowerConfig sequence,
        @JsonInclude(JsonInclude.Include.NON_NULL) TextConfig text) {

    public static final String POOLED = "pooled";
    public static final String SEQUENCE = "sequence";
    public static final int DEFAULT_DIM = 64;
    public static final int DEFAULT_EMBEDDING_DIM = 32;
    public static final int DEFAULT_HIDDEN = 128;
    public static final int DEFAULT_ITEM_BUCKETS = 262_144;
    public static final int DEFAULT_CATEGORY_BUCKETS = 8_192;
    /**
     * One row: no per-user embedding. A row per user learns from that user's few training acts and
     * memorises them; on every data set measured it added nothing or cost (Amazon Beauty, the
     * literature's protocol: HR@10 0.0669 with 65,536 rows, 0.0851 with one; the bootstrap's
     * synthetic world: HR@20 0.6257 with 16,384, 0.6246 with one), see docs/model.md.
     */
    public static final int DEFAULT_USER_BUCKETS = 1;
    public static final int DEFAULT_HISTORY_LENGTH = 50;
    public static final long DEFAULT_RECENCY_HALF_LIFE_MS = 3_600_000L;
    /**
     * Softmax temperature of a fresh model: 0.1 since 2026-12-07 (0.05 before). On Amazon Beauty
     * (leave-one-out) validation HR@20 was 0.1432 / 0.1452 / 0.1467 / 0.1328 at 0.03 / 0.05 / 0.1 / 0.2;
     * on the bootstrap's synthetic world 0.1 gives the same as 0.05 (docs/model.md, *Temperature*).
     */
    public static final double DEFAULT_TEMPERATURE = 0.1;
    public static final double DEFAULT_RECENT_HALF_LIFE_EVENTS = 1.0;
    /** Manifest field that versions written before the short-term channel lack (read as 0). */
    static final String RECENT_HALF_LIFE_FIELD = "recentHalfLifeEvents";

    public ModelConfig {
        require(dim > 0, "dim must be > 0");
        require(embeddingDim > 0, "embeddingDim must be > 0");
        require(hidden > 0, "hidden must be > 0");
        require(itemBuckets > 0, "itemBuckets must be > 0");
        require(categoryBuckets > 0, "categoryBuckets must be > 0");
        require(userBuckets > 0, "userBuckets must be > 0");
        require(historyLength > 0, "historyLength must be > 0");
        require(recencyHalfLifeMs > 0, "recencyHalfLifeMs must be > 0");
        require(temperature > 0 && Double.isFinite(temperature), "temperature must be > 0");
        require(recentHalfLifeEvents >= 0 && Double.isFinite(recentHalfLifeEvents),
                "recentHalfLifeEvents must be >= 0");
        if (userTower == null) {
            userTower = POOLED; // manifests written before the choice
        }
        require(userTower.equals(POOLED) || userTower.equals(SEQUENCE),
                "userTower must be " + POOLED + " or " + SEQUENCE + ", got " + userTower);
        if (userTower.equals(SEQUENCE) && sequence == null) {
            sequence = SequenceTowerConfig.DEFAULTS;
        }
        if (userTower.equals(POOLED)) {
            sequence = null;
        }
        require(sequence == null || embeddingDim % sequence.heads() == 0, "sequence heads must divide embeddingDim");
    }


    /** A configuration without the short-term channel (the towers of the first versions). */
    public ModelConfig(
            int dim,
            int embeddingDim,
            int hidden,
            int itemBuckets,
            int categoryBuckets,
            int userBuckets,
            int historyLength,
            long recencyHalfLifeMs,
            double temperature) {
        this(dim, embeddingDim, hidden, itemBuckets, categoryBuckets, userBuckets, historyLength,
                recencyHalfLifeMs, temperature, 0, POOLED, null, null);
    }

    /** Whether the user tower is the sequence encoder ({@link #sequence()} gives its shape). */
    public boolean hasSequenceTower() {
        return sequence != null;
    }

    /** This configuration with the sequence user tower of the given shape. */
    public ModelConfig withSequenceTower(SequenceTowerConfig v) {
        return new ModelConfig(dim, embeddingDim, hidden, itemBuckets, categoryBuckets, userBuckets,
                historyLength, recencyHalfLifeMs, temperature, recentHalfLifeEvents, SEQUENCE, v, text);
    }

    /** This configuration with the text features {@code v} (null: none). */
    public ModelConfig withText(TextConfig v) {
        return new ModelConfig(dim, embeddingDim, hidden, itemBuckets, categoryBuckets, userBuckets,
                historyLength, recencyHalfLifeMs, temperature, recentHalfLifeEvents, userTower, sequence, v);
    }

    /** Whether the towers read queries and titles ({@link #text()} gives their shape). */
    public boolean hasText() {
        return text != null;
    }

    /** Whether the user tower has the short-term (last few events) pooling. */
    public boolean hasRecentChannel() {
        return recentHalfLifeEvents > 0;
    }

    /**
     * The defaults of DESIGN.md (d = 64, 32-wide embeddings, 128 hidden, N = 50, 1 h, τ = 0.05)
     * plus the short-term channel with a half-life of one event; the pooled user tower.
     */
    public static ModelConfig defaults() {
        return new ModelConfig(
                DEFAULT_DIM,
                DEFAULT_EMBEDDING_DIM,
                DEFAULT_HIDDEN,
                DEFAULT_ITEM_BUCKETS,
                DEFAULT_CATEGORY_BUCKETS,
                DEFAULT_USER_BUCKETS,
                DEFAULT_HISTORY_LENGTH,
                DEFAULT_RECENCY_HALF_LIFE_MS,
                DEFAULT_TEMPERATURE,
                DEFAULT_RECENT_HALF_LIFE_EVENTS,
                POOLED,
                null,
                null);
    }

    public ModelConfig withDim(int v) {
        return new ModelConfig(v, embeddingDim, hidden, itemBuckets, categoryBuckets, userBuckets,
                historyLength, recencyHalfLifeMs, temperature, recentHalfLifeEvents, userTower, sequence, text);
    }

    public ModelConfig withEmbeddingDim(int v) {
        return new ModelConfig(dim, v, hidden, itemBuckets, categoryBuckets, userBuckets,
                historyLength, recencyHalfLifeMs, temperature, recentHalfLifeEvents, userTower, sequence, text);
    }

    public ModelConfig withHidden(int v) {
        return new ModelConfig(dim, embeddingDim, v, itemBuckets, categoryBuckets, userBuckets,
                historyLength, recencyHalfLifeMs, temperature, recentHalfLifeEvents, userTower, sequence, text);
    }

    public ModelConfig withBuckets(int items, int categories, int users) {
        return new ModelConfig(dim, embeddingDim, hidden, items, categories, users,
                historyLength, recencyHalfLifeMs, temperature, recentHalfLifeEvents, userTower, sequence, text);
    }

    public ModelConfig withHistoryLength(int v) {
        return new ModelConfig(dim, embeddingDim, hidden, itemBuckets, categoryBuckets,
                userBuckets, v, recencyHalfLifeMs, temperature, recentHalfLifeEvents, userTower, sequence, text);
    }

    public ModelConfig withRecencyHalfLifeMs(long v) {
        return new ModelConfig(dim, embeddingDim, hidden, itemBuckets, categoryBuckets,
                userBuckets, historyLength, v, temperature, recentHalfLifeEvents, userTower, sequence, text);
    }

    public ModelConfig withTemperature(double v) {
        return new ModelConfig(dim, embeddingDim, hidden, itemBuckets, categoryBuckets,
                userBuckets, historyLength, recencyHalfLifeMs, v, recentHalfLifeEvents, userTower, sequence, text);
    }

    public ModelConfig withRecentHalfLifeEvents(double v) {
        return new ModelConfig(dim, embeddingDim, hidden, itemBuckets, categoryBuckets,
                userBuckets, historyLength, recencyHalfLifeMs, temperature, v, userTower, sequence, text);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
