package io.towerflow.index;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Approximate top-K for large catalogues: an inverted-file index. Spherical k-means puts the
 * items into {@code lists} lists (each item in the list of its best centroid by dot product); a
 * query scores the centroids, probes its {@code nprobe} best lists and scores only their items,
 * exactly, with one {@link FusedTopK} per list (the users that probe a list are scored together),
 * leaving each user's excluded rows out inside the per-list selection as the exact kernel does.
 * Exact top-K over the probed items; what it misses are the best items in lists not probed, so
 * recall is measured against the exact kernel (the bench does). Building runs k-means over the
 * whole catalogue — seconds to minutes at 1M items — so it belongs off the processing path (the
 * model loader's thread). A changed catalogue is {@link #update updated} without k-means: items
 * whose vector is unchanged keep their list, new and changed ones go to their nearest centroid's
 * list, and the lists are re-laid aside; {@link #drift()} counts the items placed or removed that
 * way since the last k-means, so that the caller re-clusters when the lists no longer fit
 * ({@link AnnSettings#rebuildOrUpdate}).
 *
 * <p>Not thread-safe for scoring (its kernels reuse buffers); one per operator instance.
 * {@link #update} only reads what never changes (vectors, centroids, assignment), so it may run
 * on another thread while this index scores.
 */
public final class ClusteredIndex {
    private final int rows;
    private final int dim;
    /** Row-major [lists, dim], unit length. */
    private final float[] centroidVectors;
    private final FusedTopK centroids;
    private final FusedTopK[] lists;
    /** For each list, the catalogue row of each of its positions, ascending. */
    private final int[][] listRows;
    /** For each catalogue row, its list and its position in that list. */
    private final int[] listOf;
    private final int[] positionOf;
    /** Items placed in or removed from lists without k-means since the last k-means. */
    private final long drift;
    private final TopKHeaps heaps = new TopKHeaps();
    private float[] gathered = new float[0];

    private ClusteredIndex(int rows, int dim, float[] centroidVectors, int lists, float[] items, int[] assignment,
            long drift) {
        this.rows = rows;
        this.dim = dim;
        this.drift = drift;
        this.centroidVectors = centroidVectors;
        this.centroids = new FusedTopK(new ItemPanels(centroidVectors, lists, dim, FusedTopK.PANEL_WIDTH));
        int[] sizes = new int[lists];
        for (int a : assignment) {
            sizes[a]++;
        }
        this.listRows = new int[lists][];
        for (int l = 0; l < lists; l++) {
            listRows[l] = new int[sizes[l]];
        }
        this.listOf = assignment.clone();
        this.positionOf = new int[rows];
        int[] fill = new int[lists];
        for (int r = 0; r < rows; r++) {
            int l = assignment[r];
            positionOf[r] = fill[l];
            listRows[l][fill[l]++] = r;
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
        return new ClusteredIndex(rows, dim, c, lists, items, assignment, 0);
    }

    /**
     * This index for a changed catalogue ({@code items}: row-major [rows, dim]) without k-means:
     * row {@code r} keeps the list of row {@code previousRow[r]} of this index when its vector is
     * the same there, and goes to its nearest centroid's list otherwise (a new item, or one the
     * item tower now embeds differently: a changed category, say); items of this index no row
     * maps to are removed. The centroids stay; every list is re-laid aside. The result's
     * {@link #drift()} is this one's plus the items placed or removed.
     *
     * @param previousRow for each row, the row of the same item in this index, or -1
     */
    public ClusteredIndex update(float[] items, int rows, int[] previousRow) {
        if (previousRow.length != rows || (long) rows * dim > items.length) {
            throw new IllegalArgumentException(rows + " rows, " + previousRow.length + " previous rows");
        }
        int[] assignment = new int[rows];
        int[] fresh = new int[rows];
        int placed = 0;
        int kept = 0;
        for (int r = 0; r < rows; r++) {
            int p = previousRow[r];
            if (p >= 0 && p < this.rows && sameVector(items, r, p)) {
                assignment[r] = listOf[p];
                kept++;
            } else {
                fresh[placed++] = r;
            }
        }
        if (placed > 0) {
            float[] v = new float[placed * dim];
            for (int i = 0; i < placed; i++) {
                System.arraycopy(items, fresh[i] * dim, v, i * dim, dim);
            }
            int[] nearest = assign(v, placed, dim, centroidVectors, lists.length);
            for (int i = 0; i < placed; i++) {
                assignment[fresh[i]] = nearest[i];
            }
        }
        long removed = this.rows - kept;
        return new ClusteredIndex(rows, dim, centroidVectors, lists.length, items, assignment, drift + placed + removed);
    }

    /** Whether row {@code r} of {@code items} is bit for bit the vector of this index's row {@code p}. */
    private boolean sameVector(float[] items, int r, int p) {
        int l = listOf[p];
        int pos = positionOf[p];
        ItemPanels panels = lists[l].panels();
        float[] data = panels.data();
        int width = panels.width();
        int base = panels.offset(pos);
        for (int j = 0; j < dim; j++) {
            if (Float.floatToRawIntBits(data[base + j * width]) != Float.floatToRawIntBits(items[r * dim + j])) {
                return false;
            }
        }
        return true;
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

    public int dim() {
        return dim;
    }

    /** Items placed in or removed from lists by {@link #update} since the last k-means (0 after a build). */
    public long drift() {
        return drift;
    }

    /** The list of catalogue row {@code row}. */
    public int listOf(int row) {
        return listOf[row];
    }

    /**
     * The {@code k} best rows, best first, of each of {@code b} users ({@code users}: row-major
     * [b, dim]) among the items of their {@code nprobe} best lists.
     */
    public ItemIndex.TopK topK(float[] users, int b, int k, int nprobe) {
        return topK(users, b, k, nprobe, null);
    }

    /**
     * The {@code k} best rows, best first, ties to the lower row, of each of {@code b} users
     * ({@code users}: row-major [b, dim]) among the items of their {@code nprobe} best lists,
     * leaving out {@code excluded[u]} (catalogue rows sorted ascending; the array or an entry may
     * be null) inside each list's selection. A user left with fewer than {@code k} rows gets row
     * -1 in the empty places. Probing every list gives exactly the exact kernel's result.
     */
    public ItemIndex.TopK topK(float[] users, int b, int k, int nprobe, int[][] excluded) {
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
            ItemIndex.TopK top = lists[l].topK(gathered, n, kk, excludedIn(l, excluded, usersOf, perList[l], n), null);
            for (int i = 0; i < n; i++) {
                int u = usersOf[perList[l] + i];
                for (int r = 0; r < top.k() && top.row(i, r) >= 0; r++) {
                    heaps.offer(u, top.score(i, r), listRows[l][top.row(i, r)]);
                }
            }
        }
        return heaps.drain();
    }

    /**
     * For the {@code n} users gathered for list {@code l} ({@code usersOf[from..]}), their
     * excluded rows that lie in the list, as list positions (ascending, as the rows are); null
     * when none of them excludes anything there.
     */
    private int[][] excludedIn(int l, int[][] excluded, int[] usersOf, int from, int n) {
        if (excluded == null) {
            return null;
        }
        int[][] out = null;
        for (int i = 0; i < n; i++) {
            int[] ex = excluded[usersOf[from + i]];
            if (ex == null) {
                continue;
            }
            int count = 0;
            for (int row : ex) {
                count += row >= 0 && row < rows && listOf[row] == l ? 1 : 0;
            }
            if (count == 0) {
                continue;
            }
            int[] positions = new int[count];
            int c = 0;
            for (int row : ex) {
                if (row >= 0 && row < rows && listOf[row] == l) {
                    positions[c++] = positionOf[row];
                }
            }
            if (out == null) {
                out = new int[n][];
            }
            out[i] = positions;
        }
        return out;
    }
}
