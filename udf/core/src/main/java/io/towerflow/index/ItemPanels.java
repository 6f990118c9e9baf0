package io.towerflow.index;

/**
 * The item matrix re-laid for {@link FusedTopK}: items in panels of {@code width} consecutive
 * rows, each panel stored dimension-major ({@code data[(p * components + j) * width + lane]} is
 * component {@code j} of row {@code p * width + lane}), so that one vector load reads component
 * {@code j} of {@code width} items. The last panel is padded with zero rows; rows at or above
 * {@link #rows()} must never be reported. The components are padded with zeros to a multiple of
 * {@link #COMPONENT_MULTIPLE} ({@link #components()}), so that a kernel may take that many a trip
 * without a loop for the rest.
 */
public final class ItemPanels {
    /** {@link #components()} is a multiple of this. */
    public static final int COMPONENT_MULTIPLE = 4;

    private final float[] data;
    private final int rows;
    private final int dim;
    private final int components;
    private final int width;

    /** Copies {@code matrix} (row-major [rows, dim]) into panels of {@code width} rows. */
    public ItemPanels(float[] matrix, int rows, int dim, int width) {
        this(rows, dim, width);
        if ((long) rows * dim > matrix.length) {
            throw new IllegalArgumentException("bad shape: rows " + rows + ", dim " + dim + ", width " + width);
        }
        copyRows(matrix, 0, rows);
    }

    private ItemPanels(int rows, int dim, int width) {
        if (rows < 0 || dim <= 0 || width <= 0) {
            throw new IllegalArgumentException("bad shape: rows " + rows + ", dim " + dim + ", width " + width);
        }
        int panels = (rows + width - 1) / width;
        int components = (dim + COMPONENT_MULTIPLE - 1) / COMPONENT_MULTIPLE * COMPONENT_MULTIPLE;
        long size = (long) panels * components * width;
        if (size > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("item matrix too large for one array: " + rows + " x " + dim);
        }
        this.rows = rows;
        this.dim = dim;
        this.components = components;
        this.width = width;
        this.data = new float[(int) size];
    }

    /** Rows {@code [from, to)} of a row-major [rows, dim] matrix, as a row-major float array. */
    @FunctionalInterface
    public interface RowSource {
        float[] rows(int from, int to);
    }

    /**
     * Panels filled from {@code source} {@code chunkRows} rows at a time: besides the panels
     * themselves only one chunk is ever held, never a row-major copy of the whole matrix. An index
     * build (every model swap, every catalogue change) would otherwise make two such copies
     * (libtorch's bytes and the floats), each as large as the panels: short-lived arrays that the
     * G1 collector allocates as humongous regions, each able to start a collection on its own.
     */
    public static ItemPanels fromChunks(int rows, int dim, int width, int chunkRows, RowSource source) {
        if (chunkRows <= 0) {
            throw new IllegalArgumentException("chunkRows must be > 0");
        }
        ItemPanels p = new ItemPanels(rows, dim, width);
        for (int from = 0; from < rows; from += chunkRows) {
            int to = Math.min(rows, from + chunkRows);
            float[] chunk = source.rows(from, to);
            if (chunk.length < (to - from) * dim) {
                throw new IllegalArgumentException("rows " + from + ".." + to + " came as " + chunk.length + " floats");
            }
            p.copyRows(chunk, from, to - from);
        }
        return p;
    }

    /** Copies {@code n} rows of {@code chunk} (row-major) to rows {@code first..first+n-1}. */
    private void copyRows(float[] chunk, int first, int n) {
        for (int i = 0; i < n; i++) {
            int r = first + i;
            int base = offset(r);
            int src = i * dim;
            for (int j = 0; j < dim; j++) {
                data[base + j * width] = chunk[src + j];
            }
        }
    }

    /** Where component 0 of {@code row} is in {@link #data()}; component {@code j} is {@code j * width} further. */
    public int offset(int row) {
        return (row / width) * components * width + row % width;
    }

    public float[] data() {
        return data;
    }

    public int rows() {
        return rows;
    }

    /** The items' components. */
    public int dim() {
        return dim;
    }

    /**
     * The components each panel stores: {@link #dim()} padded with zeros to a multiple of {@link
     * #COMPONENT_MULTIPLE}.
     */
    public int components() {
        return components;
    }

    public int width() {
        return width;
    }

    public int panels() {
        return (rows + width - 1) / width;
    }
}
