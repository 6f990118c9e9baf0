package io.towerflow.bench;

import io.towerflow.index.ClusteredIndex;
import io.towerflow.index.ItemIndex;
import io.towerflow.model.ItemCatalogue;
import io.towerflow.model.ModelArtifacts;
import io.towerflow.model.ServingModel;
import io.towerflow.model.UserQuery;
import io.towerflow.model.UserResult;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;

/**
 * The approximate index ({@link ClusteredIndex}) at a million items: the bootstrap model's item
 * tower over its catalogue grown to {@code items} synthetic items (real item vectors of the
 * model), users from its user tower; recall@20 against the exact kernel for several probe
 * counts, then naive, exact fused and the index side by side (B = 64, interleaved rounds,
 * plain timed loops, not JMH: building the index takes minutes and is done once).
 */
final class AnnSection {
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private static final int K = 20;
    private static final int BATCH = 64;
    private static final int QUERIES = 256;

    private AnnSection() {}

    static Map<String, Object> run(Path model, int items, int lists, int[] nprobes, int rounds) throws Exception {
        long t0 = System.nanoTime();
        ServingModel serving = ServingBenchmark.model(model, items);
        ItemIndex index = serving.index();
        double catalogueSeconds = (System.nanoTime() - t0) / 1e9;
        float[] vectors = index.matrix().toFloatArray();
        t0 = System.nanoTime();
        ClusteredIndex ivf = ClusteredIndex.build(vectors, index.size(), index.dim(), lists, 4, 1);
        double buildSeconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("ann: %,d items (item tower %.0f s), %d lists built in %.0f s%n",
                index.size(), catalogueSeconds, lists, buildSeconds);

        ItemCatalogue cat = ModelArtifacts.load(model).catalogue();
        SplittableRandom r = new SplittableRandom(3);
        List<UserQuery> queries = new ArrayList<>();
        for (int i = 0; i < QUERIES; i++) {
            UserQuery q = ServingBenchmark.query("ann-" + i, cat, r);
            queries.add(new UserQuery(q.userId(), q.itemIds(), q.categoryIds(), q.actions(), q.ts(), q.now(), null));
        }
        List<UserResult> results = serving.recommend(queries, K);
        int dim = index.dim();
        float[] users = new float[QUERIES * dim];
        for (int i = 0; i < QUERIES; i++) {
            System.arraycopy(results.get(i).userVector(), 0, users, i * dim, dim);
        }
        ItemIndex.TopK exact = index.topK(users, QUERIES, K, null);

        List<Map<String, Object>> grid = new ArrayList<>();
        int chosen = nprobes[nprobes.length - 1];
        double chosenRecall = 0;
        for (int nprobe : nprobes) {
            double recall = recall(exact, ivf.topK(users, QUERIES, K, nprobe));
            grid.add(new LinkedHashMap<>(Map.of("nprobe", nprobe, "recallAt20", round(recall))));
            System.out.printf("ann: nprobe %d of %d lists: recall@20 %.3f%n", nprobe, lists, recall);
            if (recall >= 0.95 && chosen == nprobes[nprobes.length - 1] && chosenRecall < 0.95) {
                chosen = nprobe;
                chosenRecall = recall;
            } else if (nprobe == chosen) {
                chosenRecall = recall;
            }
        }

        float[] batch = new float[BATCH * dim];
        System.arraycopy(users, 0, batch, 0, batch.length);
        double[] naive = new double[rounds];
        double[] fused = new double[rounds];
        double[] approx = new double[rounds];
        final int probes = chosen;
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray batchArray = m.create(batch, new Shape(BATCH, dim));
            for (int round = 0; round < rounds; round++) {
                naive[round] = usersPerCpuSecond(i -> index.topK(batchArray, K));
                fused[round] = usersPerCpuSecond(i -> index.topK(batch, BATCH, K, null));
                approx[round] = usersPerCpuSecond(i -> ivf.topK(batch, BATCH, K, probes));
                System.out.printf("ann round %d: users per CPU-s naive %,.0f  fused %,.0f  ivf(nprobe %d) %,.0f%n",
                        round, naive[round], fused[round], probes, approx[round]);
            }
        }
        double[] ratio = new double[rounds];
        double[] fusedRatio = new double[rounds];
        for (int i = 0; i < rounds; i++) {
            ratio[i] = approx[i] / naive[i];
            fusedRatio[i] = fused[i] / naive[i];
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("items", index.size());
        out.put("method", "ivf: " + lists + " k-means lists, exact fused scoring of the probed lists");
        out.put("nprobe", chosen);
        out.put("usersPerSecond", Math.round(BenchCommand.median(approx)));
        out.put("ratioToNaive", round(BenchCommand.median(ratio)));
        out.put("recallAt20", round(chosenRecall));
        out.put("exactFusedUsersPerSecond", Math.round(BenchCommand.median(fused)));
        out.put("exactFusedRatioToNaive", round(BenchCommand.median(fusedRatio)));
        out.put("naiveUsersPerSecond", Math.round(BenchCommand.median(naive)));
        out.put("timing", "users per process CPU-second, B = 64, median of " + rounds + " interleaved rounds");
        out.put("buildSeconds", round(buildSeconds));
        out.put("grid", grid);
        return out;
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
