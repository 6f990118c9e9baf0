package io.towerflow.index;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Approximate top-K for large catalogues: an inverted-file index. Spherical k-means puts the
 * items into {@code lists} lists (each item in the list of its best centroid by dot product); a
 * query scores the centroids, probes its {@code nprobe} best lists and scores only their items,
 * exactly, with one {@link FusedTopK} per list (the users that probe a list are scored together).
 * Exact top-K over the probed items; what it misses are the best items in lists not probed, so
 * recall is measured against the exact kernel (the bench does). Building runs k-means over the
 * whole catalogue — seconds to minutes at 1M items — so it belongs off the processing path (the
 * loader thread, or {@code train} into the artifact); no exclusions yet.
 *
 * <p>Not thread-safe (its kernels reuse buffers); one per operator instance.
 */
public final class ClusteredIndex {
    private final int rows;
    private final int dim;
    private final FusedTopK centroids;
    private final FusedTopK[] lists;
    /** For each list, the catalogue row of each of its positions. */
    private final int[][] listRows;
    private final TopKHeaps heaps = new TopKHeaps();
    private float[] gathered = new float[0];

    private ClusteredIndex(int rows, int dim, float[] centroidVectors, int lists, float[] items, int[] assignment) {
        this.rows = rows;
        this.dim = dim;
        this.centroids = new FusedTopK(new ItemPanels(centroidVectors, lists, dim, FusedTopK.PANEL_WIDTH));
        int[] sizes = new int[lists];
        for (int a : assignment) {
            sizes[a]++;
        }
        this.listRows = new int[lists][];
        for (int l = 0; l < lists; l++) {
            listRows[l] = new int[sizes[l]];
        }
        int[] fill = new int[lists];
        for (int r = 0; r < rows; r++) {
            listRows[assignment[r]][fill[assignment[r]]++] = r;
        }
        this.lists = new FusedTopK[lists];
        for (int l = 0; l < lists; l++) {
            float[] v = new float[Math.max(1, sizes[l]) * dim];
            for (int i = 0; i < sizes[l]; i++) {
                System.arraycopy(items, listRows[l][i] * dim, v, i * dim, dim);
            }
            this.lists[l] = new FusedTopK(new ItemPanels(v, sizes[l], dim, FusedTopK.PANEL_WIDTH));
        }
    }

    /**
     * Clusters {@code items} (row-major [rows, dim]) into {@code lists} lists with
     * {@code iterations} rounds of spherical k-means from {@code lists} distinct seeded items.
     */
    public static ClusteredIndex build(float[] items, int rows, int dim, int lists, int iterations, long seed) {
        if (lists <= 0 || lists > rows) {
            throw new IllegalArgumentException(lists + " lists for " + rows + " items");
        }
        SplittableRandom random = new SplittableRandom(seed);
        float[] c = new float[lists * dim];
        int[] start = random.ints(0, rows).distinct().limit(lists).toArray();
        for (int l = 0; l < lists; l++) {
            System.arraycopy(items, start[l] * dim, c, l * dim, dim);
        }
        int[] assignment = assign(items, rows, dim, c, lists);
        for (int it = 0; it < iterations; it++) {
            float[] sum = new float[lists * dim];
            int[] count = new int[lists];
            for (int r = 0; r < rows; r++) {
                int a = assignment[r];
                count[a]++;
                for (int j = 0; j < dim; j++) {
                    sum[a * dim + j] += items[r * dim + j];
                }
            }
            for (int l = 0; l < lists; l++) {
                if (count[l] == 0) { // an empty list takes a random item as its centroid
                    System.arraycopy(items, random.nextInt(rows) * dim, sum, l * dim, dim);
                }
                double norm = 0;
                for (int j = 0; j < dim; j++) {
                    norm += (double) sum[l * dim + j] * sum[l * dim + j];
                }
                float inv = norm > 0 ? (float) (1 / Math.sqrt(norm)) : 0f;
                for (int j = 0; j < dim; j++) {
                    c[l * dim + j] = sum[l * dim + j] * inv;
                }
            }
            assignment = assign(items, rows, dim, c, lists);
        }
        return new ClusteredIndex(rows, dim, c, lists, items, assignment);
    }

    /** The best centroid of every item, scored with the fused kernel in batches of items. */
    private static int[] assign(float[] items, int rows, int dim, float[] centroids, int lists) {
        FusedTopK kernel = new FusedTopK(new ItemPanels(centroids, lists, dim, FusedTopK.PANEL_WIDTH));
        int[] out = new int[rows];
        int batch = 256;
        float[] buf = new float[batch * dim];
        for (int from = 0; from < rows; from += batch) {
            int b = Math.min(batch, rows - from);
            System.arraycopy(items, from * dim, buf, 0, b * dim);
            ItemIndex.TopK top = kernel.topK(buf, b, 1, null, null);
            for (int i = 0; i < b; i++) {
                out[from + i] = top.row(i, 0);
            }
        }
        return out;
    }

    public int lists() {
        return lists.length;
    }

    public int size() {
        return rows;
    }

    /**
     * The {@code k} best rows, best first, of each of {@code b} users ({@code users}: row-major
     * [b, dim]) among the items of their {@code nprobe} best lists.
     */
    public ItemIndex.TopK topK(float[] users, int b, int k, int nprobe) {
        int probes = Math.min(nprobe, lists.length);
        ItemIndex.TopK probe = centroids.topK(users, b, probes, null, null);
        int[] perList = new int[lists.length + 1];
        for (int i = 0; i < b * probes; i++) {
            perList[probe.rows()[i] + 1]++;
        }
        for (int l = 0; l < lists.length; l++) {
            perList[l + 1] += perList[l];
        }
        int[] usersOf = new int[b * probes];
        int[] fill = Arrays.copyOf(perList, lists.length);
        for (int u = 0; u < b; u++) {
            for (int p = 0; p < probes; p++) {
                int l = probe.row(u, p);
                usersOf[fill[l]++] = u;
            }
        }
        int kk = Math.min(k, rows);
        heaps.reset(b, kk);
        for (int l = 0; l < lists.length; l++) {
            int n = perList[l + 1] - perList[l];
            if (n == 0 || listRows[l].length == 0) {
                continue;
            }
            if (gathered.length < n * dim) {
                gathered = new float[Math.max(n * dim, gathered.length * 2)];
            }
            for (int i = 0; i < n; i++) {
                System.arraycopy(users, usersOf[perList[l] + i] * dim, gathered, i * dim, dim);
            }
            ItemIndex.TopK top = lists[l].topK(gathered, n, kk, null, null);
            for (int i = 0; i < n; i++) {
                int u = usersOf[perList[l] + i];
                for (int r = 0; r < top.k() && top.row(i, r) >= 0; r++) {
                    heaps.offer(u, top.score(i, r), listRows[l][top.row(i, r)]);
                }
            }
        }
        return heaps.drain();
    }
}
