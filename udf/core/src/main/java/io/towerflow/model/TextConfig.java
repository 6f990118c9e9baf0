package io.towerflow.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The text features of a model ({@link ModelConfig#text()}; absent = a model without text): search
 * queries into the user tower and item titles into the item tower, both tokenised by {@link
 * TextTokens} into one hashed token table, {@code embeddingDim} wide, read as an embedding bag (the
 * mean of a text's token rows).
 *
 * @param buckets rows of the token table
 * @param maxTokens tokens kept of one query or title (unigrams, bigrams, then character trigrams)
 * @param queries how many of a user's latest queries the user tower reads
 * @param queryHalfLifeEvents a query's weight halves with every newer query and with every this
 *     many acts on items after it, so an old query fades as the user acts on
 * @param searchStartsShortTerm whether a search starts a new short term: the pooled user tower's
 *     short-term channel (and the item skip that reads it) pools only the acts after the user's
 *     latest query, none right after the search; null or false (every version written before it
 *     existed): the short term pools the newest acts regardless of searches
 */
public record TextConfig(int buckets, int maxTokens, int queries, double queryHalfLifeEvents,
        @JsonInclude(JsonInclude.Include.NON_NULL) Boolean searchStartsShortTerm) {
    public static final TextConfig DEFAULTS = new TextConfig(65_536, 32, 5, 4.0, true);

    /** Text features whose searches leave the short term alone (the layout of the first versions with text). */
    public TextConfig(int buckets, int maxTokens, int queries, double queryHalfLifeEvents) {
        this(buckets, maxTokens, queries, queryHalfLifeEvents, null);
    }

    public TextConfig {
        if (buckets < 1 || maxTokens < 1 || queries < 1 || !(queryHalfLifeEvents > 0) || Double.isInfinite(queryHalfLifeEvents)) {
            throw new IllegalArgumentException("text needs buckets, maxTokens, queries >= 1 and queryHalfLifeEvents > 0, got "
                    + buckets + ", " + maxTokens + ", " + queries + ", " + queryHalfLifeEvents);
        }
    }

    /** Whether a search starts a new short term (see {@link #searchStartsShortTerm}). */
    public boolean resetsShortTerm() {
        return Boolean.TRUE.equals(searchStartsShortTerm);
    }

    /** Token slots of one user's queries in a batch. */
    public int querySlots() {
        return queries * maxTokens;
    }
}
