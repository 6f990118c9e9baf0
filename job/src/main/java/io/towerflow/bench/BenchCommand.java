package io.towerflow.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.towerflow.index.FusedTopK;
import io.towerflow.index.ScoringKernel;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * {@code towerflow bench}: the scoring kernels side by side, the engine's GEMM ceiling and the
 * whole serving model, as JMH benchmarks ({@link KernelBenchmark}, {@link GemmBenchmark},
 * {@link ServingBenchmark}) run in this JVM and interleaved: for each configuration, round after
 * round, the naive reference and then the fused kernel, so both see the same load of a shared
 * machine. Figures are medians over rounds; ratios are medians of the per-round ratios.
 *
 * <pre>
 * BenchCommand [--quick] [--summary-json FILE] [--threads 1] [--rounds 3]
 *     [--model model-artifacts/v20261123-bootstrap]
 * </pre>
 *
 * {@code --threads}: libtorch intra-op threads (the serving default is 1 per slot; the fused
 * kernel is single-threaded). {@code --quick}: B = 64 only, one short round (a CI smoke; figures
 * never asserted).
 */
public final class BenchCommand {
    static final int[] ITEMS = {20_000, 100_000, 1_000_000};
    static final int[] BATCHES = {1, 64, 256};
    static final int K = 20;
    static final int GEMM_N = 1024;

    private final boolean quick;
    private final int rounds;
    private final Path model;

    private BenchCommand(boolean quick, int rounds, Path model) {
        this.quick = quick;
        this.rounds = rounds;
        this.model = model;
    }

    public static void main(String[] args) throws Exception {
        boolean quick = false;
        Path summary = null;
        int threads = 1;
        Integer rounds = null;
        Path model = Path.of("model-artifacts/v20261123-bootstrap");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--summary-json" -> summary = Path.of(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--model" -> model = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (try --quick, --summary-json FILE, --threads N, --rounds N, --model DIR)");
            }
        }
        if (!ScoringKernel.vectorApiAvailable()) {
            throw new IllegalStateException("bench needs --add-modules jdk.incubator.vector (the launcher sets it)");
        }
        System.setProperty("offline", "true");
        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        BenchCommand bench = new BenchCommand(quick, rounds != null ? rounds : quick ? 1 : 3, model);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("command", "towerflow bench " + String.join(" ", args));
        out.put("machine", Map.of(
                "cores", Runtime.getRuntime().availableProcessors(),
                "torchThreads", threads,
                "fusedKernelThreads", 1,
                "vectorLanes", FusedTopK.PANEL_WIDTH / 2,
                "java", System.getProperty("java.version")));
        out.put("rounds", bench.rounds);
        List<Map<String, Object>> kernel = bench.kernels();
        out.put("kernel", kernel);
        double flops = bench.gemmFlops();
        Map<String, Double> ceiling = new LinkedHashMap<>();
        for (int n : ITEMS) {
            ceiling.put(Integer.toString(n), flops / (2.0 * SyntheticVectors.DIM * n));
        }
        out.put("gemmFlopPerSecond", flops);
        out.put("gemmCeilingUsersPerSecond", ceiling);
        SyntheticVectors.release();
        out.put("serving", bench.serving());
        BenchTables.print(out, System.out);
        if (summary != null) {
            if (summary.toAbsolutePath().getParent() != null) {
                Files.createDirectories(summary.toAbsolutePath().getParent());
            }
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(summary.toFile(), out);
            System.out.println("summary written to " + summary);
        }
    }

    /** Naive against fused, for every catalogue size and batch, interleaved round by round. */
    private List<Map<String, Object>> kernels() throws RunnerException {
        List<Map<String, Object>> rows = new ArrayList<>();
        int[] batches = quick ? new int[] {64} : BATCHES;
        for (int items : ITEMS) {
            for (int batch : batches) {
                Map<String, String> params = Map.of(
                        "items", Integer.toString(items), "batch", Integer.toString(batch), "k", Integer.toString(K));
                Pair p = pair(KernelBenchmark.class, "topK", params, "method");
                rows.add(row(items, batch, "naive", p.naive * batch, 1.0));
                rows.add(row(items, batch, "fused", p.fused * batch, p.ratio));
                System.out.printf("kernel %,9d items  B=%-3d  naive %,10.0f  fused %,10.0f users/s  (%.2fx)%n",
                        items, batch, p.naive * batch, p.fused * batch, p.ratio);
            }
        }
        return rows;
    }

    private static Map<String, Object> row(int items, int batch, String method, double usersPerSecond, double ratio) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("items", items);
        m.put("batch", batch);
        m.put("k", K);
        m.put("method", method);
        m.put("usersPerSecond", Math.round(usersPerSecond * 10) / 10.0);
        m.put("ratioToNaive", Math.round(ratio * 1000) / 1000.0);
        return m;
    }

    /** Square-GEMM FLOP/s of libtorch with the bench's thread settings (median over rounds). */
    private double gemmFlops() throws RunnerException {
        double[] r = new double[rounds];
        for (int i = 0; i < rounds; i++) {
            r[i] = run(GemmBenchmark.class, "gemm", Map.of("n", Integer.toString(GEMM_N))) * GemmBenchmark.flopPerOp(GEMM_N);
        }
        double flops = median(r);
        System.out.printf("gemm %dx%d: %.1f GFLOP/s%n", GEMM_N, GEMM_N, flops / 1e9);
        return flops;
    }

    /** The whole serving model on the version's own catalogue and at 100k items, naive and fused. */
    private List<Map<String, Object>> serving() throws RunnerException {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int items : new int[] {0, 100_000}) {
            Map<String, String> params = Map.of("model", model.toString(), "items", Integer.toString(items),
                    "batch", "64", "k", Integer.toString(K));
            Pair p = pair(ServingBenchmark.class, "recommend", params, "kernel");
            int size = items;
            try {
                size = ServingBenchmark.model(model, items).catalogueSize();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            for (String kernel : new String[] {"naive", "fused"}) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("model", model.getFileName().toString());
                m.put("items", size);
                m.put("batch", 64);
                m.put("k", K);
                m.put("historyAndExcluded", ServingBenchmark.HISTORY);
                m.put("kernel", kernel);
                m.put("usersPerSecond", Math.round((kernel.equals("naive") ? p.naive : p.fused) * 64 * 10) / 10.0);
                m.put("ratioToNaive", kernel.equals("naive") ? 1.0 : Math.round(p.ratio * 1000) / 1000.0);
                rows.add(m);
            }
            System.out.printf("serving %,9d items  B=64  naive %,10.0f  fused %,10.0f users/s  (%.2fx)%n",
                    size, p.naive * 64, p.fused * 64, p.ratio);
        }
        return rows;
    }

    private record Pair(double naive, double fused, double ratio) {}

    /** Ops/s of NAIVE and FUSED, alternating within each round; medians, and the median per-round ratio. */
    private Pair pair(Class<?> benchmark, String method, Map<String, String> params, String kernelParam)
            throws RunnerException {
        double[] naive = new double[rounds];
        double[] fused = new double[rounds];
        double[] ratio = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            Map<String, String> p = new LinkedHashMap<>(params);
            p.put(kernelParam, ScoringKernel.NAIVE.name());
            naive[r] = run(benchmark, method, p);
            p.put(kernelParam, ScoringKernel.FUSED.name());
            fused[r] = run(benchmark, method, p);
            ratio[r] = fused[r] / naive[r];
        }
        return new Pair(median(naive), median(fused), median(ratio));
    }

    /** One JMH run in this JVM (forks 0: the catalogue is built once and the kernels alternate); ops/s. */
    private double run(Class<?> benchmark, String method, Map<String, String> params) throws RunnerException {
        ChainedOptionsBuilder o = new OptionsBuilder()
                .include("^" + Pattern.quote(benchmark.getName() + "." + method) + "$")
                .forks(0)
                .warmupIterations(quick ? 1 : 2)
                .warmupTime(TimeValue.milliseconds(quick ? 500 : 1000))
                .measurementIterations(quick ? 1 : 3)
                .measurementTime(TimeValue.milliseconds(1000))
                .shouldDoGC(true)
                .verbosity(VerboseMode.SILENT);
        params.forEach(o::param);
        RunResult result = new Runner(o.build()).runSingle();
        return result.getPrimaryResult().getScore();
    }

    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
