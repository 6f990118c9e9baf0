package io.towerflow.bench;

import io.towerflow.config.ModelOptions;
import io.towerflow.index.AnnSettings;
import io.towerflow.index.ClusteredIndex;
import io.towerflow.index.FusedTopK;
import io.towerflow.index.ItemIndex;
import io.towerflow.index.ItemPanels;
import io.towerflow.index.ScoringKernel;
import io.towerflow.model.ItemCatalogue;
import io.towerflow.model.ModelArtifacts;
import io.towerflow.model.ServingModel;
import io.towerflow.model.UserQuery;
import io.towerflow.model.UserResult;
import io.towerflow.records.ScoredItem;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;

/**
 * The approximate index at a million items, through the serving path: the bootstrap model with
 * its catalogue grown to {@code items} synthetic items through the item tower
 * ({@code ServingModel.applyCatalogue}, which builds the {@link ClusteredIndex} as the model
 * loader's thread does), users from its user tower with their 50 history items excluded.
 * Recall@20 of the served lists (approximate vs exact, same exclusions) for several probe counts;
 * then {@code ServingModel.recommend} with the naive kernel, the exact fused kernel and the
 * approximate index side by side (B = 64, interleaved rounds, plain timed loops, not JMH:
 * building takes minutes and is done once), and the index's kernels alone. Recall also on a
 * catalogue of unstructured random unit vectors of the same size (no two items alike, no
 * clusters: a lower bound), because the item tower hashes ids into a limited number of buckets,
 * so the synthetic items share embeddings and cluster more than a real catalogue's would.
 */
final class AnnSection {
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private static final int K = 20;
    private static final int BATCH = 64;
    private static final int QUERIES = 256;

    private AnnSection() {}

    /**
     * The serving defaults ({@code towerflow.model.ann.*}) with {@code lists} lists (0: derived
     * from the size), the threshold at most {@code items} so that any size can be measured.
     */
    static AnnSettings settings(int items, int lists) {
        return new AnnSettings(Math.min(ModelOptions.ANN_MIN_ITEMS.defaultValue(), items), lists,
                ModelOptions.ANN_PROBES.defaultValue(), ModelOptions.ANN_REBUILD_FRACTION.defaultValue(),
                AnnSettings.OFF.iterations(), AnnSettings.OFF.seed());
    }

    static Map<String, Object> run(Path model, int items, int lists, int[] nprobes, int rounds) throws Exception {
        long t0 = System.nanoTime();
        ServingModel serving = ServingBenchmark.model(model, items, settings(items, lists));
        ItemIndex index = serving.index();
        ClusteredIndex ivf = index.approximate();
        if (ivf == null) {
            throw new IllegalStateException(items + " items: below the approximate index's threshold");
        }
        double buildSeconds = (System.nanoTime() - t0) / 1e9;
        int dim = index.dim();
        float[] vectors = index.matrix().toFloatArray();
        int distinct = distinctRows(vectors, index.size(), dim);
        Map<String, Object> update = update(ivf, vectors, index.size(), dim);
        vectors = null;
        System.out.printf("ann: %,d items (%,d distinct vectors), %d lists: item tower + k-means in %.0f s%n",
                index.size(), distinct, ivf.lists(), buildSeconds);

        ItemCatalogue cat = ModelArtifacts.load(model).catalogue();
        SplittableRandom r = new SplittableRandom(3);
        List<UserQuery> queries = new ArrayList<>();
        for (int i = 0; i < QUERIES; i++) {
            queries.add(ServingBenchmark.query("ann-" + i, cat, r)); // 50 history items, all excluded
        }
        serving.withKernel(ScoringKernel.FUSED);
        List<UserResult> exact = serving.withApproximateIndex(false).recommend(queries, K);
        float[] users = new float[QUERIES * dim];
        for (int i = 0; i < QUERIES; i++) {
            System.arraycopy(exact.get(i).userVector(), 0, users, i * dim, dim);
        }

        List<Map<String, Object>> grid = new ArrayList<>();
        int chosen = nprobes[nprobes.length - 1];
        double chosenRecall = -1;
        long violations = 0;
        serving.withApproximateIndex(true);
        for (int nprobe : nprobes) {
            index.withApproximate(ivf, nprobe);
            List<UserResult> approx = serving.recommend(queries, K);
            double recall = recall(exact, approx);
            violations += excludedServed(queries, approx);
            grid.add(new LinkedHashMap<>(Map.of("nprobe", nprobe, "recallAt20", round(recall))));
            System.out.printf("ann: nprobe %d of %d lists: served recall@20 %.3f%n", nprobe, ivf.lists(), recall);
            if (chosenRecall < 0.95 && (recall >= 0.95 || nprobe == chosen)) {
                chosen = nprobe;
                chosenRecall = recall;
            }
        }
        index.withApproximate(ivf, chosen);

        List<List<UserQuery>> batches = new ArrayList<>();
        for (int from = 0; from < QUERIES; from += BATCH) {
            batches.add(queries.subList(from, from + BATCH));
        }
        float[] batch = Arrays.copyOf(users, BATCH * dim);
        String[] methods = {"naive", "fused", "ann", "naiveKernel", "annKernel"};
        double[][] perCpu = new double[methods.length][rounds];
        final int probes = chosen;
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray batchArray = m.create(batch, new Shape(BATCH, dim));
            for (int round = 0; round < rounds; round++) {
                serving.withKernel(ScoringKernel.NAIVE);
                perCpu[0][round] = usersPerCpuSecond(i -> serving.recommend(batches.get(i & 3), K));
                serving.withKernel(ScoringKernel.FUSED).withApproximateIndex(false);
                perCpu[1][round] = usersPerCpuSecond(i -> serving.recommend(batches.get(i & 3), K));
                serving.withApproximateIndex(true);
                perCpu[2][round] = usersPerCpuSecond(i -> serving.recommend(batches.get(i & 3), K));
                perCpu[3][round] = usersPerCpuSecond(i -> index.topK(batchArray, K));
                perCpu[4][round] = usersPerCpuSecond(i -> ivf.topK(batch, BATCH, K, probes));
                System.out.printf("ann round %d, users per CPU-s: serving naive %,.0f  exact fused %,.0f  ann %,.0f;"
                        + " kernels alone: naive %,.0f  ann %,.0f%n", round, perCpu[0][round], perCpu[1][round],
                        perCpu[2][round], perCpu[3][round], perCpu[4][round]);
            }
        }

        Map<String, Object> unstructured = unstructured(items, dim, users, nprobes);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("items", index.size());
        out.put("method", "ivf: " + ivf.lists() + " k-means lists, exact fused scoring of the probed lists,"
                + " exclusions inside the selection; ServingModel.recommend");
        out.put("nprobe", chosen);
        out.put("usersPerSecond", Math.round(BenchCommand.median(perCpu[2])));
        out.put("ratioToNaive", round(medianRatio(perCpu[2], perCpu[0])));
        out.put("recallAt20", round(chosenRecall));
        out.put("exactFusedUsersPerSecond", Math.round(BenchCommand.median(perCpu[1])));
        out.put("exactFusedRatioToNaive", round(medianRatio(perCpu[1], perCpu[0])));
        out.put("annRatioToExactFused", round(medianRatio(perCpu[2], perCpu[1])));
        out.put("naiveUsersPerSecond", Math.round(BenchCommand.median(perCpu[0])));
        out.put("kernelOnly", Map.of(
                "naiveUsersPerSecond", Math.round(BenchCommand.median(perCpu[3])),
                "annUsersPerSecond", Math.round(BenchCommand.median(perCpu[4])),
                "ratioToNaive", round(medianRatio(perCpu[4], perCpu[3]))));
        out.put("timing", "users per process CPU-second of ServingModel.recommend (user tower + scoring + 50"
                + " exclusions per user + assembly), B = 64, median of " + rounds + " interleaved rounds");
        out.put("buildSeconds", round(buildSeconds));
        out.put("distinctVectors", distinct);
        out.put("excludedItemsServed", violations);
        out.put("grid", grid);
        out.put("update", update);
        out.put("unstructured", unstructured);
        return out;
    }

    /**
     * What a catalogue change costs the index without k-means: 1 % of the items removed and as
     * many new ones (other items' vectors, so that they land among real lists) placed by
     * {@link ClusteredIndex#update}, timed (the item tower's share of a change is not included).
     */
    private static Map<String, Object> update(ClusteredIndex ivf, float[] vectors, int rows, int dim) {
        int changed = Math.max(1, rows / 100);
        float[] next = vectors.clone();
        int[] previousRow = new int[rows];
        for (int r = 0; r < rows; r++) {
            previousRow[r] = r < changed ? -1 : r; // rows 0.. are new items now; their old items are gone
        }
        for (int r = 0; r < changed; r++) {
            System.arraycopy(vectors, (rows - 1 - r) * dim, next, r * dim, dim);
        }
        long t0 = System.nanoTime();
        ClusteredIndex updated = ivf.update(next, rows, previousRow);
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("ann: %,d items replaced by update (no k-means) in %.2f s, drift %,d%n", changed, seconds,
                updated.drift());
        return new LinkedHashMap<>(Map.of("itemsReplaced", changed, "seconds", round(seconds), "drift",
                updated.drift()));
    }

    /** Recall@20 of the raw index over {@code items} random unit vectors, users from the model. */
    private static Map<String, Object> unstructured(int items, int dim, float[] users, int[] nprobes) {
        float[] vectors = SyntheticVectors.unitVectors(items, dim, 20261130L);
        long t0 = System.nanoTime();
        AnnSettings settings = settings(items, 0);
        ClusteredIndex ivf = settings.build(vectors, items, dim);
        double seconds = (System.nanoTime() - t0) / 1e9;
        ItemIndex.TopK exact = new FusedTopK(new ItemPanels(vectors, items, dim, FusedTopK.PANEL_WIDTH))
                .topK(users, QUERIES, K, null, null);
        List<Map<String, Object>> grid = new ArrayList<>();
        for (int nprobe : nprobes) {
            double recall = recall(exact, ivf.topK(users, QUERIES, K, nprobe));
            grid.add(new LinkedHashMap<>(Map.of("nprobe", nprobe, "recallAt20", round(recall))));
            System.out.printf("ann, unstructured random vectors: nprobe %d of %d lists: recall@20 %.3f%n", nprobe,
                    ivf.lists(), recall);
        }
        return new LinkedHashMap<>(Map.of("items", items, "lists", ivf.lists(), "buildSeconds", round(seconds),
                "grid", grid));
    }

    /** Rows whose vectors differ bit for bit (by a 64-bit hash of their bits). */
    private static int distinctRows(float[] v, int rows, int dim) {
        long[] hashes = new long[rows];
        for (int r = 0; r < rows; r++) {
            long h = 1125899906842597L;
            for (int j = 0; j < dim; j++) {
                h = (h ^ Float.floatToRawIntBits(v[r * dim + j])) * 0x9E3779B97F4A7C15L;
                h ^= h >>> 29;
            }
            hashes[r] = h;
        }
        Arrays.sort(hashes);
        int distinct = rows == 0 ? 0 : 1;
        for (int r = 1; r < rows; r++) {
            distinct += hashes[r] != hashes[r - 1] ? 1 : 0;
        }
        return distinct;
    }

    private static long excludedServed(List<UserQuery> queries, List<UserResult> results) {
        long n = 0;
        for (int i = 0; i < queries.size(); i++) {
            for (ScoredItem s : results.get(i).items()) {
                n += queries.get(i).exclude().contains(s.itemId) ? 1 : 0;
            }
        }
        return n;
    }

    private static double medianRatio(double[] a, double[] b) {
        double[] ratio = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            ratio[i] = a[i] / b[i];
        }
        return BenchCommand.median(ratio);
    }

    /** Users per process CPU-second of {@code call} (one batch of {@link #BATCH}) over at least 2 s. */
    private static double usersPerCpuSecond(IntConsumer call) {
        call.accept(0); // warm
        long cpu = OS.getProcessCpuTime();
        long start = System.nanoTime();
        int calls = 0;
        while (System.nanoTime() - start < 2_000_000_000L || calls < 2) {
            call.accept(calls++);
        }
        return calls * (double) BATCH / ((OS.getProcessCpuTime() - cpu) / 1e9);
    }

    /** Recall@20 of the served lists: the share of each exact list's items in the approximate one. */
    private static double recall(List<UserResult> exact, List<UserResult> approx) {
        double sum = 0;
        for (int u = 0; u < exact.size(); u++) {
            Set<String> truth = new HashSet<>();
            for (ScoredItem s : exact.get(u).items()) {
                truth.add(s.itemId);
            }
            int hit = 0;
            for (ScoredItem s : approx.get(u).items()) {
                hit += truth.contains(s.itemId) ? 1 : 0;
            }
            sum += hit / (double) truth.size();
        }
        return sum / exact.size();
    }

    private static double recall(ItemIndex.TopK exact, ItemIndex.TopK approx) {
        double sum = 0;
        for (int u = 0; u < exact.users(); u++) {
            Set<Integer> truth = new HashSet<>();
            for (int r = 0; r < exact.k(); r++) {
                truth.add(exact.row(u, r));
            }
            int hit = 0;
            for (int r = 0; r < approx.k(); r++) {
                hit += truth.contains(approx.row(u, r)) ? 1 : 0;
            }
            sum += hit / (double) exact.k();
        }
        return sum / exact.users();
    }

    private static double round(double x) {
        return Math.round(x * 1000) / 1000.0;
    }
}
