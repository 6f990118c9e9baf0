package io.towerflow.index;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Exact top-K of a batch of user vectors over {@link ItemPanels}, fused in one pass with the Java
 * Vector API: no [B, N] score matrix. Items go in cache blocks of {@link #blockRows} rows; for
 * each block, every group of four users (eight with 512-bit vectors) is scored against each panel
 * of {@link #PANEL_WIDTH} items with a 4 × 2 (8 × 2) register tile of fused multiply-adds
 * (component by component, so the item panel is read once per group), then one vector compare
 * against each user's running threshold decides whether any lane needs the scalar path into
 * {@link TopKHeaps}. Past the first few panels almost none does, so selection costs next to nothing.
 * The users of each group are first copied component-major into a small tile ({@code
 * [components][8]} or {@code [components][4]}), so the inner loop's broadcasts read one base at
 * fixed offsets: read from the row-major batch, each user's component needed an index of its
 * own, more than C2 keeps in registers, and it spilled and reloaded them from the stack at every
 * component (seen in the compiled loop; docs/benchmarks.md). The tile loops take four components
 * a trip ({@link #scoreEight}).
 *
 * <p>Excluded rows (per user) and unavailable rows (for the whole batch) are left out inside the
 * selection: the kernel asks for exactly {@code k}. Each score is {@code fma} over the
 * components in order 0..dim-1, exactly as {@code Math.fma} in a scalar loop, so results do not
 * depend on the block size and ties go to the lower row.
 *
 * <p>Buffers are reused between calls; one instance per thread (one per {@link ItemIndex}).
 * Needs {@code --add-modules jdk.incubator.vector}.
 */
public final class FusedTopK {
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    /** Items per panel: two vectors, so each broadcast user component feeds two FMAs. */
    public static final int PANEL_WIDTH = 2 * LANES;
    /**
     * Whether groups of eight users are scored together (an 8 × 2 tile, 16 accumulators): with
     * 512-bit vectors (AVX-512, 32 vector registers) it fits in registers and halves the reads of
     * each block per user; with 256-bit vectors (AVX2, 16 registers) it would spill, so four.
     * {@code -Dtowerflow.fused.eight-user-tile=false} keeps groups of four (for side-by-side runs).
     */
    static final boolean EIGHT_USER_TILE = LANES >= 16
            && Boolean.parseBoolean(System.getProperty("towerflow.fused.eight-user-tile", "true"));
    /** Components the tile loops take a trip ({@link #scoreEight}), written out four times. */
    private static final int COMPONENTS_PER_TRIP = 4;
    /** Items per cache block (a block of d = 64 panels is 256 KiB: it stays in L2 across user groups). */
    public static final int DEFAULT_BLOCK_ROWS = 1024;

    /** Calls of {@link #warmUp()}'s loop: enough for C2 to compile every path of the kernel. */
    private static final int WARM_UP_CALLS = 400;
    private static final AtomicBoolean WARM = new AtomicBoolean();

    private final ItemPanels panels;
    private final int blockPanels;
    private final TopKHeaps heaps = new TopKHeaps();
    private final float[] lanes = new float[PANEL_WIDTH];
    /** The batch's users in groups, each group component-major (see {@link #tile}); reused. */
    private float[] tiles = new float[0];
    private int[][] excluded;
    private long[] unavailable;

    public FusedTopK(ItemPanels panels) {
        this(panels, DEFAULT_BLOCK_ROWS);
    }

    public FusedTopK(ItemPanels panels, int blockRows) {
        if (panels.width() != PANEL_WIDTH) {
            throw new IllegalArgumentException("panels of " + panels.width() + " rows, kernel needs " + PANEL_WIDTH);
        }
        if (panels.components() % COMPONENTS_PER_TRIP != 0) { // the tile loops have no loop for the rest
            throw new IllegalArgumentException("panels of " + panels.components()
                    + " components, kernel needs a multiple of " + COMPONENTS_PER_TRIP);
        }
        this.panels = panels;
        this.blockPanels = Math.max(1, blockRows / PANEL_WIDTH);
    }

    /**
     * Runs the kernel on a small synthetic catalogue until the JIT has compiled it, once per JVM;
     * later calls return at once. Vector API code is fast only once C2 has compiled it:
     * interpreted or in C1 it is two to three orders of magnitude slower, so the first batches of
     * a cold JVM — or any batch after a deoptimisation on a path never taken before — would stall
     * the stream. Call it where the index is built (off the processing path); every path
     * (groups of eight and four and single users, exclusions or none, unavailable rows or none) is taken.
     */
    public static void warmUp() {
        if (!WARM.compareAndSet(false, true)) {
            return;
        }
        int rows = 1000;
        int dim = 66; // not a multiple of four: the users' padding components are taken too
        int users = 13; // 13 and 12: groups of eight (512-bit vectors), of four and single users
        SplittableRandom r = new SplittableRandom(1);
        float[] items = new float[rows * dim];
        float[] vectors = new float[users * dim];
        for (int i = 0; i < items.length; i++) {
            items[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < vectors.length; i++) {
            vectors[i] = (float) r.nextGaussian();
        }
        int[][] excluded = {null, {1, 5, 900}, new int[0], {7}, null, {3, 999}, null, {2}, null, {4, 998}, {0}, null, {6}};
        long[] unavailable = new long[(rows + 63) / 64];
        unavailable[0] = 0b1010L;
        FusedTopK kernel = new FusedTopK(new ItemPanels(items, rows, dim, PANEL_WIDTH), 256);
        for (int i = 0; i < WARM_UP_CALLS; i++) {
            kernel.topK(vectors, users - (i & 1), 10 + (i & 7), (i & 2) == 0 ? excluded : null,
                    (i & 4) == 0 ? unavailable : null);
        }
    }

    /** The item panels this kernel scores. */
    public ItemPanels panels() {
        return panels;
    }

    /**
     * The {@code k} best rows of each of {@code b} users ({@code users}: row-major [b, dim]), best
     * first, ties to the lower row. {@code excluded[u]} (may be null, as may {@code excluded}):
     * rows user {@code u} must not get, sorted ascending. {@code unavailable} (may be null): a
     * bitmap of rows no user gets. Users left with fewer than {@code k} rows get row -1 in the
     * empty places.
     */
    public ItemIndex.TopK topK(float[] users, int b, int k, int[][] excluded, long[] unavailable) {
        int dim = panels.dim();
        if ((long) b * dim > users.length) {
            throw new IllegalArgumentException(b + " users of dim " + dim + " need " + (b * dim) + " floats");
        }
        int kk = Math.max(0, Math.min(k, panels.rows()));
        heaps.reset(b, kk);
        if (kk == 0 || b == 0) {
            return heaps.drain();
        }
        this.excluded = excluded;
        this.unavailable = unavailable;
        float[] t = tile(users, b, dim);
        try {
            int panelCount = panels.panels();
            for (int p0 = 0; p0 < panelCount; p0 += blockPanels) {
                int p1 = Math.min(panelCount, p0 + blockPanels);
                int u = 0;
                if (EIGHT_USER_TILE) {
                    for (; u + 8 <= b; u += 8) {
                        scoreEight(t, u, p0, p1);
                    }
                }
                for (; u + 4 <= b; u += 4) {
                    scoreFour(t, u, p0, p1);
                }
                for (; u < b; u++) {
                    scoreOne(users, u, p0, p1);
                }
            }
        } finally {
            this.excluded = null;
            this.unavailable = null;
        }
        return heaps.drain();
    }

    /**
     * The users of {@code users} (row-major [b, dim]) grouped as {@link #topK} scores them —
     * groups of eight (with {@link #EIGHT_USER_TILE}), then of four; single users are read from
     * {@code users} — each group component-major over the panels' {@link ItemPanels#components()}
     * (the padding components zero): component {@code j} of the group's user {@code k} at {@code
     * u0 * components + j * size + k}, {@code u0} being the group's first user.
     */
    private float[] tile(float[] users, int b, int dim) {
        int components = panels.components();
        if (tiles.length < b * components) {
            tiles = new float[b * components];
        }
        int u = 0;
        if (EIGHT_USER_TILE) {
            for (; u + 8 <= b; u += 8) {
                transpose(users, u, 8, dim, components);
            }
        }
        for (; u + 4 <= b; u += 4) {
            transpose(users, u, 4, dim, components);
        }
        return tiles;
    }

    private void transpose(float[] users, int u0, int size, int dim, int components) {
        int base = u0 * components;
        for (int k = 0; k < size; k++) {
            int row = (u0 + k) * dim;
            for (int j = 0; j < dim; j++) {
                tiles[base + j * size + k] = users[row + j];
            }
            for (int j = dim; j < components; j++) {
                tiles[base + j * size + k] = 0f;
            }
        }
    }

    /**
     * Four users against each panel of the block, four components a trip as in {@link
     * #scoreEight}: with 512-bit vectors (the groups left over after the groups of eight, or all of
     * them with {@code -Dtowerflow.fused.eight-user-tile=false}) 1.21 × the loop one at a time; with
     * 256-bit vectors (AVX2, 16 registers; {@code -XX:UseAVX=2}) 0.99 ×, the same within the
     * spread (docs/benchmarks.md).
     */
    private void scoreFour(float[] tile, int u0, int p0, int p1) {
        float[] items = panels.data();
        int components = panels.components();
        int t0 = u0 * components;
        float[] thr = heaps.thresholds();
        for (int p = p0; p < p1; p++) {
            int base = p * components * PANEL_WIDTH;
            FloatVector a0 = FloatVector.zero(SPECIES);
            FloatVector b0 = a0;
            FloatVector a1 = a0;
            FloatVector b1 = a0;
            FloatVector a2 = a0;
            FloatVector b2 = a0;
            FloatVector a3 = a0;
            FloatVector b3 = a0;
            for (int j = 0; j < components; j += COMPONENTS_PER_TRIP) {
                int o = base + j * PANEL_WIDTH;
                int g = t0 + j * 4;
                FloatVector x = FloatVector.fromArray(SPECIES, items, o);
                FloatVector y = FloatVector.fromArray(SPECIES, items, o + LANES);
                FloatVector w = FloatVector.broadcast(SPECIES, tile[g]);
                a0 = x.fma(w, a0);
                b0 = y.fma(w, b0);
                w = FloatVector.broadcast(SPECIES, tile[g + 1]);
                a1 = x.fma(w, a1);
                b1 = y.fma(w, b1);
                w = FloatVector.broadcast(SPECIES, tile[g + 2]);
                a2 = x.fma(w, a2);
                b2 = y.fma(w, b2);
                w = FloatVector.broadcast(SPECIES, tile[g + 3]);
                a3 = x.fma(w, a3);
                b3 = y.fma(w, b3);
                x = FloatVector.fromArray(SPECIES, items, o + PANEL_WIDTH);
                y = FloatVector.fromArray(SPECIES, items, o + PANEL_WIDTH + LANES);
                w = FloatVector.broadcast(SPECIES, tile[g + 4]);
                a0 = x.fma(w, a0);
                b0 = y.fma(w, b0);
                w = FloatVector.broadcast(SPECIES, tile[g + 5]);
                a1 = x.fma(w, a1);
                b1 = y.fma(w, b1);
                w = FloatVector.broadcast(SPECIES, tile[g + 6]);
                a2 = x.fma(w, a2);
                b2 = y.fma(w, b2);
                w = FloatVector.broadcast(SPECIES, tile[g + 7]);
                a3 = x.fma(w, a3);
                b3 = y.fma(w, b3);
                x = FloatVector.fromArray(SPECIES, items, o + 2 * PANEL_WIDTH);
                y = FloatVector.fromArray(SPECIES, items, o + 2 * PANEL_WIDTH + LANES);
                w = FloatVector.broadcast(SPECIES, tile[g + 8]);
                a0 = x.fma(w, a0);
                b0 = y.fma(w, b0);
                w = FloatVector.broadcast(SPECIES, tile[g + 9]);
                a1 = x.fma(w, a1);
                b1 = y.fma(w, b1);
                w = FloatVector.broadcast(SPECIES, tile[g + 10]);
                a2 = x.fma(w, a2);
                b2 = y.fma(w, b2);
                w = FloatVector.broadcast(SPECIES, tile[g + 11]);
                a3 = x.fma(w, a3);
                b3 = y.fma(w, b3);
                x = FloatVector.fromArray(SPECIES, items, o + 3 * PANEL_WIDTH);
                y = FloatVector.fromArray(SPECIES, items, o + 3 * PANEL_WIDTH + LANES);
                w = FloatVector.broadcast(SPECIES, tile[g + 12]);
                a0 = x.fma(w, a0);
                b0 = y.fma(w, b0);
                w = FloatVector.broadcast(SPECIES, tile[g + 13]);
                a1 = x.fma(w, a1);
                b1 = y.fma(w, b1);
                w = FloatVector.broadcast(SPECIES, tile[g + 14]);
                a2 = x.fma(w, a2);
                b2 = y.fma(w, b2);
                w = FloatVector.broadcast(SPECIES, tile[g + 15]);
                a3 = x.fma(w, a3);
                b3 = y.fma(w, b3);
            }
            int row0 = p * PANEL_WIDTH;
            // vectors never cross a call: a callee C2 did not inline would box them
            if (a0.max(b0).compare(VectorOperators.GT, thr[u0]).anyTrue()) {
                a0.intoArray(lanes, 0);
                b0.intoArray(lanes, LANES);
                offerLanes(u0, row0);
            }
            if (a1.max(b1).compare(VectorOperators.GT, thr[u0 + 1]).anyTrue()) {
                a1.intoArray(lanes, 0);
                b1.intoArray(lanes, LANES);
                offerLanes(u0 + 1, row0);
            }
            if (a2.max(b2).compare(VectorOperators.GT, thr[u0 + 2]).anyTrue()) {
                a2.intoArray(lanes, 0);
                b2.intoArray(lanes, LANES);
                offerLanes(u0 + 2, row0);
            }
            if (a3.max(b3).compare(VectorOperators.GT, thr[u0 + 3]).anyTrue()) {
                a3.intoArray(lanes, 0);
                b3.intoArray(lanes, LANES);
                offerLanes(u0 + 3, row0);
            }
        }
    }

    /**
     * Eight users against each panel of the block. The loop over components goes four at a time,
     * written out by hand: C2 does not unroll it (a body of 26 vector operations is past its
     * unrolling limit) and each trip then pays its index arithmetic, bounds checks and branch
     * next to 16 FMAs; four a trip measured 1.14–1.24 × the loop one at a time (20k / 100k / 1M
     * items, B = 64; docs/benchmarks.md), two a trip less, eight (by hand, or C2 unrolling these
     * four with {@code -XX:LoopUnrollLimit}) half as fast — out of registers. The panels and the
     * tile are padded with zero components to a multiple of four ({@link ItemPanels#components()}),
     * so no loop for the rest; each padding component adds {@code 0 * 0} to the score, which
     * changes nothing (but the sign of a zero). The order of the FMAs into each accumulator is
     * unchanged, so scores are bit-identical to {@code Math.fma} over the components in order.
     */
    private void scoreEight(float[] tile, int u0, int p0, int p1) {
        float[] items = panels.data();
        int components = panels.components();
        int t0 = u0 * components;
        float[] thr = heaps.thresholds();
        for (int p = p0; p < p1; p++) {
            int base = p * components * PANEL_WIDTH;
            FloatVector a0 = FloatVector.zero(SPECIES);
            FloatVector b0 = a0;
            FloatVector a1 = a0;
            FloatVector b1 = a0;
            FloatVector a2 = a0;
            FloatVector b2 = a0;
            FloatVector a3 = a0;
            FloatVector b3 = a0;
            FloatVector a4 = a0;
            FloatVector b4 = a0;
            FloatVector a5 = a0;
            FloatVector b5 = a0;
            FloatVector a6 = a0;
            FloatVector b6 = a0;
            FloatVector a7 = a0;
            FloatVector b7 = a0;
            for (int j = 0; j < components; j += COMPONENTS_PER_TRIP) {
                int o = base + j * PANEL_WIDTH;
                int g = t0 + j * 8;
                FloatVector x = FloatVector.fromArray(SPECIES, items, o);
                FloatVector y = FloatVector.fromArray(SPECIES, items, o + LANES);
                FloatVector w = FloatVector.broadcast(SPECIES, tile[g]);
                a0 = x.fma(w, a0);
                b0 = y.fma(w, b0);
                w = FloatVector.broadcast(SPECIES, tile[g + 1]);
                a1 = x.fma(w, a1);
                b1 = y.fma(w, b1);
                w = FloatVector.broadcast(SPECIES, tile[g + 2]);
                a2 = x.fma(w, a2);
                b2 = y.fma(w, b2);
                w = FloatVector.broadcast(SPECIES, tile[g + 3]);
                a3 = x.fma(w, a3);
                b3 = y.fma(w, b3);
                w = FloatVector.broadcast(SPECIES, tile[g + 4]);
                a4 = x.fma(w, a4);
                b4 = y.fma(w, b4);
                w = FloatVector.broadcast(SPECIES, tile[g + 5]);
                a5 = x.fma(w, a5);
                b5 = y.fma(w, b5);
                w = FloatVector.broadcast(SPECIES, tile[g + 6]);
                a6 = x.fma(w, a6);
                b6 = y.fma(w, b6);
                w = FloatVector.broadcast(SPECIES, tile[g + 7]);
                a7 = x.fma(w, a7);
                b7 = y.fma(w, b7);
                x = FloatVector.fromArray(SPECIES, items, o + PANEL_WIDTH);
                y = FloatVector.fromArray(SPECIES, items, o + PANEL_WIDTH + LANES);
                w = FloatVector.broadcast(SPECIES, tile[g + 8]);
                a0 = x.fma(w, a0);
                b0 = y.fma(w, b0);
                w = FloatVector.broadcast(SPECIES, tile[g + 9]);
                a1 = x.fma(w, a1);
                b1 = y.fma(w, b1);
                w = FloatVector.broadcast(SPECIES, tile[g + 10]);
                a2 = x.fma(w, a2);
                b2 = y.fma(w, b2);
                w = FloatVector.broadcast(SPECIES, tile[g + 11]);
                a3 = x.fma(w, a3);
                b3 = y.fma(w, b3);
                w = FloatVector.broadcast(SPECIES, tile[g + 12]);
                a4 = x.fma(w, a4);
                b4 = y.fma(w, b4);
                w = FloatVector.broadcast(SPECIES, tile[g + 13]);
                a5 = x.fma(w, a5);
                b5 = y.fma(w, b5);
                w = FloatVector.broadcast(SPECIES, tile[g + 14]);
                a6 = x.fma(w, a6);
                b6 = y.fma(w, b6);
                w = FloatVector.broadcast(SPECIES, tile[g + 15]);
                a7 = x.fma(w, a7);
                b7 = y.fma(w, b7);
                x = FloatVector.fromArray(SPECIES, items, o + 2 * PANEL_WIDTH);
                y = FloatVector.fromArray(SPECIES, items, o + 2 * PANEL_WIDTH + LANES);
                w = FloatVector.broadcast(SPECIES, tile[g + 16]);
                a0 = x.fma(w, a0);
                b0 = y.fma(w, b0);
                w = FloatVector.broadcast(SPECIES, tile[g + 17]);
                a1 = x.fma(w, a1);
                b1 = y.fma(w, b1);
                w = FloatVector.broadcast(SPECIES, tile[g + 18]);
                a2 = x.fma(w, a2);
                b2 = y.fma(w, b2);
                w = FloatVector.broadcast(SPECIES, tile[g + 19]);
                a3 = x.fma(w, a3);
                b3 = y.fma(w, b3);
                w = FloatVector.broadcast(SPECIES, tile[g + 20]);
                a4 = x.fma(w, a4);
                b4 = y.fma(w, b4);
                w = FloatVector.broadcast(SPECIES, tile[g + 21]);
                a5 = x.fma(w, a5);
                b5 = y.fma(w, b5);
                w = FloatVector.broadcast(SPECIES, tile[g + 22]);
                a6 = x.fma(w, a6);
                b6 = y.fma(w, b6);
                w = FloatVector.broadcast(SPECIES, tile[g + 23]);
                a7 = x.fma(w, a7);
                b7 = y.fma(w, b7);
                x = FloatVector.fromArray(SPECIES, items, o + 3 * PANEL_WIDTH);
                y = FloatVector.fromArray(SPECIES, items, o + 3 * PANEL_WIDTH + LANES);
                w = FloatVector.broadcast(SPECIES, tile[g + 24]);
                a0 = x.fma(w, a0);
                b0 = y.fma(w, b0);
                w = FloatVector.broadcast(SPECIES, tile[g + 25]);
                a1 = x.fma(w, a1);
                b1 = y.fma(w, b1);
                w = FloatVector.broadcast(SPECIES, tile[g + 26]);
                a2 = x.fma(w, a2);
                b2 = y.fma(w, b2);
                w = FloatVector.broadcast(SPECIES, tile[g + 27]);
                a3 = x.fma(w, a3);
                b3 = y.fma(w, b3);
                w = FloatVector.broadcast(SPECIES, tile[g + 28]);
                a4 = x.fma(w, a4);
                b4 = y.fma(w, b4);
                w = FloatVector.broadcast(SPECIES, tile[g + 29]);
                a5 = x.fma(w, a5);
                b5 = y.fma(w, b5);
                w = FloatVector.broadcast(SPECIES, tile[g + 30]);
                a6 = x.fma(w, a6);
                b6 = y.fma(w, b6);
                w = FloatVector.broadcast(SPECIES, tile[g + 31]);
                a7 = x.fma(w, a7);
                b7 = y.fma(w, b7);
            }
            int row0 = p * PANEL_WIDTH;
            if (a0.max(b0).compare(VectorOperators.GT, thr[u0 + 0]).anyTrue()) {
                a0.intoArray(lanes, 0);
                b0.intoArray(lanes, LANES);
                offerLanes(u0 + 0, row0);
            }
            if (a1.max(b1).compare(VectorOperators.GT, thr[u0 + 1]).anyTrue()) {
                a1.intoArray(lanes, 0);
                b1.intoArray(lanes, LANES);
                offerLanes(u0 + 1, row0);
            }
            if (a2.max(b2).compare(VectorOperators.GT, thr[u0 + 2]).anyTrue()) {
                a2.intoArray(lanes, 0);
                b2.intoArray(lanes, LANES);
                offerLanes(u0 + 2, row0);
            }
            if (a3.max(b3).compare(VectorOperators.GT, thr[u0 + 3]).anyTrue()) {
                a3.intoArray(lanes, 0);
                b3.intoArray(lanes, LANES);
                offerLanes(u0 + 3, row0);
            }
            if (a4.max(b4).compare(VectorOperators.GT, thr[u0 + 4]).anyTrue()) {
                a4.intoArray(lanes, 0);
                b4.intoArray(lanes, LANES);
                offerLanes(u0 + 4, row0);
            }
            if (a5.max(b5).compare(VectorOperators.GT, thr[u0 + 5]).anyTrue()) {
                a5.intoArray(lanes, 0);
                b5.intoArray(lanes, LANES);
                offerLanes(u0 + 5, row0);
            }
            if (a6.max(b6).compare(VectorOperators.GT, thr[u0 + 6]).anyTrue()) {
                a6.intoArray(lanes, 0);
                b6.intoArray(lanes, LANES);
                offerLanes(u0 + 6, row0);
            }
            if (a7.max(b7).compare(VectorOperators.GT, thr[u0 + 7]).anyTrue()) {
                a7.intoArray(lanes, 0);
                b7.intoArray(lanes, LANES);
                offerLanes(u0 + 7, row0);
            }
        }
    }

    /** One user: two panels at a time, so four independent FMA chains hide the FMA latency. */
    private void scoreOne(float[] users, int u, int p0, int p1) {
        float[] items = panels.data();
        int dim = panels.dim();
        int ou = u * dim;
        int panelSize = panels.components() * PANEL_WIDTH;
        float[] thr = heaps.thresholds();
        int p = p0;
        for (; p + 2 <= p1; p += 2) {
            int base = p * panelSize;
            FloatVector a = FloatVector.zero(SPECIES);
            FloatVector c = a;
            FloatVector e = a;
            FloatVector g = a;
            for (int j = 0; j < dim; j++) {
                int o = base + j * PANEL_WIDTH;
                FloatVector w = FloatVector.broadcast(SPECIES, users[ou + j]);
                a = FloatVector.fromArray(SPECIES, items, o).fma(w, a);
                c = FloatVector.fromArray(SPECIES, items, o + LANES).fma(w, c);
                e = FloatVector.fromArray(SPECIES, items, o + panelSize).fma(w, e);
                g = FloatVector.fromArray(SPECIES, items, o + panelSize + LANES).fma(w, g);
            }
            if (a.max(c).compare(VectorOperators.GT, thr[u]).anyTrue()) {
                a.intoArray(lanes, 0);
                c.intoArray(lanes, LANES);
                offerLanes(u, p * PANEL_WIDTH);
            }
            if (e.max(g).compare(VectorOperators.GT, thr[u]).anyTrue()) {
                e.intoArray(lanes, 0);
                g.intoArray(lanes, LANES);
                offerLanes(u, (p + 1) * PANEL_WIDTH);
            }
        }
        if (p < p1) {
            int base = p * panelSize;
            FloatVector a = FloatVector.zero(SPECIES);
            FloatVector c = a;
            for (int j = 0; j < dim; j++) {
                int o = base + j * PANEL_WIDTH;
                FloatVector w = FloatVector.broadcast(SPECIES, users[ou + j]);
                a = FloatVector.fromArray(SPECIES, items, o).fma(w, a);
                c = FloatVector.fromArray(SPECIES, items, o + LANES).fma(w, c);
            }
            if (a.max(c).compare(VectorOperators.GT, thr[u]).anyTrue()) {
                a.intoArray(lanes, 0);
                c.intoArray(lanes, LANES);
                offerLanes(u, p * PANEL_WIDTH);
            }
        }
    }

    /**
     * The rare scalar path: the lanes of one panel ({@link #lanes}, rows {@code row0..}) that beat
     * user {@code u}'s threshold go to the heap, unless excluded, unavailable or padding.
     */
    private void offerLanes(int u, int row0) {
        float[] thr = heaps.thresholds();
        int rows = panels.rows();
        int[] ex = excluded == null ? null : excluded[u];
        for (int i = 0; i < PANEL_WIDTH; i++) {
            int row = row0 + i;
            float s = lanes[i];
            if (s > thr[u] && row < rows
                    && (ex == null || Arrays.binarySearch(ex, row) < 0)
                    && (unavailable == null || (unavailable[row >>> 6] & (1L << row)) == 0)) {
                heaps.offer(u, s, row);
            }
        }
    }
}
