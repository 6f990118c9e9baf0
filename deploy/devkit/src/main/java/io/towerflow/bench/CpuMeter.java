package io.towerflow.bench;

import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * Operations per CPU-second of the whole process, per JMH iteration. On a shared machine a
 * benchmark's wall-clock rate is mostly its share of the cores; CPU time of the process (every
 * thread: libtorch's pool, GC and JIT included) measures what a method costs. A benchmark takes an
 * {@link Iteration} argument and calls {@link Iteration#op()} once per operation.
 */
public final class CpuMeter {
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private static final List<double[]> ITERATIONS = new ArrayList<>();
    private static long ops;
    private static long cpuAtStart;

    private CpuMeter() {}

    /** JMH state: process CPU time around each iteration, operations counted by the benchmark. */
    @State(Scope.Thread)
    public static class Iteration {
        @Setup(Level.Iteration)
        public void start() {
            ops = 0;
            cpuAtStart = OS.getProcessCpuTime();
        }

        /** One operation done. */
        public void op() {
            ops++;
        }

        @TearDown(Level.Iteration)
        public void stop() {
            ITERATIONS.add(new double[] {ops, (OS.getProcessCpuTime() - cpuAtStart) / 1e9});
        }
    }

    /** Forgets the iterations recorded so far (before a run). */
    static void reset() {
        ITERATIONS.clear();
    }

    /** Operations per process CPU-second over the last {@code n} iterations (the measured ones). */
    static double opsPerCpuSecond(int n) {
        double o = 0;
        double s = 0;
        for (int i = Math.max(0, ITERATIONS.size() - n); i < ITERATIONS.size(); i++) {
            o += ITERATIONS.get(i)[0];
            s += ITERATIONS.get(i)[1];
        }
        return s > 0 ? o / s : Double.NaN;
    }
}
