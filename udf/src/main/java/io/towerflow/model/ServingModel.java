package io.towerflow.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import io.towerflow.index.ItemIndex;
import io.towerflow.records.CatalogueItem;
import io.towerflow.records.ScoredItem;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A verified model version ready to score: the towers on a device and the precomputed item
 * matrix of the version's catalogue. What the Flink operator holds, one per operator instance
 * (not thread-safe, nothing static shared). Per-call arrays live in a short-lived sub-manager of
 * the model's manager and are closed before a call returns; the item matrix lives as long as the
 * instance.
 */
public final class ServingModel implements AutoCloseable {
    /** Items put through the item tower at once when building the item matrix. */
    static final int ITEM_CHUNK = 8192;

    private final String version;
    private final TwoTowerModel model;
    private final boolean ownsModel;
    /** The catalogue the version was trained with; catalogue changes apply on top of it. */
    private final ItemCatalogue baseCatalogue;
    private ItemIndex index;

    private ServingModel(
            String version, TwoTowerModel model, boolean ownsModel, ItemCatalogue catalogue) {
        this.version = version;
        this.model = model;
        this.ownsModel = ownsModel;
        this.baseCatalogue = catalogue;
        this.index = buildIndex(model, catalogue);
    }

    /** Verifies the version, loads its parameters onto {@code device}, precomputes the item matrix. */
    public static ServingModel load(Path versionDir, Device device) throws InvalidModelException {
        ModelArtifacts artifacts = ModelArtifacts.load(versionDir);
        if (artifacts.catalogue().size() == 0) {
            throw new InvalidModelException("catalogue of " + versionDir + " is empty");
        }
        TwoTowerModel model = artifacts.loadModel(device);
        try {
            return new ServingModel(artifacts.manifest().version(), model, true, artifacts.catalogue());
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * Serves a model that has not been written yet (to evaluate it before writing its version).
     * The model stays the caller's: {@link #close()} closes only the item matrix.
     */
    public static ServingModel ofUnsaved(String version, TwoTowerModel model, ItemCatalogue catalogue) {
        if (catalogue.size() == 0) {
            throw new IllegalArgumentException("empty catalogue");
        }
        return new ServingModel(version, model, false, catalogue);
    }

    /** Item vectors of the whole catalogue, computed in chunks, as an index owned by the model. */
    static ItemIndex buildIndex(TwoTowerModel model, ItemCatalogue catalogue) {
        ModelConfig c = model.config();
        int n = catalogue.size();
        NDManager owner = model.getNDManager();
        try (NDManager tmp = owner.newSubManager()) {
            NDList parts = new NDList();
            for (int from = 0; from < n; from += ITEM_CHUNK) {
                int to = Math.min(n, from + ITEM_CHUNK);
                int[] items = new int[to - from];
                int[] cats = new int[to - from];
                for (int i = from; i < to; i++) {
                    items[i - from] = IdHashing.bucket(catalogue.itemId(i), c.itemBuckets());
                    cats[i - from] = IdHashing.bucket(catalogue.categoryId(i), c.categoryBuckets());
                }
                parts.add(model.itemVectors(tmp, items, cats));
            }
            NDArray matrix = parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 0);
            matrix.attach(owner);
            return new ItemIndex(catalogue.itemIds(), catalogue.counts(), matrix);
        }
    }

    public String version() {
        return version;
    }

    public ModelConfig config() {
        return model.config();
    }

    public int catalogueSize() {
        return index.size();
    }

    /**
     * One batched call: user tower for all users, one matrix product against the item matrix, one
     * top-K. Returns, in the order of {@code users}, the top {@code k} items of each user without
     * that user's {@code exclude} ids, and the user vector.
     */
    public List<UserResult> recommend(List<UserQuery> users, int k) {
        if (users.isEmpty()) {
            return List.of();
        }
        int kk = Math.max(0, k);
        int maxExclude = 0;
        for (UserQuery q : users) {
            maxExclude = Math.max(maxExclude, q.excludeSize());
        }
        int ask = (int) Math.min((long) kk + maxExclude, index.size());
        ModelConfig c = model.config();
        UserBatch batch = new UserBatch(users.size(), c.historyLength());
        for (UserQuery q : users) {
            batch.addUser(c, q.userId(), q.itemIds(), q.categoryIds(), q.actions(), q.ts());
        }
        int dim = c.dim();
        List<UserResult> out = new ArrayList<>(users.size());
        try (NDManager call = model.getNDManager().newSubManager();
                NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray u = model.userVectors(call, batch);
            float[] vectors = u.toFloatArray();
            ItemIndex.TopK top = index.topK(u, ask);
            for (int i = 0; i < users.size(); i++) {
                Set<String> exclude = users.get(i).exclude();
                List<ScoredItem> items = new ArrayList<>(kk);
                for (int r = 0; r < top.k() && items.size() < kk; r++) {
                    String id = index.id(top.row(i, r));
                    if (exclude == null || !exclude.contains(id)) {
                        items.add(new ScoredItem(id, top.score(i, r)));
                    }
                }
                out.add(new UserResult(
                        items.toArray(new ScoredItem[0]),
                        Arrays.copyOfRange(vectors, i * dim, (i + 1) * dim)));
            }
        }
        return out;
    }

    /** The most popular items (by training count, score = count), without {@code exclude}. */
    public ScoredItem[] popular(int k, Set<String> exclude) {
        List<ScoredItem> items = new ArrayList<>(Math.max(0, k));
        for (int rank = 0; rank < index.size() && items.size() < k; rank++) {
            int row = index.popularRow(rank);
            String id = index.id(row);
            if (exclude == null || !exclude.contains(id)) {
                items.add(new ScoredItem(id, index.count(row)));
            }
        }
        return items.toArray(new ScoredItem[0]);
    }

    /** Whether the catalogue holds {@code itemId}. */
    public boolean knows(String itemId) {
        return index.rowOf(itemId) >= 0;
    }

    /**
     * Whether the catalogue holds any of {@code itemIds} (false for null or empty): a user none of
     * whose history the model knows is a cold start, better served by {@link #popular}.
     */
    public boolean knowsAny(String[] itemIds) {
        if (itemIds != null) {
            for (String id : itemIds) {
                if (id != null && index.rowOf(id) >= 0) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Serves the version's own catalogue changed by {@code changes} (item id → latest upsert, the
     * whole set each time): items the version does not know get vectors from the item tower,
     * items whose category changed are re-embedded, unavailable items leave the index. Replaces
     * the item matrix between calls; the towers are untouched.
     */
    public void applyCatalogue(Map<String, CatalogueItem> changes) {
        int n = baseCatalogue.size();
        List<String> ids = new ArrayList<>(n + changes.size());
        List<String> cats = new ArrayList<>(n + changes.size());
        List<Long> counts = new ArrayList<>(n + changes.size());
        Set<String> known = new HashSet<>();
        for (int i = 0; i < n; i++) {
            String id = baseCatalogue.itemId(i);
            known.add(id);
            CatalogueItem change = changes.get(id);
            if (change == null) {
                ids.add(id);
                cats.add(baseCatalogue.categoryId(i));
                counts.add(baseCatalogue.count(i));
            } else if (change.available) {
                ids.add(id);
                cats.add(change.categoryId != null ? change.categoryId : baseCatalogue.categoryId(i));
                counts.add(baseCatalogue.count(i));
            }
        }
        for (CatalogueItem c : changes.values()) {
            if (c.available && !known.contains(c.itemId)) {
                ids.add(c.itemId);
                cats.add(c.categoryId);
                counts.add(0L);
            }
        }
        if (ids.isEmpty()) {
            throw new IllegalArgumentException("catalogue changes would leave no item to recommend");
        }
        ItemCatalogue changed =
                new ItemCatalogue(
                        ids.toArray(new String[0]),
                        cats.toArray(new String[0]),
                        counts.stream().mapToLong(Long::longValue).toArray());
        ItemIndex old = index;
        index = buildIndex(model, changed);
        old.close();
    }

    /** The item index (matrix, ids, popularity). Owned by this model. */
    public ItemIndex index() {
        return index;
    }

    /** The manager that owns the parameters and the item matrix (for leak checks in tests). */
    NDManager manager() {
        return model.getNDManager();
    }

    @Override
    public void close() {
        index.close();
        if (ownsModel) {
            model.close();
        }
    }
}
