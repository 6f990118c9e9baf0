package io.towerflow.model;

import io.towerflow.index.AnnSettings;
import io.towerflow.index.ClusteredIndex;
import io.towerflow.index.ItemIndex;
import io.towerflow.index.ScoringKernel;
import io.towerflow.records.CatalogueItem;
import io.towerflow.records.ScoredItem;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
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
 *
 * <p>A catalogue of at least {@link AnnSettings#minItems()} items is scored through an
 * approximate {@link ClusteredIndex} built with its item matrix (when the model is loaded, and
 * for each catalogue change in {@link #prepareCatalogue}, on the model loader's thread); below
 * that, exactly. Exclusions and the repeat boost work the same either way.
 */
public final class ServingModel implements AutoCloseable {
    /** Items put through the item tower at once when building the item matrix. */
    static final int ITEM_CHUNK = 8192;

    private final String version;
    private final TwoTowerModel model;
    private final boolean ownsModel;
    /** The catalogue the version was trained with; catalogue changes apply on top of it. */
    private final ItemCatalogue baseCatalogue;
    private final RepeatBoost repeat;
    /** When the catalogue is scored through an approximate index. */
    private final AnnSettings ann;
    private ItemIndex index;
    /** Whether the approximate index, when the catalogue has one, scores (false: exact, to compare). */
    private boolean useApproximate = true;
    /** {@link ScoringKernel#FUSED} where the JVM has the Vector API; NAIVE is the reference. */
    private ScoringKernel kernel = ScoringKernel.best();

    private ServingModel(String version, TwoTowerModel model, boolean ownsModel, ItemCatalogue catalogue,
            RepeatBoost repeat, AnnSettings ann) {
        this.version = version;
        this.model = model;
        this.ownsModel = ownsModel;
        this.baseCatalogue = catalogue;
        this.repeat = repeat;
        this.ann = ann;
        this.index = buildIndex(model, catalogue, ann, null);
    }

    /** Verifies the version, loads its parameters onto {@code device}, precomputes the item matrix. */
    public static ServingModel load(Path versionDir, Device device) throws InvalidModelException {
        return load(versionDir, device, AnnSettings.OFF);
    }

    /**
     * {@link #load(Path, Device)}, with an approximate index when the catalogue (now or after
     * catalogue changes) has at least {@code ann.minItems()} items.
     */
    public static ServingModel load(Path versionDir, Device device, AnnSettings ann) throws InvalidModelException {
        IntraOpThreads.applyToThisThread();
        ModelArtifacts artifacts = ModelArtifacts.load(versionDir);
        if (artifacts.catalogue().size() == 0) {
            throw new InvalidModelException("catalogue of " + versionDir + " is empty");
        }
        TwoTowerModel model = artifacts.loadModel(device);
        try {
            return new ServingModel(artifacts.manifest().version(), model, true, artifacts.catalogue(),
                    artifacts.manifest().repeat(), ann);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * Serves a model that has not been written yet (to evaluate it before writing its version).
     * The model stays the caller's: {@link #close()} closes only the item matrix.
     */
    public static ServingModel ofUnsaved(
            String version, TwoTowerModel model, ItemCatalogue catalogue, RepeatBoost repeat) {
        if (catalogue.size() == 0) {
            throw new IllegalArgumentException("empty catalogue");
        }
        return new ServingModel(version, model, false, catalogue, repeat, AnnSettings.OFF);
    }

    /** {@link #ofUnsaved(String, TwoTowerModel, ItemCatalogue, RepeatBoost)} without the boost. */
    public static ServingModel ofUnsaved(String version, TwoTowerModel model, ItemCatalogue catalogue) {
        return ofUnsaved(version, model, catalogue, RepeatBoost.NONE);
    }

    /**
     * Item vectors of the whole catalogue, computed in chunks, as an index owned by the model;
     * with an approximate index when {@code ann} applies to its size: {@code previous}'s updated
     * ({@link AnnSettings#rebuildOrUpdate}) when it has one, else a new k-means build.
     */
    static ItemIndex buildIndex(TwoTowerModel model, ItemCatalogue catalogue, AnnSettings ann, ItemIndex previous) {
        ModelConfig c = model.config();
        int n = catalogue.size();
        NDManager owner = model.getNDManager();
        try (NDManager tmp = owner.newSubManager()) {
            NDList parts = new NDList();
            for (int from = 0; from < n; from += ITEM_CHUNK) {
                int to = Math.min(n, from + ITEM_CHUNK);
                int[] items = new int[to - from];
                int[] cats = new int[to - from];
                int[][] titles = c.hasText() ? new int[to - from][] : null;
                float[] idKeep = c.hasText() ? new float[to - from] : null; // never seen in training: no id row
                for (int i = from; i < to; i++) {
                    items[i - from] = IdHashing.bucket(catalogue.itemId(i), c.itemBuckets());
                    cats[i - from] = IdHashing.bucket(catalogue.categoryId(i), c.categoryBuckets());
                    if (titles != null) {
                        titles[i - from] = TextTokens.buckets(catalogue.title(i), c.text().buckets(), c.text().maxTokens());
                        idKeep[i - from] = catalogue.count(i) > 0 ? 1f : 0f;
                    }
                }
                parts.add(model.itemVectors(tmp, items, cats, titles, idKeep));
            }
            NDArray matrix = parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 0);
            matrix.attach(owner);
            ItemIndex index = new ItemIndex(catalogue.itemIds(), catalogue.counts(), matrix);
            if (ann.appliesTo(n) && index.hasFusedKernel()) { // its lists are scored by the fused kernel
                try {
                    index.withApproximate(approximateIndex(index, ann, previous), ann.probes());
                } catch (RuntimeException e) {
                    index.close();
                    throw e;
                }
            }
            return index;
        }
    }

    private static ClusteredIndex approximateIndex(ItemIndex index, AnnSettings ann, ItemIndex previous) {
        int n = index.size();
        float[] vectors = index.matrix().toFloatArray();
        ClusteredIndex before = previous == null ? null : previous.approximate();
        int[] previousRow = new int[n];
        for (int r = 0; r < n; r++) {
            previousRow[r] = before == null ? -1 : previous.rowOf(index.id(r));
        }
        return ann.rebuildOrUpdate(before, vectors, n, index.dim(), previousRow);
    }

    public String version() {
        return version;
    }

    public ModelConfig config() {
        return model.config();
    }

    /** How the version scores the user's recent items ({@link RepeatBoost#NONE}: not at all). */
    public RepeatBoost repeat() {
        return repeat;
    }

    public int catalogueSize() {
        return index.size();
    }

    /** The kernel that scores the item matrix. */
    public ScoringKernel kernel() {
        return kernel;
    }

    /**
     * Scores with {@code kernel} from now on ({@link ScoringKernel#NAIVE}: the reference, to
     * compare against); returns this model.
     *
     * @throws IllegalStateException for {@link ScoringKernel#FUSED} without the Vector API
     */
    public ServingModel withKernel(ScoringKernel kernel) {
        if (kernel == ScoringKernel.FUSED && !ScoringKernel.vectorApiAvailable()) {
            throw new IllegalStateException("the fused kernel needs --add-modules jdk.incubator.vector");
        }
        this.kernel = kernel;
        return this;
    }

    /** Whether the catalogue is scored through its approximate index now. */
    public boolean approximate() {
        return useApproximate && kernel == ScoringKernel.FUSED && index.approximate() != null;
    }

    /**
     * With {@code false}, scores exactly even where the catalogue has an approximate index (to
     * measure it against exact); returns this model.
     */
    public ServingModel withApproximateIndex(boolean use) {
        this.useApproximate = use;
        return this;
    }

    /**
     * One batched call: user tower for all users, then the top-K of the {@link #kernel()} against
     * the item matrix. Returns, in the order of {@code users}, the top {@code k} items of each user without
     * that user's {@code exclude} ids, and the user vector. With an active {@link RepeatBoost},
     * the user's recent items score their cosine plus the boost.
     */
    public List<UserResult> recommend(List<UserQuery> users, int k) {
        IntraOpThreads.applyToThisThread();
        boolean withHistory = false;
        for (int i = 0; i < users.size() && repeat.active() && !withHistory; i++) {
            withHistory = mayRepeat(users.get(i));
        }
        List<Candidates> candidates = candidates(users, k, withHistory);
        List<UserResult> out = new ArrayList<>(candidates.size());
        for (Candidates c : candidates) {
            out.add(c.rank(k, repeat));
        }
        return out;
    }

    /**
     * What {@link #recommend} ranks, before the repeat boost: for each user, enough of the best
     * items by cosine that {@code k} remain after the exclusions and after any history item moves
     * up, and (with {@code withHistory}) the cosine of every history item the index holds.
     */
    List<Candidates> candidates(List<UserQuery> users, int k, boolean withHistory) {
        if (users.isEmpty()) {
            return List.of();
        }
        int kk = Math.max(0, k);
        boolean fused = kernel == ScoringKernel.FUSED;
        int maxExclude = 0; // the naive kernel over-asks to survive the exclusions; the fused one leaves them out
        for (int i = 0; i < users.size() && !fused; i++) {
            maxExclude = Math.max(maxExclude, users.get(i).excludeSize());
        }
        ModelConfig c = model.config();
        int ask = (int) Math.min((long) kk + maxExclude + (withHistory ? c.historyLength() : 0), index.size());
        UserBatch batch = new UserBatch(users.size(), c.historyLength(), c.text());
        for (UserQuery q : users) {
            batch.addUser(c, q.userId(), q.itemIds(), q.categoryIds(), q.actions(), q.ts(), q.queries(), q.queryTs());
        }
        int dim = c.dim();
        List<Candidates> out = new ArrayList<>(users.size());
        try (NDManager call = model.getNDManager().newSubManager();
                NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray u = model.userVectors(call, batch);
            float[] vectors = u.toFloatArray();
            ItemIndex.TopK top = approximate()
                    ? index.approximateTopK(vectors, users.size(), ask, excludedRows(users))
                    : fused ? index.topK(vectors, users.size(), ask, excludedRows(users)) : index.topK(u, ask);
            List<Map<String, Float>> history = withHistory ? historyCosines(call, u, users) : null;
            for (int i = 0; i < users.size(); i++) {
                int found = 0; // the fused kernel marks places no item is left for with row -1
                while (found < top.k() && top.row(i, found) >= 0) {
                    found++;
                }
                String[] ids = new String[found];
                float[] scores = new float[found];
                for (int r = 0; r < found; r++) {
                    ids[r] = index.id(top.row(i, r));
                    scores[r] = top.score(i, r);
                }
                out.add(new Candidates(users.get(i), ids, scores,
                        history == null ? Map.of() : history.get(i), c.historyLength(),
                        Arrays.copyOfRange(vectors, i * dim, (i + 1) * dim)));
            }
        }
        return out;
    }

    /** Each user's excluded ids as index rows, sorted; null when no user excludes anything. */
    private int[][] excludedRows(List<UserQuery> users) {
        int[][] rows = null;
        for (int i = 0; i < users.size(); i++) {
            Set<String> exclude = users.get(i).exclude();
            if (exclude == null || exclude.isEmpty()) {
                continue;
            }
            int[] r = new int[exclude.size()];
            int n = 0;
            for (String id : exclude) {
                int row = index.rowOf(id);
                if (row >= 0) {
                    r[n++] = row;
                }
            }
            Arrays.sort(r, 0, n);
            if (rows == null) {
                rows = new int[users.size()][];
            }
            rows[i] = n == r.length ? r : Arrays.copyOf(r, n);
        }
        return rows;
    }

    /** Whether any of the query's pooled history items may be recommended (is not excluded). */
    private boolean mayRepeat(UserQuery q) {
        String[] h = q.itemIds();
        if (h == null) {
            return false;
        }
        for (int j = Math.max(0, h.length - model.config().historyLength()); j < h.length; j++) {
            if (h[j] != null && (q.exclude() == null || !q.exclude().contains(h[j]))) {
                return true;
            }
        }
        return false;
    }

    /** The cosine of each user's history items that the index holds, one gather for the batch. */
    private List<Map<String, Float>> historyCosines(NDManager call, NDArray userVectors, List<UserQuery> users) {
        int historyLength = model.config().historyLength();
        List<Map<String, Float>> out = new ArrayList<>(users.size());
        List<String> ids = new ArrayList<>();
        List<Long> rows = new ArrayList<>();
        List<Long> owners = new ArrayList<>();
        for (int i = 0; i < users.size(); i++) {
            out.add(new HashMap<>());
            String[] h = users.get(i).itemIds() == null ? new String[0] : users.get(i).itemIds();
            Set<String> seen = new HashSet<>();
            for (int j = Math.max(0, h.length - historyLength); j < h.length; j++) {
                int row = h[j] == null ? -1 : index.rowOf(h[j]);
                if (row >= 0 && seen.add(h[j])) {
                    ids.add(h[j]);
                    rows.add((long) row);
                    owners.add((long) i);
                }
            }
        }
        if (rows.isEmpty()) {
            return out;
        }
        NDArray items = index.matrix().get(call, new NDIndex("{}", call.create(toLongs(rows))));
        NDArray owner = userVectors.get(call, new NDIndex("{}", call.create(toLongs(owners))));
        float[] cosines = items.mul(owner).sum(new int[] {1}).toFloatArray();
        for (int t = 0; t < cosines.length; t++) {
            out.get(owners.get(t).intValue()).put(ids.get(t), cosines[t]);
        }
        return out;
    }

    private static long[] toLongs(List<Long> values) {
        long[] out = new long[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(i);
        }
        return out;
    }

    /**
     * One user's candidates: the best {@code ids} by cosine ({@code scores}, best first) and the
     * cosine of the user's history items ({@code historyCosines}; empty when not asked for).
     */
    record Candidates(UserQuery query, String[] ids, float[] scores, Map<String, Float> historyCosines,
            int historyLength, float[] userVector) {

        /**
         * The top {@code k} without the query's exclusions, the history items scored cosine +
         * {@code boost}: the two lists, each best first, merged.
         */
        UserResult rank(int k, RepeatBoost boost) {
            Set<String> exclude = query.exclude();
            List<ScoredItem> boosted = List.of();
            Set<String> taken = Set.of();
            if (boost.active() && !historyCosines.isEmpty()) { // else the towers' list: nothing to merge
                boosted = new ArrayList<>();
                taken = new HashSet<>();
                for (Map.Entry<String, Double> e : boost.recency(query.itemIds(), historyLength).entrySet()) {
                    Float cos = historyCosines.get(e.getKey());
                    if (cos != null && (exclude == null || !exclude.contains(e.getKey()))) {
                        boosted.add(new ScoredItem(e.getKey(), (float) (cos + boost.weight() * e.getValue())));
                        taken.add(e.getKey());
                    }
                }
                boosted.sort(BEST_FIRST);
            }
            List<ScoredItem> items = new ArrayList<>(Math.max(0, k));
            int b = 0;
            for (int r = 0; items.size() < k && (r < ids.length || b < boosted.size()); ) {
                if (r < ids.length && (taken.contains(ids[r]) || (exclude != null && exclude.contains(ids[r])))) {
                    r++;
                } else if (b < boosted.size() && (r >= ids.length || boosted.get(b).score >= scores[r])) {
                    items.add(boosted.get(b++));
                } else {
                    items.add(new ScoredItem(ids[r], scores[r]));
                    r++;
                }
            }
            return new UserResult(items.toArray(new ScoredItem[0]), userVector);
        }
    }

    private static final Comparator<ScoredItem> BEST_FIRST =
            Comparator.comparingDouble((ScoredItem s) -> -s.score).thenComparing(s -> s.itemId);

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
     * Serves the version's own catalogue changed by {@code changes}: {@link #prepareCatalogue}
     * and {@link #installIndex} at once, for callers with no processing path to keep free.
     */
    public void applyCatalogue(Map<String, CatalogueItem> changes) {
        installIndex(prepareCatalogue(changes));
    }

    /**
     * The index of the version's own catalogue changed by {@code changes} (item id → latest upsert,
     * the whole set each time): items the version does not know get vectors from the item tower,
     * items whose category changed are re-embedded, unavailable items leave the index. Reads only
     * what never changes (towers, base catalogue; of the serving index, its ids and its
     * approximate index's vectors and lists), so it may run on another thread while this model
     * scores; the result serves once {@link #installIndex installed}, or must be closed. A large
     * catalogue's approximate index is updated from the serving one without k-means (new and
     * changed items to their nearest list) until its drift calls for a new k-means
     * ({@link AnnSettings#rebuildOrUpdate}), here too.
     */
    public ItemIndex prepareCatalogue(Map<String, CatalogueItem> changes) {
        IntraOpThreads.applyToThisThread();
        int n = baseCatalogue.size();
        List<String> ids = new ArrayList<>(n + changes.size());
        List<String> cats = new ArrayList<>(n + changes.size());
        List<Long> counts = new ArrayList<>(n + changes.size());
        List<String> titles = new ArrayList<>(n + changes.size());
        Set<String> known = new HashSet<>();
        for (int i = 0; i < n; i++) {
            String id = baseCatalogue.itemId(i);
            known.add(id);
            CatalogueItem change = changes.get(id);
            if (change == null) {
                ids.add(id);
                cats.add(baseCatalogue.categoryId(i));
                counts.add(baseCatalogue.count(i));
                titles.add(baseCatalogue.title(i));
            } else if (change.available) {
                ids.add(id);
                cats.add(change.categoryId != null ? change.categoryId : baseCatalogue.categoryId(i));
                counts.add(baseCatalogue.count(i));
                titles.add(change.title != null ? change.title : baseCatalogue.title(i));
            }
        }
        for (CatalogueItem c : changes.values()) {
            if (c.available && !known.contains(c.itemId)) {
                ids.add(c.itemId);
                cats.add(c.categoryId);
                counts.add(0L);
                titles.add(c.title);
            }
        }
        if (ids.isEmpty()) {
            throw new IllegalArgumentException("catalogue changes would leave no item to recommend");
        }
        ItemCatalogue changed =
                new ItemCatalogue(
                        ids.toArray(new String[0]),
                        cats.toArray(new String[0]),
                        counts.stream().mapToLong(Long::longValue).toArray(),
                        titles.toArray(new String[0]));
        return buildIndex(model, changed, ann, index);
    }

    /** Serves {@code next} (from {@link #prepareCatalogue} of this model) and closes the old index. */
    public void installIndex(ItemIndex next) {
        ItemIndex old = index;
        index = next;
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
