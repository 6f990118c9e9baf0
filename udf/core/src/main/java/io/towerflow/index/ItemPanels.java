package io.towerflow.index;

/**
 * The item matrix re-laid for {@link FusedTopK}: items in panels of {@code width} consecutive
 * rows, each panel stored dimension-major ({@code data[(p * dim + j) * width + lane]} is
 * component {@code j} of row {@code p * width + lane}), so that one vector load reads component
 * {@code j} of {@code width} items. The last panel is padded with zero rows; rows at or above
 * {@link #rows()} must never be reported.
 */
public final class ItemPanels {
    private final float[] data;
    private final int rows;
    private final int dim;
    private final int width;

    /** Copies {@code matrix} (row-major [rows, dim]) into panels of {@code width} rows. */
    public ItemPanels(float[] matrix, int rows, int dim, int width) {
        if (rows < 0 || dim <= 0 || width <= 0 || (long) rows * dim > matrix.length) {
            throw new IllegalArgumentException("bad shape: rows " + rows + ", dim " + dim + ", width " + width);
        }
        int panels = (rows + width - 1) / width;
        long size = (long) panels * dim * width;
        if (size > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("item matrix too large for one array: " + rows + " x " + dim);
        }
        this.rows = rows;
        this.dim = dim;
        this.width = width;
        this.data = new float[(int) size];
        for (int r = 0; r < rows; r++) {
            int base = (r / width) * dim * width + r % width;
            int src = r * dim;
            for (int j = 0; j < dim; j++) {
                data[base + j * width] = matrix[src + j];
            }
        }
    }

    public float[] data() {
        return data;
    }

    public int rows() {
        return rows;
    }

    public int dim() {
        return dim;
    }

    public int width() {
        return width;
    }

    public int panels() {
        return (rows + width - 1) / width;
    }
}
