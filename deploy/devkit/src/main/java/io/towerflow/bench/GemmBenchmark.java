package io.towerflow.bench;

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
 * The engine's ceiling: a square [n, n] × [n, n] float product in libtorch (2n³ FLOP per op),
 * with the same thread settings as the kernels. Scoring N items at that rate would serve
 * rate / (2 · d · N) users per second, with selection for free.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class GemmBenchmark {
    @Param({"1024"})
    public int n;

    private NDManager manager;
    private NDArray a;
    private NDArray b;

    @Setup(Level.Trial)
    public void setUp() {
        // JMH's worker thread is not the engine's: without this libtorch's BLAS took both cores
        IntraOpThreads.applyToThisThread();
        manager = NDManager.newBaseManager("PyTorch");
        a = manager.randomNormal(new Shape(n, n));
        b = manager.randomNormal(new Shape(n, n));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        manager.close();
    }

    @Benchmark
    public float gemm() {
        try (NDArray c = a.matMul(b)) {
            return c.getFloat(0, 0); // waits for the product; one element crosses JNI
        }
    }

    /** FLOP of one {@link #gemm()} call. */
    static double flopPerOp(int n) {
        return 2.0 * n * n * n;
    }
}
