package io.towerflow.bench;

import io.towerflow.devkit.demo.LocalDemo;
import io.towerflow.model.ItemCatalogue;
import io.towerflow.model.ModelArtifacts;
import io.towerflow.model.ModelManifest;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * The bench's {@code "pipeline"} section: the embedded pipeline of the demo ({@link LocalDemo}:
 * in-process KRaft broker, the job on a MiniCluster with RocksDB and exactly-once sinks, the
 * synthetic feed and the {@code read_committed} monitor, all in this JVM) at saturation
 * ({@code --rate 0}) and at half that rate, beside the serving model alone measured in the same
 * JVM just before and just after the saturation run ({@link ServingBenchmark}, one thread, the
 * serving kernel; the mean of the two, both kept as {@code "servingUsersPerSecondBeforeAfter"}):
 * one measurement of a few seconds moved the ratio by up to 1.8 × between identical runs.
 *
 * <p>The job runs at parallelism 1: one operator thread scores, as the serving benchmark's one
 * thread does, so {@code efficiency} = pipeline events/s ÷ serving users/s says what share of the
 * model's own speed survives the pipeline (Kafka in and out, JSON, RocksDB, two exactly-once
 * sinks); the machine's other core carries the broker, the generator and the monitor. Events/s at
 * saturation are the lists emitted after the warm-up over their emit-time span; the half-load
 * latencies are event produced → list emitted, after the warm-up. The per-event pattern (batch
 * size 1 in the operator, B = 1 in the serving model) is measured the same way at 20k items.
 * Unmeasured saturation runs come first, until the JIT is quiet: the JVM, and with it the JIT's
 * work, is shared by all runs, and in a fresh JVM on two cores the compiler threads took a third
 * of all CPU samples for the first 75 s of a saturated run (broker, Flink, Kafka clients and the
 * job all compiling; docs/benchmarks.md) — a streaming job runs for days, so its steady state is
 * what the section measures. Each warm-up run's share of compiler time (the JVM's total
 * compilation time over the run's wall time) goes into {@code "pipelineWarmUp"}.
 */
final class PipelineSection {
    /** Lists after the warm-up below which a saturation run says nothing (and half of 0 is no rate). */
    private static final long MIN_STEADY_LISTS = 5_000;
    /** Compiler time per wall second below which the JIT counts as quiet (a tenth of one core). */
    private static final double QUIET_JIT_SHARE = 0.10;
    /** Warm-up runs at most (full bench; --quick makes one). */
    private static final int MAX_WARM_UP_RUNS = 6;

    private PipelineSection() {}

    /** Puts {@code "pipeline"} (the rows) and {@code "pipelineWarmUp"} (the unmeasured runs) into {@code out}. */
    static void run(Path model, boolean quick, Path workDir, Function<int[], double[]> serving,
            Map<String, Object> out) throws Exception {
        List<Map<String, Object>> rows = new ArrayList<>();
        Path base = model.toAbsolutePath();
        out.put("pipelineWarmUp", warmUp(base, quick, workDir));
        int[] catalogues = quick ? new int[] {0} : new int[] {0, 100_000};
        for (int items : catalogues) {
            Path version = items == 0 ? base : grown(model, items, workDir);
            rows.add(measure(version, items, 64, quick, workDir, serving));
            if (items == 0 && !quick) {
                rows.add(measure(version, items, 1, quick, workDir, serving));
            }
        }
        out.put("pipeline", rows);
    }

    /** Saturation runs until the compiler threads are quiet (one with --quick); each one's figures. */
    private static List<Map<String, Object>> warmUp(Path version, boolean quick, Path workDir) throws Exception {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        List<Map<String, Object>> runs = new ArrayList<>();
        int most = quick ? 1 : MAX_WARM_UP_RUNS;
        for (int i = 0; i < most; i++) {
            long compiledBefore = jit.getTotalCompilationTime();
            long started = System.nanoTime();
            JsonNode warm = demo(version, workDir, "0", quick ? 15_000 : 100_000, 64, true);
            double wallMs = (System.nanoTime() - started) / 1e6;
            double share = (jit.getTotalCompilationTime() - compiledBefore) / wallMs;
            Map<String, Object> run = new LinkedHashMap<>();
            // the whole run's rate, start-up included: a fast run can end inside its own warm-up
            run.put("eventsPerSecond", Math.round(warm.get("eventsPerSecond").asDouble()));
            run.put("wallSeconds", Math.round(wallMs / 100) / 10.0);
            run.put("jitShare", Math.round(share * 1000) / 1000.0);
            runs.add(run);
            System.out.printf("pipeline warm-up run %d (not measured): %,d events/s, compiler threads %.0f %% of a core%n",
                    i + 1, run.get("eventsPerSecond"), 100 * share);
            if (share < QUIET_JIT_SHARE) {
                break;
            }
        }
        return runs;
    }

    private static Map<String, Object> measure(Path version, int items, int batch, boolean quick, Path workDir,
            Function<int[], double[]> serving) throws Exception {
        double[] before = serving.apply(new int[] {items, batch});
        // enough events to outlast the warm-up (20 s, 10 s with --quick) on a quiet machine
        // (20k items ran at 4,600-7,500 events/s there, 100k at 2,700-3,800, batches of 1 at 1,450-1,750)
        long saturationEvents = batch == 1 ? 60_000 : quick ? 80_000 : items > 0 ? 120_000 : 200_000;
        JsonNode sat = demo(version, workDir, "0", saturationEvents, batch, quick);
        for (int retry = 0; sat.get("steady").get("lists").asLong() < MIN_STEADY_LISTS && retry < 2; retry++) {
            // the run ended (nearly) within its warm-up: a faster machine than these counts assume
            saturationEvents *= 4;
            System.out.printf("pipeline: only %d lists after the warm-up; again with %,d events%n",
                    sat.get("steady").get("lists").asLong(), saturationEvents);
            sat = demo(version, workDir, "0", saturationEvents, batch, quick);
        }
        if (sat.get("steady").get("lists").asLong() < MIN_STEADY_LISTS) {
            throw new IllegalStateException("the saturation run at " + items + " items left "
                    + sat.get("steady").get("lists").asLong() + " lists after its warm-up; no rate to halve");
        }
        double[] after = serving.apply(new int[] {items, batch});
        double servingUsers = (before[0] + after[0]) / 2;
        double servingUsersPerCpu = (before[1] + after[1]) / 2;
        double eventsPerSecond = sat.get("steady").get("eventsPerSecond").asDouble();
        double half = Math.max(1, Math.floor(eventsPerSecond / 2));
        long halfEvents = (long) Math.max(2_000, half * (quick ? 30 : 60));
        JsonNode halfLoad = demo(version, workDir, Long.toString((long) half), halfEvents, batch, quick);
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("items", ModelArtifacts.load(version).catalogue().size());
        row.put("batch", batch);
        row.put("parallelism", 1);
        row.put("eventsPerSecond", Math.round(eventsPerSecond));
        row.put("servingUsersPerSecond", Math.round(servingUsers));
        row.put("servingUsersPerSecondBeforeAfter", List.of(Math.round(before[0]), Math.round(after[0])));
        row.put("efficiency", Math.round(eventsPerSecond / servingUsers * 1000) / 1000.0);
        // per CPU-second of the whole process: the pipeline's includes the broker, feed and monitor
        double perCpu = sat.get("eventsIn").asDouble() / sat.get("processCpuSeconds").asDouble();
        row.put("eventsPerProcessCpuSecond", Math.round(perCpu));
        row.put("servingUsersPerCpuSecond", Math.round(servingUsersPerCpu));
        row.put("cpuEfficiency", Math.round(perCpu / servingUsersPerCpu * 1000) / 1000.0);
        row.put("halfLoadRate", (long) half);
        row.put("halfLoadP50Ms", halfLoad.get("steady").get("p50Ms").asLong());
        row.put("halfLoadP99Ms", halfLoad.get("steady").get("p99Ms").asLong());
        row.put("halfLoadP999Ms", halfLoad.get("steady").get("p999Ms").asLong());
        row.put("halfLoadEventsPerSecond", halfLoad.get("steady").get("eventsPerSecond").asLong());
        // {quantile, ms} points of the half-load latency after the warm-up: the bench's CDF plot
        List<double[]> cdf = new ArrayList<>();
        halfLoad.get("steady").path("latencyCdfMs").forEach(p -> cdf.add(new double[] {p.get(0).asDouble(), p.get(1).asDouble()}));
        row.put("halfLoadLatencyCdfMs", cdf);
        System.out.printf("pipeline %,9d items  B=%-3d %,.0f events/s  serving %,.0f users/s "
                        + "(%,.0f before, %,.0f after)  efficiency %.2f  half load (%,.0f/s) p50 %d p99 %d p99.9 %d ms%n",
                row.get("items"), batch, eventsPerSecond, servingUsers, before[0], after[0],
                eventsPerSecond / servingUsers, half,
                row.get("halfLoadP50Ms"), row.get("halfLoadP99Ms"), row.get("halfLoadP999Ms"));
        return row;
    }

    /** One demo run; its summary. */
    static JsonNode demo(Path version, Path workDir, String rate, long events, int batch, boolean quick)
            throws Exception {
        List<String> args = new ArrayList<>(Arrays.asList(
                "--model", version.toString(),
                "--rate", rate,
                "--max-events", Long.toString(events),
                "--parallelism", "1",
                // each run starts a broker, a MiniCluster and RocksDB afresh: the first seconds
                // queue (up to ~6 s behind at 500 events/s on the loaded box) and are not steady
                "--warmup", quick ? "10s" : "20s",
                "--window", "2s",
                "--web-port", "8081-8199",
                // the figures compare with runs made before the demo had this second consumer
                "--no-uncommitted-view",
                "--work-dir", workDir.resolve("run-" + System.nanoTime()).toString()));
        if (batch != 64) {
            args.addAll(List.of("--towerflow.recommend.batch.max-size", Integer.toString(batch)));
        }
        return LocalDemo.runForSummary(args.toArray(new String[0]));
    }

    /**
     * The model version with its catalogue grown to {@code items} by synthetic items of its own
     * categories (the item tower embeds them when the job loads the version), written once under
     * {@code workDir}.
     */
    static Path grown(Path model, int items, Path workDir) throws IOException, Exception {
        ModelArtifacts base = ModelArtifacts.load(model);
        ModelManifest m = base.manifest();
        String name = m.version() + "-" + items / 1000 + "k";
        Path target = workDir.resolve("models").resolve(name);
        if (Files.exists(target)) {
            return target;
        }
        ItemCatalogue cat = base.catalogue();
        int extra = items - cat.size();
        String[] ids = new String[extra];
        String[] cats = new String[extra];
        SplittableRandom r = new SplittableRandom(11);
        for (int i = 0; i < extra; i++) {
            ids[i] = "bench-" + i;
            cats[i] = cat.categoryId(r.nextInt(cat.size()));
        }
        ItemCatalogue all = cat.plus(new ItemCatalogue(ids, cats, new long[extra]));
        Path tmp = Files.createDirectories(workDir.resolve("models").resolve(".tmp-" + name));
        Files.copy(base.parametersFile(), tmp.resolve(ModelArtifacts.PARAMETERS));
        all.write(tmp.resolve(ModelArtifacts.ITEMS));
        Map<String, String> files = new LinkedHashMap<>();
        for (String f : ModelArtifacts.REQUIRED_FILES) {
            files.put(f, ModelArtifacts.sha256(tmp.resolve(f)));
        }
        ModelManifest grown = new ModelManifest(name, m.version(), m.createdAt(), m.config(), m.trainingWindow(),
                m.metrics(), files, m.repeat());
        Files.write(tmp.resolve(ModelArtifacts.MANIFEST), grown.toJson());
        Files.move(tmp, target);
        return target;
    }
}
