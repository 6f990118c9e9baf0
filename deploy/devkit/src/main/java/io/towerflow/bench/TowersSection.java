package io.towerflow.bench;

import io.towerflow.index.ScoringKernel;
import io.towerflow.model.ModelArtifacts;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The bench's {@code "towers"} section: the pooled user tower ({@code --model}) and the sequence
 * user tower ({@code --sequence-model}) side by side. Serving: {@link ServingBenchmark} with the
 * serving kernel, B = 64, both versions' catalogues grown to the same sizes, the two models
 * alternating within each round. Pipeline: the demo's embedded pipeline at saturation ({@link
 * PipelineSection#demo}, parallelism 1, each version's own catalogue grown to 20k), the two
 * alternating within each round. Figures are medians over rounds; ratios are medians of the
 * per-round ratios of the sequence tower to the pooled one.
 */
final class TowersSection {
    static final int[] ITEMS = {20_000, 100_000};
    static final int PIPELINE_ITEMS = 20_000;
    static final long PIPELINE_EVENTS = 30_000;

    private TowersSection() {}

    static Map<String, Object> run(BenchCommand bench, Path sequenceModel, Path workDir) throws Exception {
        List<Path> models = List.of(bench.model, sequenceModel);
        Map<String, Object> out = new LinkedHashMap<>();
        List<Map<String, Object>> serving = new ArrayList<>();
        for (int items : ITEMS) {
            Map<String, String> params = Map.of("items", Integer.toString(items), "batch", "64",
                    "k", Integer.toString(BenchCommand.K), "kernel", ScoringKernel.FUSED.name());
            Map<String, BenchCommand.Measured> m = bench.compare(ServingBenchmark.class, "recommend", params, "model",
                    models.stream().map(Path::toString).toList());
            StringBuilder line = new StringBuilder(String.format("towers  %,9d items  B=64", items));
            for (Path model : models) {
                BenchCommand.Measured x = m.get(model.toString());
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("tower", tower(model));
                row.put("model", model.getFileName().toString());
                row.put("items", ServingBenchmark.model(model, items).catalogueSize());
                row.put("batch", 64);
                row.put("k", BenchCommand.K);
                row.put("usersPerSecond", BenchCommand.round(x.opsPerSecond() * 64, 10));
                row.put("ratioToPooled", BenchCommand.round(x.ratio(), 1000));
                row.put("usersPerCpuSecond", BenchCommand.round(x.opsPerCpuSecond() * 64, 10));
                row.put("cpuRatioToPooled", BenchCommand.round(x.cpuRatio(), 1000));
                serving.add(row);
                line.append(String.format("  %s %,.0f users/s (%.2fx)", row.get("tower"), x.opsPerSecond() * 64,
                        x.ratio()));
            }
            System.out.println(line);
        }
        out.put("serving", serving);

        double[][] events = new double[models.size()][bench.rounds];
        List<Path> versions = new ArrayList<>();
        for (Path model : models) {
            boolean small = ModelArtifacts.load(model).catalogue().size() < PIPELINE_ITEMS;
            versions.add(small ? PipelineSection.grown(model, PIPELINE_ITEMS, workDir) : model.toAbsolutePath());
        }
        for (int r = 0; r < bench.rounds; r++) {
            for (int i = 0; i < models.size(); i++) {
                events[i][r] = PipelineSection.demo(versions.get(i), workDir, "0", PIPELINE_EVENTS, 64, false)
                        .get("steady").get("eventsPerSecond").asDouble();
                System.out.printf("towers  pipeline round %d %s %,.0f events/s%n", r + 1, tower(models.get(i)),
                        events[i][r]);
            }
        }
        List<Map<String, Object>> pipeline = new ArrayList<>();
        for (int i = 0; i < models.size(); i++) {
            double[] ratio = new double[bench.rounds];
            for (int r = 0; r < bench.rounds; r++) {
                ratio[r] = events[i][r] / events[0][r];
            }
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("tower", tower(models.get(i)));
            row.put("model", models.get(i).getFileName().toString());
            row.put("items", ModelArtifacts.load(versions.get(i)).catalogue().size());
            row.put("parallelism", 1);
            row.put("events", PIPELINE_EVENTS);
            row.put("eventsPerSecondByRound", events[i].clone());
            row.put("eventsPerSecond", Math.round(BenchCommand.median(events[i])));
            row.put("ratioToPooled", BenchCommand.round(BenchCommand.median(ratio), 1000));
            pipeline.add(row);
        }
        out.put("pipeline", pipeline);
        return out;
    }

    private static String tower(Path model) throws Exception {
        return ModelArtifacts.load(model).manifest().config().userTower();
    }
}
