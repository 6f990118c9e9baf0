package io.towerflow.bench;

import java.io.PrintStream;
import java.util.List;
import java.util.Map;

/** The bench summary as Markdown tables (what docs/benchmarks.md shows). */
final class BenchTables {
    private BenchTables() {}

    @SuppressWarnings("unchecked")
    static void print(Map<String, Object> summary, PrintStream out) {
        out.println();
        out.println("Kernel (d = 64, K = 20; users/s; ratio = fused / naive, median of interleaved rounds)");
        out.println();
        out.println("| items | batch | naive users/s | fused users/s | fused / naive | GEMM ceiling users/s |");
        out.println("| ---: | ---: | ---: | ---: | ---: | ---: |");
        Map<String, Double> ceiling = (Map<String, Double>) summary.get("gemmCeilingUsersPerSecond");
        List<Map<String, Object>> kernel = (List<Map<String, Object>>) summary.get("kernel");
        for (int i = 0; i + 1 < kernel.size(); i += 2) {
            Map<String, Object> naive = kernel.get(i);
            Map<String, Object> fused = kernel.get(i + 1);
            out.printf("| %,d | %d | %,.0f | %,.0f | %.2f | %,.0f |%n", naive.get("items"), naive.get("batch"),
                    naive.get("usersPerSecond"), fused.get("usersPerSecond"), fused.get("ratioToNaive"),
                    ceiling.get(String.valueOf(naive.get("items"))));
        }
        out.printf("%nSquare GEMM (1024): %.1f GFLOP/s%n%n", (Double) summary.get("gemmFlopPerSecond") / 1e9);
        out.println("Serving model (user tower + scoring + exclusions + assembly; B = 64, K = 20, 50 seen items excluded)");
        out.println();
        out.println("| model | items | kernel | users/s | ratio to naive |");
        out.println("| --- | ---: | --- | ---: | ---: |");
        for (Map<String, Object> s : (List<Map<String, Object>>) summary.get("serving")) {
            out.printf("| %s | %,d | %s | %,.0f | %.2f |%n", s.get("model"), s.get("items"), s.get("kernel"),
                    s.get("usersPerSecond"), s.get("ratioToNaive"));
        }
        out.println();
    }
}
