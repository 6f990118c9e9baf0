package io.towerflow.index;

import io.towerflow.model.ServingModel;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;

import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * The item side of serving: an item matrix [N, dim] of L2-normalised item vectors on the model's
 * device, the item id of each row and each item's popularity (interaction count). Scoring a batch
 * of user vectors is one matrix product against the matrix and one top-K.
 *
 * <p>Rows are positions in one fixed catalogue; an index never changes. Catalogue changes build a
 * new index off the processing path ({@code ServingModel.prepareCatalogue}, on the model loader's
 * thread) which is swapped in between batches, and the old one is closed.
 *
 * <p>Not thread-safe for scoring; one per operator instance.
 */
public final class ItemIndex implements AutoCloseable {
    /** Largest score matrix (users × items) computed at once; bigger batches go in row chunks. */
    static final long MAX_SCORES_PER_PRODUCT = 64L << 20;
    /**
     * Largest slice of the matrix copied to the heap at once while building the fused kernel's
     * panels: under half the smallest G1 region (regions are 1 MiB or more), so that no copy is a
     * humongous object.
     */
    static final int PANEL_COPY_BYTES = 256 << 10;

    private final String[] ids;
    private final long[] counts;
    private final NDArray matrix;
    private final int[] popularOrder;
    private final Map<String, Integer> rowOf;
    private final long maxScoresPerProduct;
    /** The serving kernel over a panel copy of the matrix; null without the Vector API. */
    private final FusedTopK fused;
    /** The approximate index over the same rows, for large catalogues; null when scored exactly. */
    private ClusteredIndex approximate;
    private int probes;

    /**
     * Takes ownership of {@code matrix} ([ids.length, dim]); it is closed with the index.
     *
     * @param counts popularity of each row (interactions in training)
     */
    public ItemIndex(String[] ids, long[] counts, NDArray matrix) {
        this(ids, counts, matrix, MAX_SCORES_PER_PRODUCT);
    }

    ItemIndex(String[] ids, long[] counts, NDArray matrix, long maxScoresPerProduct) {
        if (maxScoresPerProduct <= 0) {
            throw new IllegalArgumentException("maxScoresPerProduct must be > 0");
        }
        this.maxScoresPerProduct = maxScoresPerProduct;
        if (ids.length != counts.length) {
            throw new IllegalArgumentException("ids and counts differ in length");
        }
        if (matrix.getShape().dimension() != 2 || matrix.getShape().get(0) != ids.length) {
            throw new IllegalArgumentException(
                    "item matrix " + matrix.getShape() + " does not have " + ids.length + " rows");
        }
        this.ids = ids.clone();
        this.counts = counts.clone();
        this.matrix = matrix;
        this.rowOf = new HashMap<>(ids.length * 2);
        for (int i = 0; i < ids.length; i++) {
            rowOf.put(ids[i], i);
        }
        this.popularOrder = IntStream.range(0, ids.length)
                .boxed()
                .sorted(Comparator.<Integer>comparingLong(i -> -this.counts[i]).thenComparingInt(i -> i))
                .mapToInt(Integer::intValue)
                .toArray();
        this.fused = ScoringKernel.vectorApiAvailable() ? fusedKernel(matrix) : null;
    }

    private static FusedTopK fusedKernel(NDArray matrix) {
        int rows = (int) matrix.getShape().get(0);
        int dim = (int) matrix.getShape().get(1);
        FusedTopK.warmUp(); // once per JVM, here where indexes are built: off the processing path
        // the matrix comes over in slices, never whole: see ItemPanels.fromChunks
        int chunkRows = Math.max(1, PANEL_COPY_BYTES / (dim * Float.BYTES));
        return new FusedTopK(ItemPanels.fromChunks(rows, dim, FusedTopK.PANEL_WIDTH, chunkRows, (from, to) -> {
            try (NDArray slice = matrix.get(new NDIndex(from + ":" + to))) {
                return slice.toFloatArray();
            }
        }));
    }

    /** Whether {@link #topK(float[], int, int, int[][])} is available (the JVM has the Vector API). */
    public boolean hasFusedKernel() {
        return fused != null;
    }

    /**
     * The serving kernel: the {@code k} best rows for each of {@code users} user vectors
     * ({@code userVectors}: row-major [users, dim]), best first, ties to the lower row, leaving
     * out {@code excludedRows[u]} (rows sorted ascending; the array or an entry may be null) inside
     * the selection. A user left with fewer than {@code k} rows gets row -1 in the empty places.
     * Exact: the same rows as {@link #topK(NDArray, int)} up to float rounding of the products.
     *
     * @throws IllegalStateException when the JVM lacks {@code --add-modules jdk.incubator.vector}
     */
    public TopK topK(float[] userVectors, int users, int k, int[][] excludedRows) {
        if (fused == null) {
            throw new IllegalStateException("the fused kernel needs --add-modules jdk.incubator.vector");
        }
        return fused.topK(userVectors, users, k, excludedRows, null);
    }

    /**
     * Serves this index's rows through {@code index} (built over the same rows, in the same
     * order) probing {@code probes} lists, from the thread that publishes this index; returns it.
     */
    public ItemIndex withApproximate(ClusteredIndex index, int probes) {
        if (index.size() != ids.length || index.dim() != dim()) {
            throw new IllegalArgumentException("approximate index of " + index.size() + " x " + index.dim()
                    + " for " + ids.length + " x " + dim() + " items");
        }
        if (probes <= 0) {
            throw new IllegalArgumentException("probes must be > 0");
        }
        this.approximate = index;
        this.probes = probes;
        return this;
    }

    /** The approximate index over these rows, or null when the catalogue is scored exactly. */
    public ClusteredIndex approximate() {
        return approximate;
    }

    /**
     * {@link #topK(float[], int, int, int[][])} through the {@link #approximate()} index: the
     * same contract (exclusions inside the selection, row -1 in empty places), among the items
     * of each user's best lists.
     *
     * @throws IllegalStateException when there is no approximate index
     */
    public TopK approximateTopK(float[] userVectors, int users, int k, int[][] excludedRows) {
        if (approximate == null) {
            throw new IllegalStateException("no approximate index");
        }
        return approximate.topK(userVectors, users, k, probes, excludedRows);
    }

    public int size() {
        return ids.length;
    }

    public int dim() {
        return (int) matrix.getShape().get(1);
    }

    public String id(int row) {
        return ids[row];
    }

    public long count(int row) {
        return counts[row];
    }

    /** Row of an item id, or -1. */
    public int rowOf(String id) {
        Integer r = rowOf.get(id);
        return r == null ? -1 : r;
    }

    /** Row of the {@code rank}-th most popular item (by count, ties by row). */
    public int popularRow(int rank) {
        return popularOrder[rank];
    }

    /** The item matrix [N, dim]; owned by the index, do not close. */
    public NDArray matrix() {
        return matrix;
    }

    /**
     * The naive reference kernel: the {@code k} best rows for each user vector ([B, dim], on the index's device), best first.
     * {@code k} is capped at {@link #size()}. Temporary arrays belong to {@code userVectors}'
     * manager and are closed here.
     */
    public TopK topK(NDArray userVectors, int k) {
        int b = (int) userVectors.getShape().get(0);
        int kk = Math.min(k, ids.length);
        int[] rows = new int[b * kk];
        float[] scores = new float[b * kk];
        if (kk == 0 || b == 0) {
            return new TopK(b, kk, rows, scores);
        }
        int chunk = (int) Math.max(1, Math.min(b, maxScoresPerProduct / ids.length));
        try (NDArray itemsT = matrix.transpose()) {
            for (int from = 0; from < b; from += chunk) {
                int to = Math.min(b, from + chunk);
                NDArray users = chunk >= b ? userVectors : userVectors.get(new NDIndex(from + ":" + to));
                try (NDArray all = users.matMul(itemsT)) {
                    NDList top = all.topK(kk, 1, true, true);
                    try {
                        float[] s = top.get(0).toFloatArray();
                        long[] r = top.get(1).toLongArray();
                        System.arraycopy(s, 0, scores, from * kk, s.length);
                        for (int i = 0; i < r.length; i++) {
                            rows[from * kk + i] = (int) r[i];
                        }
                    } finally {
                        top.close();
                    }
                } finally {
                    if (users != userVectors) {
                        users.close();
                    }
                }
            }
        }
        return new TopK(b, kk, rows, scores);
    }

    @Override
    public void close() {
        matrix.close();
    }

    /** Top-K result: for user {@code u}, entries {@code u*k .. u*k+k-1}, best first. */
    public record TopK(int users, int k, int[] rows, float[] scores) {
        public int row(int user, int rank) {
            return rows[user * k + rank];
        }

        public float score(int user, int rank) {
            return scores[user * k + rank];
        }

        @Override
        public String toString() {
            return "TopK[users=" + users + ", k=" + k + ", rows=" + Arrays.toString(rows) + "]";
        }
    }
}
