package io.towerflow.index;

import java.util.Arrays;

/**
 * One bounded min-heap of (score, row) per user, with the running threshold a candidate must
 * beat. Order: higher score first, then lower row — so results do not depend on how the items
 * were split into blocks. The heap root is the worst entry kept; once a heap holds {@code k}
 * entries its threshold is the root's score (before: -infinity). A kernel that visits rows in
 * ascending order may skip every score {@code <= threshold}: an equal score of a later row never
 * beats the root.
 *
 * <p>Buffers grow to the largest batch seen and are reused; not thread-safe.
 */
public final class TopKHeaps {
    private float[] scores = new float[0];
    private int[] rows = new int[0];
    private int[] sizes = new int[0];
    private float[] thresholds = new float[0];
    private int users;
    private int k;

    /** Empties the heaps for {@code users} users keeping {@code k} entries each. */
    public void reset(int users, int k) {
        if (users < 0 || k < 0) {
            throw new IllegalArgumentException("users " + users + ", k " + k);
        }
        int cells = users * k;
        if (scores.length < cells) {
            scores = new float[cells];
            rows = new int[cells];
        }
        if (sizes.length < users) {
            sizes = new int[users];
            thresholds = new float[users];
        }
        this.users = users;
        this.k = k;
        Arrays.fill(sizes, 0, users, 0);
        Arrays.fill(thresholds, 0, users, k == 0 ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY);
    }

    /** The live thresholds, indexed by user; read by kernels before calling {@link #offer}. */
    public float[] thresholds() {
        return thresholds;
    }

    /** Keeps (score, row) for {@code user} if it beats the worst kept entry or the heap is not full. */
    public void offer(int user, float score, int row) {
        int base = user * k;
        int n = sizes[user];
        if (n < k) {
            int i = n;
            while (i > 0) { // sift up: the parent must be worse than the new entry
                int parent = (i - 1) >>> 1;
                if (!worse(score, row, scores[base + parent], rows[base + parent])) {
                    break;
                }
                scores[base + i] = scores[base + parent];
                rows[base + i] = rows[base + parent];
                i = parent;
            }
            scores[base + i] = score;
            rows[base + i] = row;
            sizes[user] = ++n;
            if (n == k) {
                thresholds[user] = scores[base];
            }
            return;
        }
        if (k == 0 || !worse(scores[base], rows[base], score, row)) {
            return;
        }
        siftDown(base, k, score, row); // replaces the root
        thresholds[user] = scores[base];
    }

    /** Whether (s1, r1) ranks below (s2, r2): lower score, or the same score and a higher row. */
    static boolean worse(float s1, int r1, float s2, int r2) {
        return s1 < s2 || (s1 == s2 && r1 > r2);
    }

    /**
     * The kept entries, best first, as a {@link ItemIndex.TopK} of width {@code k}; a user with
     * fewer than {@code k} entries (a catalogue smaller than k after exclusions) gets row -1 and
     * score -infinity in the empty places.
     */
    public ItemIndex.TopK drain() {
        int[] outRows = new int[users * k];
        float[] outScores = new float[users * k];
        for (int u = 0; u < users; u++) {
            int base = u * k;
            int n = sizes[u];
            // heap-sort in place: repeatedly move the worst to the end of the live range
            for (int end = n - 1; end > 0; end--) {
                float s = scores[base + end];
                int r = rows[base + end];
                scores[base + end] = scores[base];
                rows[base + end] = rows[base];
                siftDown(base, end, s, r);
            }
            for (int i = 0; i < k; i++) {
                outRows[base + i] = i < n ? rows[base + i] : -1;
                outScores[base + i] = i < n ? scores[base + i] : Float.NEGATIVE_INFINITY;
            }
        }
        return new ItemIndex.TopK(users, k, outRows, outScores);
    }

    private void siftDown(int base, int size, float score, int row) {
        int i = 0;
        while (true) {
            int l = 2 * i + 1;
            if (l >= size) {
                break;
            }
            int w = l;
            if (l + 1 < size && worse(scores[base + l + 1], rows[base + l + 1], scores[base + l], rows[base + l])) {
                w = l + 1;
            }
            if (!worse(scores[base + w], rows[base + w], score, row)) {
                break;
            }
            scores[base + i] = scores[base + w];
            rows[base + i] = rows[base + w];
            i = w;
        }
        scores[base + i] = score;
        rows[base + i] = row;
    }
}
