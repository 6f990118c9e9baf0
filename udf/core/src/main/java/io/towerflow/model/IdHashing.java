package io.towerflow.model;

/**
 * Stable hashing of string ids to embedding rows. {@link String#hashCode()} is fixed by the Java
 * specification, so a bucket is the same in every JVM, process and version; the murmur3 finalizer
 * spreads ids that differ in a few low bits (sequential numeric ids) over the whole table. A
 * missing id (null) hashes as the empty string.
 */
public final class IdHashing {
    private IdHashing() {}

    /** The row of {@code id} in a table of {@code buckets} rows. */
    public static int bucket(String id, int buckets) {
        return Math.floorMod(mix32(id == null ? 0 : id.hashCode()), buckets);
    }

    /** murmur3's 32-bit finalizer (fmix32). */
    public static int mix32(int h) {
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        h ^= h >>> 16;
        return h;
    }
}
