package io.towerflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.Arrays;

/**
 * Embedding-bag input for a batch of users (their latest queries) or items (their titles): per
 * entity {@code slots} token rows with weights; unused slots have row 0 and weight 0, so an entity
 * without text pools to the zero vector. A text's weight is spread evenly over its tokens, so the
 * pooled vector is the weighted mean of each text's mean token row.
 */
public final class TokenBags {
    final int slots;
    final int[] rows;
    final float[] weights;

    public TokenBags(int capacity, int slots) {
        this.slots = slots;
        this.rows = new int[capacity * slots];
        this.weights = new float[capacity * slots];
    }

    /** Empties the slots of {@code entity}. */
    void clear(int entity) {
        Arrays.fill(rows, entity * slots, (entity + 1) * slots, 0);
        Arrays.fill(weights, entity * slots, (entity + 1) * slots, 0f);
    }

    /**
     * Sets the slots of {@code entity} to {@code texts} (token rows each; null or empty texts take no
     * slot) with weights {@code textWeights}; tokens beyond the slots are left out.
     */
    void put(int entity, int[][] texts, float[] textWeights) {
        clear(entity);
        int at = entity * slots;
        int end = at + slots;
        for (int t = 0; t < texts.length && at < end; t++) {
            int[] tokens = texts[t];
            if (tokens == null || tokens.length == 0) {
                continue;
            }
            float w = textWeights[t] / tokens.length;
            for (int j = 0; j < tokens.length && at < end; j++, at++) {
                rows[at] = tokens[j];
                weights[at] = w;
            }
        }
    }

    /** Sets the slots of {@code entity} to one text of weight 1. */
    void putOne(int entity, int[] tokens) {
        put(entity, new int[][] {tokens}, new float[] {1f});
    }

    /** The bags of the first {@code count} entities as [count, E]: weights · rows of {@code table}. */
    NDArray pooled(NDManager manager, NDArray table, int count, int embeddingDim) {
        NDArray tokens = TwoTowerModel.lookup(manager, table, rows, count * slots, new Shape(count, slots, embeddingDim));
        NDArray w = manager.create(Arrays.copyOf(weights, count * slots), new Shape(count, 1, slots));
        return w.batchMatMul(tokens).reshape(count, embeddingDim);
    }

    /**
     * The weights of a user's latest queries, oldest first: the k-th newest (k = 0 the latest),
     * with {@code actsAfter} acts on items since it, weighs 0.5^(k + actsAfter / halfLife),
     * divided by Σ_k 0.5^k; so fresh queries sum to about 1 and a query fades as the user acts on.
     */
    public static float[] queryWeights(int[] actsAfter, double halfLifeEvents) {
        int n = actsAfter.length;
        double norm = 0;
        for (int k = 0; k < n; k++) {
            norm += Math.pow(0.5, k);
        }
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            int k = n - 1 - i;
            w[i] = (float) (Math.pow(0.5, k + actsAfter[i] / halfLifeEvents) / norm);
        }
        return w;
    }

    /** The token buckets of each title (null or blank titles give empty arrays). */
    public static int[][] titleTokens(String[] titles, TextConfig text) {
        int[][] out = new int[titles.length][];
        for (int i = 0; i < titles.length; i++) {
            out[i] = TextTokens.buckets(titles[i], text.buckets(), text.maxTokens());
        }
        return out;
    }
}
