package io.towerflow.bench;

import java.io.PrintStream;
import java.util.List;
import java.util.Map;

/** The bench summary as Markdown tables (what docs/benchmarks.md shows). */
final class BenchTables {
    private BenchTables() {}

    @SuppressWarnings("unchecked")
    static void print(Map<String, Object> summary, PrintStream out) {
        if (summary.get("kernel") != null) {
            kernelsAndServing(summary, out);
        }
        Map<String, Object> ann = (Map<String, Object>) summary.get("ann");
        if (ann != null) {
            Map<String, Object> kernelOnly = (Map<String, Object>) ann.get("kernelOnly");
            out.printf("Approximate index, %,d items (%,d distinct vectors; %s): served recall@20 by probes %s;"
                    + " excluded items served: %s%n", ann.get("items"), ann.get("distinctVectors"), ann.get("method"),
                    ann.get("grid"), ann.get("excludedItemsServed"));
            out.println();
            out.println("| serving path, users per CPU-s (B = 64, 50 exclusions per user) | users per CPU-s | ratio to naive |");
            out.println("| --- | ---: | ---: |");
            out.printf("| naive kernel | %,d | 1.00 |%n", ann.get("naiveUsersPerSecond"));
            out.printf("| exact fused kernel | %,d | %.2f |%n", ann.get("exactFusedUsersPerSecond"),
                    ann.get("exactFusedRatioToNaive"));
            out.printf("| approximate index, %s probes (recall@20 %.3f) | %,d | %.2f |%n", ann.get("nprobe"),
                    ann.get("recallAt20"), ann.get("usersPerSecond"), ann.get("ratioToNaive"));
            out.printf("%nKernels alone: naive %,d, approximate %,d users per CPU-s (%.2f x); built (item tower +"
                    + " k-means) in %.0f s; a change without k-means: %s; unstructured random vectors: %s%n%n",
                    kernelOnly.get("naiveUsersPerSecond"), kernelOnly.get("annUsersPerSecond"),
                    kernelOnly.get("ratioToNaive"), ann.get("buildSeconds"), ann.get("update"), ann.get("unstructured"));
        }
        List<Map<String, Object>> pipeline = (List<Map<String, Object>>) summary.get("pipeline");
        if (pipeline != null) {
            out.println("| pipeline items | batch | events/s (saturation) | serving users/s | efficiency | events per CPU-s"
                    + " | serving users per CPU-s | CPU efficiency | half-load rate | p50 / p99 / p99.9 ms |");
            out.println("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
            for (Map<String, Object> r : pipeline) {
                out.printf("| %,d | %s | %,d | %,d | %.2f | %,d | %,d | %.2f | %,d | %s / %s / %s |%n", r.get("items"),
                        r.get("batch"), r.get("eventsPerSecond"), r.get("servingUsersPerSecond"), r.get("efficiency"),
                        r.get("eventsPerProcessCpuSecond"), r.get("servingUsersPerCpuSecond"), r.get("cpuEfficiency"),
                        r.get("halfLoadRate"), r.get("halfLoadP50Ms"),
                        r.get("halfLoadP99Ms"), r.get("halfLoadP999Ms"));
            }
            out.println();
        }
    }

    /** The kernels' and the serving model's tables (absent from an {@code --ann-only} summary). */
    @SuppressWarnings("unchecked")
    private static void kernelsAndServing(Map<String, Object> summary, PrintStream out) {
        Map<String, Double> ceiling = (Map<String, Double>) summary.get("gemmCeilingUsersPerSecond");
        out.println();
        out.println("Kernels (d = 64, K = 20). users/s: wall clock, median of the rounds; ratio: median of the"
                + " per-round ratios to naive; per CPU-s: users per CPU-second of the process.");
        out.println();
        out.println("| items | batch | method | users/s | ratio to naive | users per CPU-s | CPU ratio to naive |"
                + " GEMM ceiling users/s |");
        out.println("| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |");
        for (Map<String, Object> r : (List<Map<String, Object>>) summary.get("kernel")) {
            out.printf("| %,d | %d | %s | %,.0f | %.2f | %,.0f | %.2f | %,.0f |%n", r.get("items"), r.get("batch"),
                    r.get("method"), r.get("usersPerSecond"), r.get("ratioToNaive"), r.get("usersPerCpuSecond"),
                    r.get("cpuRatioToNaive"), ceiling.get(String.valueOf(r.get("items"))));
        }
        out.printf("%nSquare GEMM (%d): %.1f GFLOP/s%n%n", BenchCommand.GEMM_N,
                (Double) summary.get("gemmFlopPerSecond") / 1e9);
        out.println("Serving model (user tower + scoring + exclusions + assembly; B = 64, K = 20, each user's"
                + " 50 history items excluded)");
        out.println();
        out.println("| model | items | kernel | users/s | ratio to naive | users per CPU-s | CPU ratio to naive |");
        out.println("| --- | ---: | --- | ---: | ---: | ---: | ---: |");
        for (Map<String, Object> s : (List<Map<String, Object>>) summary.get("serving")) {
            out.printf("| %s | %,d | %s | %,.0f | %.2f | %,.0f | %.2f |%n", s.get("model"), s.get("items"),
                    s.get("kernel"), s.get("usersPerSecond"), s.get("ratioToNaive"), s.get("usersPerCpuSecond"),
                    s.get("cpuRatioToNaive"));
        }
        out.println();
        Map<String, Object> towers = (Map<String, Object>) summary.get("towers");
        if (towers != null) {
            out.printf("User towers side by side (serving kernel, B = 64, K = 20; pipeline: the demo at saturation,"
                    + " parallelism 1). Ratios: medians of the per-round ratios to the pooled tower.%n%n");
            table(out, "| tower | model | items | serving users/s | ratio to pooled | users per CPU-s | CPU ratio |",
                    "| --- | --- | ---: | ---: | ---: | ---: | ---: |", (List<Map<String, Object>>) towers.get("serving"),
                    "| %s | %s | %,d | %,.0f | %.2f | %,.0f | %.2f |", "tower", "model", "items", "usersPerSecond",
                    "ratioToPooled", "usersPerCpuSecond", "cpuRatioToPooled");
            table(out, "| tower | model | items | pipeline events/s | ratio to pooled |", "| --- | --- | ---: | ---: | ---: |",
                    (List<Map<String, Object>>) towers.get("pipeline"), "| %s | %s | %,d | %,d | %.2f |", "tower",
                    "model", "items", "eventsPerSecond", "ratioToPooled");
        }
    }

    /** A Markdown table: header and alignment lines, then one row per map (its {@code keys}' values), then a blank line. */
    private static void table(PrintStream out, String header, String align, List<Map<String, Object>> rows,
            String format, String... keys) {
        out.println(header);
        out.println(align);
        for (Map<String, Object> r : rows) {
            Object[] values = new Object[keys.length];
            for (int i = 0; i < keys.length; i++) {
                values[i] = r.get(keys[i]);
            }
            out.printf(format + "%n", values);
        }
        out.println();
    }
}
