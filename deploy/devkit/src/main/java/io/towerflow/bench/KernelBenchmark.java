package io.towerflow.bench;

import io.towerflow.index.ItemIndex;
import io.towerflow.model.IntraOpThreads;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.concurrent.TimeUnit;

/**
 * One batch of {@code batch} user vectors scored against {@code items} synthetic unit item vectors
 * (d = 64) for the top {@code k}: {@code naive} ({@link ItemIndex#topK(NDArray, int)}: one product
 * into a [B, N] matrix, then torch.topk), {@code fused} ({@link ItemIndex#topK(float[], int, int,
 * int[][])}, the serving kernel) or {@code djlBlocks} ({@link DjlBlockTopK}). Throughput is batches per second; users per second is that times {@code batch}.
 * Eight different user batches are cycled so no batch stays in cache.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class KernelBenchmark {
    private static final int BATCHES = 8;

    @Param({"20000", "100000", "1000000"})
    public int items;

    @Param({"1", "64", "256"})
    public int batch;

    @Param({"20"})
    public int k;

    /** {@code naive}, {@code fused}, or {@code djlBlocks} ({@link DjlBlockTopK}, the alternative measured beside it). */
    @Param({"naive", "fused", "djlBlocks"})
    public String method;

    private NDManager manager;
    private ItemIndex index;
    private float[][] users;
    private NDArray[] userArrays;
    private DjlBlockTopK blocks;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        IntraOpThreads.applyToThisThread(); // JMH's worker thread is not the engine's
        index = SyntheticVectors.index(items);
        manager = NDManager.newBaseManager("PyTorch");
        users = new float[BATCHES][];
        userArrays = new NDArray[BATCHES];
        for (int i = 0; i < BATCHES; i++) {
            users[i] = SyntheticVectors.unitVectors(batch, SyntheticVectors.DIM, 1000L * batch + i);
            userArrays[i] = manager.create(users[i], new Shape(batch, SyntheticVectors.DIM));
        }
        blocks = method.equals("djlBlocks") ? new DjlBlockTopK(index) : null;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (blocks != null) {
            blocks.close();
        }
        manager.close(); // the catalogue stays for the next run of the same size
    }

    @Benchmark
    public ItemIndex.TopK topK(CpuMeter.Iteration meter) {
        int i = next++ & (BATCHES - 1);
        meter.op();
        switch (method) {
            case "fused":
                return index.topK(users[i], batch, k, null);
            case "djlBlocks":
                return blocks.topK(userArrays[i], k);
            default:
                return index.topK(userArrays[i], k);
        }
    }
}
