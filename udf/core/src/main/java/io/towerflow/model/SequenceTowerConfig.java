package io.towerflow.model;

/**
 * Shape of the sequence user tower ({@link ModelConfig#userTower()} {@code "sequence"}): a causal
 * self-attention encoder (SASRec-style, pre-layer-norm) over the latest {@link
 * ModelConfig#historyLength()} items with learned positional embeddings, {@code embeddingDim}
 * wide; see {@link SequenceEncoder}.
 *
 * @param layers self-attention blocks (attention + feed-forward), at least 1
 * @param heads attention heads; must divide {@code embeddingDim}
 * @param dropout dropout rate in training (on the input, after attention and feed-forward), in [0, 1)
 */
public record SequenceTowerConfig(int layers, int heads, double dropout) {
    public static final SequenceTowerConfig DEFAULTS = new SequenceTowerConfig(2, 1, 0.2);

    public SequenceTowerConfig {
        if (layers < 1 || heads < 1 || !(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("sequence tower needs layers >= 1, heads >= 1, 0 <= dropout < 1, got "
                    + layers + ", " + heads + ", " + dropout);
        }
    }
}
