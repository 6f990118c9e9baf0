package io.towerflow.bench;

import io.towerflow.index.ItemIndex;
import io.towerflow.index.TopKHeaps;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;

/**
 * The alternative to {@link io.towerflow.index.FusedTopK} that the bench measures beside it:
 * libtorch products over blocks of {@link #BLOCK_ROWS} items ([B, block], never [B, N]), each
 * block copied to the heap and scanned in Java against the running per-user thresholds into
 * {@link TopKHeaps}. The transposed item blocks are made once; each block's product is still a
 * fresh native array and a fresh Java copy (DJL 0.25 has no product into a given buffer).
 */
final class DjlBlockTopK implements AutoCloseable {
    static final int BLOCK_ROWS = 8192;

    private final NDManager manager;
    private final NDArray[] blocksT;
    private final int rows;
    private final TopKHeaps heaps = new TopKHeaps();

    DjlBlockTopK(ItemIndex index) {
        this.manager = index.matrix().getManager().newSubManager();
        this.rows = index.size();
        int blocks = (rows + BLOCK_ROWS - 1) / BLOCK_ROWS;
        this.blocksT = new NDArray[blocks];
        for (int b = 0; b < blocks; b++) {
            int from = b * BLOCK_ROWS;
            int to = Math.min(rows, from + BLOCK_ROWS);
            NDArray block = index.matrix().get(new NDIndex(from + ":" + to));
            blocksT[b] = block.transpose().duplicate();
            blocksT[b].attach(manager);
            block.close();
        }
    }

    /** Top {@code k} rows of each user ({@code users}: [B, dim] on the index's device), best first. */
    ItemIndex.TopK topK(NDArray users, int k) {
        int b = (int) users.getShape().get(0);
        heaps.reset(b, Math.min(k, rows));
        float[] thr = heaps.thresholds();
        for (int blk = 0; blk < blocksT.length; blk++) {
            int from = blk * BLOCK_ROWS;
            int width = (int) blocksT[blk].getShape().get(1);
            float[] s;
            try (NDArray scores = users.matMul(blocksT[blk])) {
                s = scores.toFloatArray();
            }
            for (int u = 0; u < b; u++) {
                int o = u * width;
                for (int i = 0; i < width; i++) {
                    if (s[o + i] > thr[u]) {
                        heaps.offer(u, s[o + i], from + i);
                    }
                }
            }
        }
        return heaps.drain();
    }

    @Override
    public void close() {
        manager.close();
    }
}
