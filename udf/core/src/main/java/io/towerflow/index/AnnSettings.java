package io.towerflow.index;

import java.io.Serializable;

/**
 * When and how a catalogue is served through the approximate {@link ClusteredIndex} instead of
 * the exact kernel, and when its lists are re-clustered.
 *
 * @param minItems catalogues of at least this many items get the approximate index; smaller ones
 *     are scored exactly ({@link Integer#MAX_VALUE}: never)
 * @param lists k-means lists; 0 derives them from the size ({@link #listsFor})
 * @param probes lists each user's items are drawn from
 * @param rebuildFraction catalogue changes update the index without re-clustering (new and
 *     changed items go to their nearest centroid's list, removed items leave theirs) until the
 *     items assigned or removed that way since the last k-means exceed this fraction of the
 *     catalogue; then the next change re-runs k-means (both on the model loader's thread)
 * @param iterations k-means rounds of a full build
 * @param seed seed of the k-means starting centroids (same vectors and seed: same index)
 */
public record AnnSettings(int minItems, int lists, int probes, double rebuildFraction, int iterations, long seed)
        implements Serializable {
    /** Exact scoring whatever the size. */
    public static final AnnSettings OFF = new AnnSettings(Integer.MAX_VALUE, 0, 16, 0.2, 4, 1);

    public AnnSettings {
        if (minItems <= 0 || lists < 0 || probes <= 0 || rebuildFraction < 0 || iterations < 0) {
            throw new IllegalArgumentException("bad approximate index settings: min-items " + minItems
                    + ", lists " + lists + ", probes " + probes + ", rebuild-fraction " + rebuildFraction
                    + ", iterations " + iterations);
        }
    }

    /** Whether a catalogue of {@code items} items is served approximately. */
    public boolean appliesTo(int items) {
        return items >= minItems;
    }

    /**
     * The lists for {@code items} items: {@link #lists} if set, else the power of two nearest
     * above √items (1,024 at a million: about a thousand items a list), at most {@code items}.
     */
    public int listsFor(int items) {
        int l = lists > 0 ? lists : Integer.highestOneBit(Math.max(1, (int) Math.ceil(Math.sqrt(items)) - 1)) << 1;
        return Math.max(1, Math.min(l, items));
    }

    /** A full k-means build over {@code items} (row-major [rows, dim]). */
    public ClusteredIndex build(float[] items, int rows, int dim) {
        return ClusteredIndex.build(items, rows, dim, listsFor(rows), iterations, seed);
    }

    /**
     * The index of a changed catalogue: {@code previous} updated in place of a rebuild
     * ({@link ClusteredIndex#update}) while its drift stays within {@link #rebuildFraction}, else
     * a full build; a full build too when there is no previous index or its dimension differs.
     *
     * @param previousRow for each row of {@code items}, the row of the same item in
     *     {@code previous}'s catalogue, or -1 for an item it did not hold
     */
    public ClusteredIndex rebuildOrUpdate(ClusteredIndex previous, float[] items, int rows, int dim, int[] previousRow) {
        if (previous == null || previous.dim() != dim) {
            return build(items, rows, dim);
        }
        ClusteredIndex updated = previous.update(items, rows, previousRow);
        return updated.drift() > rebuildFraction * rows ? build(items, rows, dim) : updated;
    }
}
