package io.towerflow.model;

import java.util.Arrays;

/**
 * How often each item turns up in the training stream, estimated while the batches stream by and
 * without a vocabulary: the streaming frequency estimation of Yi et al., "Sampling-Bias-Corrected
 * Neural Modeling for Large Corpus Item Recommendations" (RecSys 2019), Algorithm 2 with multiple
 * hashings.
 *
 * <p>Each of {@code hashes} arrays holds, per hash bucket, A = the last step at which an item of
 * that bucket was seen and B = the estimated number of steps between two sightings. When an item
 * is seen at step t, B ← (1 − α)·B + α·(t − A) and A ← t. The probability that a batch holds the
 * item is 1 / B; with several hashings the largest B is used, because a collision can only make
 * an item look more frequent than it is. The in-batch softmax subtracts log of this probability
 * from the logit of each candidate (the logQ correction).
 *
 * <p>Two refinements over the paper's loop, both exact in intent: an item seen c times in one
 * batch counts as one sighting with interval (t − A) / c (the paper's sequential loop would feed
 * intervals of 0 for the repeats), and a bucket's first sighting sets B = t / c (the interval since
 * the stream began) instead of blending it into an arbitrary initial value.
 *
 * <p>Memory is {@code 8 × hashes × buckets} bytes whatever the catalogue size. Deterministic.
 */
public final class StreamingFrequencyEstimator {
    private static final int[] SEEDS = {0x9E3779B9, 0x85EBCA6B, 0xC2B2AE35, 0x27D4EB2F};

    private final int hashes;
    private final int buckets;
    private final float alpha;
    private final int[] lastStep;
    private final float[] interval;
    private int[] scratch = new int[256];

    /**
     * @param hashes number of hash arrays (1 to 4)
     * @param buckets entries per array
     * @param alpha learning rate of the interval estimate, in (0, 1]
     */
    public StreamingFrequencyEstimator(int hashes, int buckets, double alpha) {
        if (hashes < 1 || hashes > SEEDS.length) {
            throw new IllegalArgumentException("hashes must be in [1, " + SEEDS.length + "]");
        }
        if (buckets < 1) {
            throw new IllegalArgumentException("buckets must be > 0");
        }
        if (!(alpha > 0 && alpha <= 1)) {
            throw new IllegalArgumentException("alpha must be in (0, 1]");
        }
        this.hashes = hashes;
        this.buckets = buckets;
        this.alpha = (float) alpha;
        this.lastStep = new int[hashes * buckets];
        this.interval = new float[hashes * buckets];
    }

    /** A size fit for about {@code distinctItems} items: 2 hashings, 4 buckets an item, 2^10..2^22. */
    public static StreamingFrequencyEstimator forItems(int distinctItems) {
        int want = Math.max(1024, Math.min(1 << 22, 4 * Math.max(1, distinctItems)));
        return new StreamingFrequencyEstimator(2, Integer.highestOneBit(want - 1) << 1, 0.01);
    }

    /** The key of an item id (any stable int; {@link String#hashCode()} is fixed by the JLS). */
    public static int key(String itemId) {
        return itemId.hashCode();
    }

    /**
     * Records that the batch of step {@code step} held {@code keys[0..n)} (repeats allowed).
     * Steps start at 1 and never decrease.
     */
    public void update(int[] keys, int n, long step) {
        if (step < 1 || step > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("step out of range: " + step);
        }
        int t = (int) step;
        if (scratch.length < n) {
            scratch = new int[n];
        }
        System.arraycopy(keys, 0, scratch, 0, n);
        Arrays.sort(scratch, 0, n);
        for (int from = 0; from < n; ) {
            int to = from + 1;
            while (to < n && scratch[to] == scratch[from]) {
                to++;
            }
            int seen = to - from;
            for (int h = 0; h < hashes; h++) {
                int x = slot(scratch[from], h);
                float observed = (float) (t - lastStep[x]) / seen;
                interval[x] = lastStep[x] == 0 ? observed : (1 - alpha) * interval[x] + alpha * observed;
                lastStep[x] = t;
            }
            from = to;
        }
    }

    /** As {@link #probability}, but 0 for an item never seen (for mixing with other samplers). */
    public double seenProbability(int key) {
        for (int h = 0; h < hashes; h++) {
            if (lastStep[slot(key, h)] == 0) {
                return 0;
            }
        }
        return probability(key);
    }

    /**
     * Estimated probability that a batch holds the item of {@code key}: 1 / the largest interval
     * over the hashings, at most 1. An item never seen gets 1 (no correction).
     */
    public double probability(int key) {
        float longest = 0;
        for (int h = 0; h < hashes; h++) {
            longest = Math.max(longest, interval[slot(key, h)]);
        }
        return longest <= 1 ? 1.0 : 1.0 / longest;
    }

    private int slot(int key, int h) {
        return h * buckets + Math.floorMod(IdHashing.mix32(key ^ SEEDS[h]), buckets);
    }
}
