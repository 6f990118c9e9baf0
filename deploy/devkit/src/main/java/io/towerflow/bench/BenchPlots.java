package io.towerflow.bench;

import io.towerflow.devkit.eval.Plots;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The bench's PNG plots: users/s by catalogue size for each method at one batch size, with the
 * GEMM ceiling, and the pipeline's latency CDF at half load. {@code BenchPlots SUMMARY.json DIR}
 * draws them again from a saved summary.
 */
public final class BenchPlots {
    private BenchPlots() {}

    public static void main(String[] args) throws IOException {
        @SuppressWarnings("unchecked")
        Map<String, Object> summary = new ObjectMapper().readValue(Path.of(args[0]).toFile(), Map.class);
        write(summary, Path.of(args[1]));
    }

    /** Writes {@code kernels-b<B>.png} for every batch size and {@code latency-cdf-half-load.png} into {@code dir}. */
    @SuppressWarnings("unchecked")
    static List<Path> write(Map<String, Object> figures, Path dir) throws IOException {
        // as read back from JSON: arrays as lists, numbers as Number
        Map<String, Object> summary = new ObjectMapper().convertValue(figures, Map.class);
        List<Path> out = new ArrayList<>();
        if (summary.get("kernel") != null) { // absent from --ann-only and --pipeline-only summaries
            out.addAll(kernels(summary, dir));
        }
        List<Map<String, Object>> pipeline = (List<Map<String, Object>>) summary.get("pipeline");
        Map<String, double[][]> cdfs = new LinkedHashMap<>();
        for (Map<String, Object> r : pipeline == null ? List.<Map<String, Object>>of() : pipeline) {
            List<List<Number>> points = (List<List<Number>>) r.get("halfLoadLatencyCdfMs");
            if (points != null && !points.isEmpty()) {
                double[][] xy = new double[points.size()][];
                for (int i = 0; i < xy.length; i++) {
                    xy[i] = new double[] {points.get(i).get(0).doubleValue(), points.get(i).get(1).doubleValue()};
                }
                cdfs.put(String.format("%,d items, batch %d, %,d events/s", ((Number) r.get("items")).intValue(),
                        ((Number) r.get("batch")).intValue(), ((Number) r.get("halfLoadRate")).longValue()), xy);
            }
        }
        if (!cdfs.isEmpty()) {
            Path png = dir.resolve("latency-cdf-half-load.png");
            Plots.latencyCdf("Event -> list latency at half of saturation (embedded pipeline, parallelism 1)", cdfs, png);
            out.add(png);
        }
        return out;
    }

    /** {@code kernels-b<B>.png}: users/s by catalogue size per method, one plot per batch size. */
    @SuppressWarnings("unchecked")
    private static List<Path> kernels(Map<String, Object> summary, Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        Map<Integer, Map<String, List<double[]>>> byBatch = new LinkedHashMap<>();
        for (Map<String, Object> r : (List<Map<String, Object>>) summary.get("kernel")) {
            byBatch.computeIfAbsent(((Number) r.get("batch")).intValue(), b -> new LinkedHashMap<>())
                    .computeIfAbsent((String) r.get("method"), m -> new ArrayList<>())
                    .add(new double[] {((Number) r.get("items")).doubleValue(),
                        ((Number) r.get("usersPerSecond")).doubleValue()});
        }
        List<double[]> ceiling = new ArrayList<>();
        ((Map<String, Number>) summary.get("gemmCeilingUsersPerSecond"))
                .forEach((items, users) -> ceiling.add(new double[] {Double.parseDouble(items), users.doubleValue()}));
        for (Map.Entry<Integer, Map<String, List<double[]>>> e : byBatch.entrySet()) {
            Map<String, double[][]> series = new LinkedHashMap<>();
            e.getValue().forEach((method, points) -> series.put(method, points.toArray(new double[0][])));
            series.put("GEMM ceiling", ceiling.toArray(new double[0][]));
            Path png = dir.resolve("kernels-b" + e.getKey() + ".png");
            Plots.usersPerSecondByCatalogue("Top-20 scoring, d = 64, batches of " + e.getKey(), series, png);
            out.add(png);
        }
        return out;
    }
}
