package io.towerflow.bench;

import io.towerflow.cli.Cli;
import io.towerflow.cli.HelpOption;
import io.towerflow.index.FusedTopK;
import io.towerflow.index.ScoringKernel;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;

/**
 * {@code towerflow bench}: the scoring kernels side by side, the engine's GEMM ceiling and the
 * whole serving model, as JMH benchmarks ({@link KernelBenchmark}, {@link GemmBenchmark},
 * {@link ServingBenchmark}) run in this JVM and interleaved: for each configuration, round after
 * round, the naive reference and then the fused kernel, so both see the same load of a shared
 * machine. Figures are medians over rounds; ratios are medians of the per-round ratios.
 *
 * {@code deploy/local/towerflow bench --help} lists the options.
 *
 * {@code --ann-only}: the approximate index section alone ({@code --ann-items}: its catalogue size).
 * {@code --pipeline-only}: the pipeline section alone.
 *
 * With {@code --sequence-model DIR} (a version of the sequence user tower) it also puts the two
 * user towers side by side ({@link TowersSection}): {@code --model}'s and that one's serving
 * users/s on the same catalogue sizes, and the embedded pipeline's events/s at saturation with
 * each, interleaved round by round.
 *
 * Without {@code --quick} or {@code --no-ann} it also measures the approximate index at 1M items
 * ({@link AnnSection}). Without {@code --no-pipeline} it runs the embedded pipeline at saturation and at
 * half load beside the serving model ({@link PipelineSection}; {@code --quick}: 20k items only).
 *
 * {@code --threads}: libtorch intra-op threads (the serving default is 1 per slot; the fused
 * kernel is single-threaded). {@code --quick}: B = 64 only, one short round (a CI smoke; figures
 * never asserted).
 */
@Command(name = "bench", sortOptions = false,
        description = "The scoring kernels side by side (naive vs fused), libtorch's GEMM ceiling, the serving model,"
                + " the approximate index and the embedded pipeline, as JMH benchmarks interleaved round by round.")
public final class BenchCommand implements Callable<Integer> {
    static final int[] ITEMS = {20_000, 100_000, 1_000_000};
    static final int[] BATCHES = {1, 64, 256};
    static final int K = 20;
    static final int GEMM_N = 1024;
    static final int ANN_ITEMS = 1_000_000;
    static final int ANN_LISTS = 1024;
    static final int[] ANN_PROBES = {8, 16, 32, 64, 128};

    @Mixin
    HelpOption help;

    @Option(names = "--quick", description = "B = 64 only, one short round, no ANN section (a CI smoke; figures never asserted).")
    boolean quick;

    @Option(names = "--summary-json", paramLabel = "FILE", description = "Write the figures as JSON.")
    Path summary;

    @Option(names = "--plots", paramLabel = "DIR", description = "Write the PNG plots here.")
    Path plots;

    @Option(names = "--threads", paramLabel = "N",
            description = "libtorch intra-op threads; the serving default is 1 per slot, the fused kernel is"
                    + " single-threaded (default: ${DEFAULT-VALUE}).")
    int threads = 1;

    @Option(names = "--rounds", paramLabel = "N", description = "Interleaved rounds (default: 3, --quick: 1).")
    Integer roundsOption;

    @Option(names = "--model", paramLabel = "DIR", description = "Model version of the serving and pipeline sections"
            + " (default: ${DEFAULT-VALUE}).")
    Path model = Path.of("model-artifacts/v20261207-bootstrap");

    @Option(names = "--no-ann", negatable = false, description = "Skip the approximate index at 1M items.")
    boolean noAnn;

    @Option(names = "--no-pipeline", negatable = false, description = "Skip the embedded pipeline at saturation and half load.")
    boolean noPipeline;

    @Option(names = "--ann-only", negatable = false, description = "Run the approximate index section alone.")
    boolean annOnly;

    @Option(names = "--pipeline-only", negatable = false, description = "Run the embedded pipeline section alone"
            + " (with the serving model it is compared with).")
    boolean pipelineOnly;

    @Option(names = "--ann-items", paramLabel = "N", description = "Catalogue size of the approximate index section"
            + " (default: ${DEFAULT-VALUE}).")
    int annItems = ANN_ITEMS;

    @Option(names = "--sequence-model", paramLabel = "DIR", description = "A version of the sequence user tower: put the"
            + " two towers side by side (serving users/s and the demo's events/s, --model's against this one's).")
    Path sequenceModel;

    @Spec
    CommandSpec spec;

    int rounds;

    public static void main(String[] args) {
        System.exit(Cli.execute(new BenchCommand(), System.out, System.err, args));
    }

    @Override
    public Integer call() throws Exception {
        boolean ann = !noAnn;
        boolean pipeline = !noPipeline;
        String[] args = spec.commandLine().getParseResult().originalArgs().toArray(new String[0]);
        if (!ScoringKernel.vectorApiAvailable()) {
            throw new IllegalStateException("bench needs --add-modules jdk.incubator.vector (the launcher sets it)");
        }
        System.setProperty("offline", "true");
        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        rounds = roundsOption != null ? roundsOption : quick ? 1 : 3;
        BenchCommand bench = this;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("command", "towerflow bench " + String.join(" ", args));
        out.put("machine", Map.of(
                "cores", Runtime.getRuntime().availableProcessors(),
                "torchThreads", threads,
                "fusedKernelThreads", 1,
                "vectorLanes", FusedTopK.PANEL_WIDTH / 2,
                "java", System.getProperty("java.version")));
        out.put("rounds", bench.rounds);
        int annLists = annItems == ANN_ITEMS ? ANN_LISTS : 0; // else derived from the size, as serving does
        if (annOnly) {
            out.put("ann", AnnSection.run(model, annItems, annLists, ANN_PROBES, bench.rounds));
        } else if (pipelineOnly) {
            bench.pipeline(out);
        } else {
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
            if (sequenceModel != null) {
                out.put("towers", TowersSection.run(bench, sequenceModel, Path.of(".run/bench-towers")));
            }
            if (ann && !quick) {
                out.put("ann", AnnSection.run(model, annItems, annLists, ANN_PROBES, bench.rounds));
            }
            if (pipeline) {
                bench.pipeline(out);
            }
        }
        // the figures first: a failure in the tables or plots must not lose a long run's summary
        if (summary != null) {
            if (summary.toAbsolutePath().getParent() != null) {
                Files.createDirectories(summary.toAbsolutePath().getParent());
            }
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(summary.toFile(), out);
            System.out.println("summary written to " + summary);
        }
        BenchTables.print(out, System.out);
        if (plots != null) {
            System.out.println("plots: " + BenchPlots.write(out, plots));
        }
        return 0;
    }

    /** The embedded pipeline beside the serving model, measured before and after each row's saturation run. */
    private void pipeline(Map<String, Object> out) throws Exception {
        PipelineSection.run(model, quick, Path.of(".run/bench-pipeline"), itemsAndBatch -> {
            try {
                return servingUsersPerSecond(itemsAndBatch[0], itemsAndBatch[1]);
            } catch (RunnerException e) {
                throw new IllegalStateException(e);
            }
        }, out);
    }

    /** Naive against fused (and the DJL-blocks alternative), every catalogue size and batch, interleaved. */
    private List<Map<String, Object>> kernels() throws RunnerException {
        List<Map<String, Object>> rows = new ArrayList<>();
        int[] batches = quick ? new int[] {64} : BATCHES;
        List<String> methods = quick ? List.of("naive", "fused") : List.of("naive", "fused", "djlBlocks");
        for (int items : ITEMS) {
            for (int batch : batches) {
                Map<String, String> params = Map.of(
                        "items", Integer.toString(items), "batch", Integer.toString(batch), "k", Integer.toString(K));
                Map<String, Measured> m = compare(KernelBenchmark.class, "topK", params, "method", methods);
                StringBuilder line = new StringBuilder(String.format("kernel %,9d items  B=%-3d", items, batch));
                for (String method : methods) {
                    Measured x = m.get(method);
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("items", items);
                    row.put("batch", batch);
                    row.put("k", K);
                    row.put("method", method);
                    x.put(row, batch);
                    rows.add(row);
                    line.append(String.format("  %s %,.0f (%.2fx, cpu %.2fx)", method, x.opsPerSecond * batch,
                            x.ratio, x.cpuRatio));
                }
                System.out.println(line);
            }
        }
        return rows;
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
    private List<Map<String, Object>> serving() throws Exception {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int items : new int[] {0, 100_000}) {
            Map<String, String> params = Map.of("model", model.toString(), "items", Integer.toString(items),
                    "batch", "64", "k", Integer.toString(K));
            Map<String, Measured> m = compare(ServingBenchmark.class, "recommend", params, "kernel",
                    List.of(ScoringKernel.NAIVE.name(), ScoringKernel.FUSED.name()));
            int size = ServingBenchmark.model(model, items).catalogueSize();
            for (Map.Entry<String, Measured> e : m.entrySet()) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("model", model.getFileName().toString());
                row.put("items", size);
                row.put("batch", 64);
                row.put("k", K);
                row.put("historyAndExcluded", ServingBenchmark.HISTORY);
                row.put("kernel", e.getKey().toLowerCase(java.util.Locale.ROOT));
                e.getValue().put(row, 64);
                rows.add(row);
            }
            Measured naive = m.get(ScoringKernel.NAIVE.name());
            Measured fused = m.get(ScoringKernel.FUSED.name());
            System.out.printf("serving %,9d items  B=64  naive %,.0f  fused %,.0f users/s  (%.2fx, cpu %.2fx)%n",
                    size, naive.opsPerSecond * 64, fused.opsPerSecond * 64, fused.ratio, fused.cpuRatio);
        }
        return rows;
    }

    /**
     * The serving model alone with the serving kernel, one thread: users/s and users per process
     * CPU-second, medians over the rounds.
     */
    private double[] servingUsersPerSecond(int items, int batch) throws RunnerException {
        double[] r = new double[rounds];
        double[] cpu = new double[rounds];
        for (int i = 0; i < rounds; i++) {
            CpuMeter.reset();
            r[i] = batch * run(ServingBenchmark.class, "recommend", Map.of("model", model.toString(),
                    "items", Integer.toString(items), "batch", Integer.toString(batch), "k", Integer.toString(K),
                    "kernel", ScoringKernel.FUSED.name()));
            cpu[i] = batch * CpuMeter.opsPerCpuSecond(measurementIterations());
        }
        return new double[] {median(r), median(cpu)};
    }

    /**
     * One method's figures: median ops/s (wall clock) and ops per process CPU-second over the
     * rounds, and the medians of the per-round ratios to the first method of the comparison.
     */
    record Measured(double opsPerSecond, double opsPerCpuSecond, double ratio, double cpuRatio) {
        void put(Map<String, Object> row, int batch) {
            row.put("usersPerSecond", round(opsPerSecond * batch, 10));
            row.put("ratioToNaive", round(ratio, 1000));
            row.put("usersPerCpuSecond", round(opsPerCpuSecond * batch, 10));
            row.put("cpuRatioToNaive", round(cpuRatio, 1000));
        }
    }

    static double round(double x, double scale) {
        return Math.round(x * scale) / scale;
    }

    /** Runs {@code methods} one after the other within each round, {@link #rounds} rounds. */
    Map<String, Measured> compare(Class<?> benchmark, String method, Map<String, String> params,
            String methodParam, List<String> methods) throws RunnerException {
        double[][] wall = new double[methods.size()][rounds];
        double[][] cpu = new double[methods.size()][rounds];
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < methods.size(); i++) {
                Map<String, String> p = new LinkedHashMap<>(params);
                p.put(methodParam, methods.get(i));
                CpuMeter.reset();
                wall[i][r] = run(benchmark, method, p);
                cpu[i][r] = CpuMeter.opsPerCpuSecond(measurementIterations());
            }
        }
        Map<String, Measured> out = new LinkedHashMap<>();
        for (int i = 0; i < methods.size(); i++) {
            double[] ratio = new double[rounds];
            double[] cpuRatio = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                ratio[r] = wall[i][r] / wall[0][r];
                cpuRatio[r] = cpu[i][r] / cpu[0][r];
            }
            out.put(methods.get(i), new Measured(median(wall[i]), median(cpu[i]), median(ratio), median(cpuRatio)));
        }
        return out;
    }

    private int measurementIterations() {
        return quick ? 1 : 2;
    }

    /** One JMH run in this JVM (forks 0: the catalogue is built once and the kernels alternate); ops/s. */
    private double run(Class<?> benchmark, String method, Map<String, String> params) throws RunnerException {
        ChainedOptionsBuilder o = new OptionsBuilder()
                .include("^" + Pattern.quote(benchmark.getName() + "." + method) + "$")
                .forks(0)
                .warmupIterations(1)
                .warmupTime(TimeValue.milliseconds(quick ? 500 : 1000))
                .measurementIterations(measurementIterations())
                .measurementTime(TimeValue.milliseconds(1000))
                .shouldDoGC(false) // a forced full GC of a heap holding a 1M-item catalogue costs more than the run
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
