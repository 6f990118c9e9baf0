package io.towerflow.bench;

import io.towerflow.index.AnnSettings;
import io.towerflow.index.ScoringKernel;
import io.towerflow.model.ItemCatalogue;
import io.towerflow.model.ModelArtifacts;
import io.towerflow.model.ServingModel;
import io.towerflow.model.UserQuery;
import io.towerflow.model.UserResult;
import io.towerflow.records.Action;
import io.towerflow.records.CatalogueItem;

import ai.djl.Device;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The whole serving model, {@link ServingModel#recommend}: user tower, scoring with
 * {@code kernel}, exclusions, result assembly — on a model version ({@code model}) with its own
 * catalogue ({@code items} = 0) or that catalogue grown to {@code items} by synthetic items put
 * through the item tower ({@link ServingModel#applyCatalogue}). Each user has a history of 50
 * catalogue items and excludes them, as the operator does with exclude-seen on; lists of 20.
 * Throughput is batches per second; users per second is that times {@code batch}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class ServingBenchmark {
    static final int HISTORY = 50;
    private static final int BATCHES = 8;

    @Param({"model-artifacts/v20261207-bootstrap"})
    public String model;

    @Param({"0", "100000"})
    public int items;

    @Param({"64"})
    public int batch;

    @Param({"20"})
    public int k;

    @Param({"NAIVE", "FUSED"})
    public ScoringKernel kernel;

    private static String loadedKey;
    private static ServingModel loaded;

    private ServingModel serving;
    private List<List<UserQuery>> batches;
    private int next;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        serving = model(Path.of(model), items).withKernel(kernel);
        ItemCatalogue cat = ModelArtifacts.load(Path.of(model)).catalogue();
        SplittableRandom r = new SplittableRandom(7);
        batches = new ArrayList<>();
        for (int b = 0; b < BATCHES; b++) {
            List<UserQuery> qs = new ArrayList<>(batch);
            for (int u = 0; u < batch; u++) {
                qs.add(query("u" + b + "-" + u, cat, r));
            }
            batches.add(qs);
        }
    }

    static UserQuery query(String user, ItemCatalogue cat, SplittableRandom r) {
        String[] ids = new String[HISTORY];
        String[] cats = new String[HISTORY];
        byte[] actions = new byte[HISTORY];
        long[] ts = new long[HISTORY];
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < HISTORY; i++) {
            int row = r.nextInt(cat.size());
            ids[i] = cat.itemId(row);
            cats[i] = cat.categoryId(row);
            actions[i] = Action.VIEW.code();
            ts[i] = 1_764_547_200_000L + 1000L * i;
            seen.add(ids[i]);
        }
        return new UserQuery(user, ids, cats, actions, ts, ts[HISTORY - 1] + 1000, seen);
    }

    /** The model version, its catalogue grown to {@code items} (0: as it is); kept while the same one is asked for. */
    static ServingModel model(Path dir, int items) throws Exception {
        return model(dir, items, AnnSettings.OFF);
    }

    /**
     * {@link #model(Path, int)} with {@code ann}: a catalogue grown past its threshold gets its
     * approximate index the way serving builds it (in {@code applyCatalogue}).
     */
    static synchronized ServingModel model(Path dir, int items, AnnSettings ann) throws Exception {
        String key = dir.toAbsolutePath() + "#" + items + "#" + ann;
        if (!key.equals(loadedKey)) {
            if (loaded != null) {
                loaded.close();
                loaded = null;
            }
            ServingModel m = ServingModel.load(dir, Device.cpu(), ann);
            int extra = items - m.catalogueSize();
            if (items > 0 && extra > 0) {
                ItemCatalogue cat = ModelArtifacts.load(dir).catalogue();
                SplittableRandom r = new SplittableRandom(11);
                Map<String, CatalogueItem> changes = new HashMap<>();
                for (int i = 0; i < extra; i++) {
                    String category = cat.categoryId(r.nextInt(cat.size()));
                    changes.put("bench-" + i, new CatalogueItem("bench-" + i, category, true));
                }
                m.applyCatalogue(changes);
            }
            loaded = m;
            loadedKey = key;
        }
        return loaded;
    }

    @Benchmark
    public List<UserResult> recommend(CpuMeter.Iteration meter) {
        meter.op();
        return serving.recommend(batches.get(next++ & (BATCHES - 1)), k);
    }
}
