package io.towerflow.model;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The two towers: a DJL {@link Model} that owns the parameters ({@link TwoTowerBlock}) on one
 * device, and the computation of item and user vectors from them.
 *
 * <ul>
 *   <li>Item tower: item-id embedding ⊕ category embedding → Linear(hidden) → ReLU → Linear(dim) →
 *       L2 normalise.
 *   <li>User tower: weighted mean of the history's item-id embeddings ⊕ weighted mean of their
 *       category embeddings (⊕ the same two means with short-term weights, which follow the last
 *       few acts) ⊕ user-id embedding → Linear(hidden) → ReLU → Linear(dim) → L2 normalise.
 *       Weights come from {@link HistoryWeights}; empty slots weigh 0, so a user without history
 *       is represented by the user-id embedding alone.
 *   <li>With the short-term channel ({@link ModelConfig#hasRecentChannel()}) both towers add,
 *       before normalising, one shared linear map S of item-id embeddings: S·(the item's own
 *       embedding) to the item vector, S·(the short-term mean of the history's item embeddings)
 *       to the user vector. The score then holds a direct item-to-item term between the latest
 *       acts and the candidate, which the MLPs would otherwise have to carry through their
 *       bottleneck.
 * </ul>
 *
 * Results of {@link #itemVectors} and {@link #userVectors} belong to the manager passed in; the
 * caller closes it. Not thread-safe: one instance per thread or operator.
 */
public final class TwoTowerModel implements AutoCloseable {
    public static final String ENGINE = "PyTorch";
    private static final double NORM_EPS = 1e-12;

    private final ModelConfig config;
    private final Model model;
    private final TwoTowerBlock block;
    private final ParameterStore parameterStore;

    private TwoTowerModel(ModelConfig config, Model model, TwoTowerBlock block) {
        this.config = config;
        this.model = model;
        this.block = block;
        this.parameterStore = new ParameterStore(model.getNDManager(), false);
    }

    /** A freshly initialised model; the same seed gives the same parameters. */
    public static TwoTowerModel create(ModelConfig config, Device device, long seed) {
        Engine engine = Engine.getEngine(ENGINE);
        engine.setRandomSeed(Long.hashCode(seed));
        Model model = Model.newInstance("twotower", device, ENGINE);
        try {
            TwoTowerBlock block = new TwoTowerBlock(config);
            block.initialize(model.getNDManager(), DataType.FLOAT32, new Shape(1));
            model.setBlock(block);
            return new TwoTowerModel(config, model, block);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** Loads parameters written by {@link #saveParameters(OutputStream)} for {@code config}. */
    public static TwoTowerModel load(ModelConfig config, Path paramsFile, Device device)
            throws IOException, MalformedModelException {
        try (InputStream in = Files.newInputStream(paramsFile)) {
            return load(config, in, device);
        }
    }

    /** Loads parameters from a stream; checks every shape against {@code config}. */
    public static TwoTowerModel load(ModelConfig config, InputStream params, Device device)
            throws IOException, MalformedModelException {
        Engine.getEngine(ENGINE);
        Model model = Model.newInstance("twotower", device, ENGINE);
        try {
            TwoTowerBlock block = new TwoTowerBlock(config);
            DataInputStream in = new DataInputStream(new BufferedInputStream(params, 1 << 16));
            block.loadParameters(model.getNDManager(), in);
            if (in.read() != -1) {
                throw new MalformedModelException("trailing bytes after the parameters");
            }
            checkShapes(block, config);
            TwoTowerModel loaded = new TwoTowerModel(config, model, block);
            loaded.requireFinite();
            model.setBlock(block);
            return loaded;
        } catch (IOException | MalformedModelException | RuntimeException e) {
            model.close();
            throw e;
        }
    }

    private static void checkShapes(TwoTowerBlock b, ModelConfig c) throws MalformedModelException {
        int e = c.embeddingDim();
        expect(b.itemTable, new Shape(c.itemBuckets(), e));
        expect(b.categoryTable, new Shape(c.categoryBuckets(), e));
        expect(b.userTable, new Shape(c.userBuckets(), e));
        if (b.tokenTable != null) {
            expect(b.tokenTable, new Shape(c.text().buckets(), e));
        }
        expectLinear(b.itemHidden, c.hidden(), b.itemInputWidth());
        expectLinear(b.itemOut, c.dim(), c.hidden());
        expectLinear(b.userHidden, c.hidden(), b.userInputWidth());
        expectLinear(b.userOut, c.dim(), c.hidden());
        if (b.itemSkip != null) {
            expectLinear(b.itemSkip, c.dim(), e);
        }
        if (b.textSkip != null) {
            expectLinear(b.textSkip, c.dim(), e);
        }
        if (b.sequence != null) {
            expect(b.sequence.positionParameter(), new Shape(c.historyLength(), e));
            for (Linear l : b.sequence.linears()) {
                expectLinear(l, e, e);
            }
        }
    }

    private static void expectLinear(Linear linear, long units, long inputs)
            throws MalformedModelException {
        for (Pair<String, Parameter> p : linear.getParameters()) {
            Shape want = p.getValue().getType() == Parameter.Type.BIAS
                    ? new Shape(units)
                    : new Shape(units, inputs);
            expect(p.getValue(), want);
        }
    }

    private static void expect(Parameter p, Shape want) throws MalformedModelException {
        NDArray a = p.getArray();
        if (a == null) {
            throw new MalformedModelException("parameter " + p.getName() + " is missing");
        }
        if (!a.getShape().equals(want) || a.getDataType() != DataType.FLOAT32) {
            throw new MalformedModelException(
                    "parameter " + p.getName() + " has shape " + a.getShape() + " "
                            + a.getDataType() + ", the configuration needs " + want + " float32");
        }
    }

    /** Writes all parameters (DJL's {@code Block.saveParameters} format). */
    public void saveParameters(OutputStream out) throws IOException {
        DataOutputStream dos = new DataOutputStream(new BufferedOutputStream(out, 1 << 16));
        block.saveParameters(dos);
        dos.flush();
    }

    public void saveParameters(Path file) throws IOException {
        try (OutputStream out = Files.newOutputStream(file)) {
            saveParameters(out);
        }
    }

    public ModelConfig config() {
        return config;
    }

    /** The DJL model; its manager owns the parameters. */
    public Model djlModel() {
        return model;
    }

    public NDManager getNDManager() {
        return model.getNDManager();
    }

    public Device device() {
        return model.getNDManager().getDevice();
    }

    public Block block() {
        return block;
    }

    // ---------------------------------------------------------------- serving path

    /**
     * Item vectors ([n, dim], L2-normalised) of items given by their table rows. The result
     * belongs to {@code manager}.
     */
    public NDArray itemVectors(NDManager manager, int[] itemRows, int[] categoryRows) {
        return itemVectors(manager, itemRows, categoryRows, null);
    }

    /**
     * Item vectors with the items' titles ({@code titles}: token rows per item, see {@link
     * TokenBags#titleTokens}; null or an empty entry for an item without one). A model without text
     * ignores them; a model with text reads a missing title as an empty bag.
     */
    public NDArray itemVectors(NDManager manager, int[] itemRows, int[] categoryRows, int[][] titles) {
        return itemVectors(manager, itemRows, categoryRows, titles, null);
    }

    /**
     * Item vectors as {@link #itemVectors(NDManager, int[], int[], int[][])}, with each item's id
     * embedding multiplied by {@code idKeep} (null: all 1): a model with text reads an item never
     * seen in training (count 0) by category and title alone, as it learnt to under id dropout.
     */
    public NDArray itemVectors(NDManager manager, int[] itemRows, int[] categoryRows, int[][] titles, float[] idKeep) {
        if (itemRows.length != categoryRows.length || (titles != null && titles.length != itemRows.length)) {
            throw new IllegalArgumentException("itemRows, categoryRows and titles differ in length");
        }
        NDArray items = lookup(manager, block.itemTable.getArray(), itemRows, itemRows.length, null);
        if (idKeep != null) {
            items = items.mul(manager.create(idKeep, new Shape(idKeep.length, 1)));
        }
        NDArray cats =
                lookup(manager, block.categoryTable.getArray(), categoryRows, categoryRows.length, null);
        NDArray titleBag = null;
        if (block.tokenTable != null) {
            TokenBags bags = new TokenBags(itemRows.length, config.text().maxTokens());
            for (int i = 0; titles != null && i < titles.length; i++) {
                bags.putOne(i, titles[i]);
            }
            titleBag = bags.pooled(manager, block.tokenTable.getArray(), itemRows.length, config.embeddingDim());
        }
        return itemTower(items, cats, titleBag, false);
    }

    /** User vectors ([batch.size(), dim], L2-normalised); the result belongs to {@code manager}. */
    public NDArray userVectors(NDManager manager, UserBatch batch) {
        int b = batch.size();
        int n = batch.historyLength;
        if (n != config.historyLength()) {
            throw new IllegalArgumentException(
                    "batch history length " + n + " != config " + config.historyLength());
        }
        Shape hist = new Shape(b, n, config.embeddingDim());
        NDArray items = lookup(manager, block.itemTable.getArray(), batch.itemRows, b * n, hist);
        NDArray cats = lookup(manager, block.categoryTable.getArray(), batch.categoryRows, b * n, hist);
        NDArray weights = poolingWeights(manager, batch, b);
        NDArray users = lookup(manager, block.userTable.getArray(), batch.userRows, b, null);
        NDArray queries = block.tokenTable == null ? null
                : batch.queries.pooled(manager, block.tokenTable.getArray(), b, config.embeddingDim());
        return userTower(items, cats, weights, users, queries, false);
    }

    // ---------------------------------------------------------------- shared with training

    /**
     * Rows {@code rows[0..count)} of {@code source}, as a new array of {@code manager}, reshaped
     * to {@code shape} when given.
     */
    static NDArray lookup(NDManager manager, NDArray source, int[] rows, int count, Shape shape) {
        long[] idx = new long[count];
        for (int i = 0; i < count; i++) {
            idx[i] = rows[i];
        }
        NDArray index = manager.create(idx);
        NDArray flat = source.get(manager, new NDIndex("{}", index));
        return shape == null ? flat : flat.reshape(shape);
    }

    /** Item tower on embeddings [b, E] ⊕ [b, E] (⊕ the title bags [b, E] of a model with text) → [b, dim]. */
    NDArray itemTower(NDArray itemEmbeddings, NDArray categoryEmbeddings, NDArray titleBags, boolean training) {
        NDArray x = titleBags == null
                ? itemEmbeddings.concat(categoryEmbeddings, 1)
                : NDArrays.concat(new NDList(itemEmbeddings, categoryEmbeddings, titleBags), 1);
        return output(mlp(block.itemHidden, block.itemOut, x, training), itemEmbeddings, titleBags, training);
    }

    /**
     * The pooling weights of the first {@code b} users of a batch as [b, P, N]: P = 1 (the
     * action-and-recency weights) or, with the short-term channel, P = 2 (those, then the
     * short-term weights).
     */
    NDArray poolingWeights(NDManager manager, UserBatch batch, int b) {
        int n = batch.historyLength;
        if (config.hasSequenceTower()) {
            return SequenceAlignment.leftPad(manager, batch.lengths, b, n);
        }
        if (!config.hasRecentChannel()) {
            return manager.create(Arrays.copyOf(batch.weights, b * n), new Shape(b, 1, n));
        }
        float[] w = new float[b * 2 * n];
        for (int u = 0; u < b; u++) {
            System.arraycopy(batch.weights, u * n, w, 2 * u * n, n);
            System.arraycopy(batch.recentWeights, u * n, w, (2 * u + 1) * n, n);
        }
        return manager.create(w, new Shape(b, 2, n));
    }

    /**
     * User tower on history embeddings [b, N, E] (items and categories), pooling weights [b, P, N]
     * (see {@link #poolingWeights}), user-id embeddings [b, E] and, in a model with text, the bags of
     * the users' latest queries [b, E] (null otherwise) → [b, dim].
     */
    NDArray userTower(
            NDArray historyItems,
            NDArray historyCategories,
            NDArray weights,
            NDArray userEmbeddings,
            NDArray queryBags,
            boolean training) {
        long b = weights.getShape().get(0);
        NDArray userInput = queryBags == null ? userEmbeddings : userEmbeddings.concat(queryBags, 1);
        if (block.sequence != null) {
            return sequenceTower(historyItems.add(historyCategories), weights, userInput, queryBags, training);
        }
        NDArray pooled = weights.batchMatMul(historyItems); // [b, P, E]
        NDArray pooledItems = pooled.reshape(b, -1); // [b, P*E]
        NDArray pooledCategories = weights.batchMatMul(historyCategories).reshape(b, -1);
        NDArray x = NDArrays.concat(new NDList(pooledItems, pooledCategories, userInput), 1);
        NDArray o = mlp(block.userHidden, block.userOut, x, training);
        return output(o, block.itemSkip == null ? null : pooled.get(":, -1, :"), queryBags, training);
    }

    /**
     * The sequence user tower: history embeddings [b, N, E] (slots oldest first, filled from 0),
     * left-aligned by {@code alignment} [b, N, N] ({@link SequenceAlignment}) so that the newest item
     * sits at position N − 1, encoded ({@link SequenceEncoder}); the newest position ⊕ the user-id
     * embedding → MLP, plus the shared item skip of the newest item when the model has it.
     */
    private NDArray sequenceTower(NDArray history, NDArray alignment, NDArray userEmbeddings, NDArray queryBags,
            boolean training) {
        NDArray x = alignment.batchMatMul(history); // [b, N, E], padding first
        NDArray valid = alignment.sum(new int[] {2}); // [b, N]
        NDArray h = block.sequence.encode(parameterStore, x, valid, training);
        NDArray latest = h.get(":, -1, :").mul(valid.get(":, -1:")); // zero for a user without history
        NDArray o = mlp(block.userHidden, block.userOut, latest.concat(userEmbeddings, 1), training);
        return output(o, block.itemSkip == null ? null : x.get(":, -1, :"), queryBags, training);
    }

    private NDArray mlp(Linear hidden, Linear out, NDArray x, boolean training) {
        NDArray h = hidden.forward(parameterStore, new NDList(x), training).singletonOrThrow();
        return out.forward(parameterStore, new NDList(Activation.relu(h)), training).singletonOrThrow();
    }

    /**
     * A tower's output: the MLP's, plus the shared projection of item embeddings (the item's own,
     * or the user's short-term pooled ones) when the model has it, plus the shared projection T of
     * token bags (the item's title, the user's queries) in a model with text, L2-normalised: the
     * score then holds a direct query-to-title term.
     */
    private NDArray output(NDArray mlpOut, NDArray itemEmbeddings, NDArray textBags, boolean training) {
        NDArray o = mlpOut;
        if (block.itemSkip != null && itemEmbeddings != null) {
            o = o.add(block.itemSkip.forward(parameterStore, new NDList(itemEmbeddings), training).singletonOrThrow());
        }
        if (block.textSkip != null && textBags != null) {
            o = o.add(block.textSkip.forward(parameterStore, new NDList(textBags), training).singletonOrThrow());
        }
        return o.normalize(2, 1, NORM_EPS);
    }

    /**
     * Fails unless every parameter value is finite: a NaN or infinite value in one embedding row
     * scores nothing wrong until that item or user turns up, so neither a load nor a write may let
     * one through.
     */
    public void requireFinite() throws MalformedModelException {
        for (Parameter p : allParameters()) {
            NDArray a = p.getArray();
            try (NDScope scope = new NDScope()) { // closes the intermediate arrays
                scope.suppressNotUsedWarning();
                long n = a.isNaN().logicalOr(a.isInfinite()).countNonzero().getLong();
                if (n > 0) {
                    throw new MalformedModelException(
                            "parameter " + p.getName() + " holds " + n + " non-finite values");
                }
            }
        }
    }

    /** A copy of every parameter's values (for {@link #restore}, e.g. the best epoch so far). */
    public float[][] snapshot() {
        List<Parameter> all = allParameters();
        float[][] out = new float[all.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = all.get(i).getArray().toFloatArray();
        }
        return out;
    }

    /**
     * The element-wise mean of two {@link #snapshot}s of one model (weight averaging of two points
     * of one training run, as in stochastic weight averaging).
     */
    public static float[][] mean(float[][] a, float[][] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("snapshots of " + a.length + " and " + b.length + " parameters");
        }
        float[][] out = new float[a.length][];
        for (int i = 0; i < a.length; i++) {
            if (a[i].length != b[i].length) {
                throw new IllegalArgumentException("parameter " + i + ": " + a[i].length + " vs " + b[i].length + " values");
            }
            out[i] = new float[a[i].length];
            for (int j = 0; j < out[i].length; j++) {
                out[i][j] = 0.5f * (a[i][j] + b[i][j]);
            }
        }
        return out;
    }

    /** Puts back the values of a {@link #snapshot} of this model, in place. */
    public void restore(float[][] snapshot) {
        List<Parameter> all = allParameters();
        if (snapshot.length != all.size()) {
            throw new IllegalArgumentException("snapshot of " + snapshot.length + " parameters, model has " + all.size());
        }
        for (int i = 0; i < snapshot.length; i++) {
            all.get(i).getArray().set(FloatBuffer.wrap(snapshot[i]));
        }
    }

    private List<Parameter> allParameters() {
        List<Parameter> out = new ArrayList<>();
        for (Pair<String, Parameter> p : block.getParameters()) {
            out.add(p.getValue());
        }
        return out;
    }

    Parameter itemTable() {
        return block.itemTable;
    }

    Parameter categoryTable() {
        return block.categoryTable;
    }

    Parameter userTable() {
        return block.userTable;
    }

    /** The token table of a model with text; null otherwise. */
    Parameter tokenTable() {
        return block.tokenTable;
    }

    /** Weights and biases of both MLPs (what dense Adam updates). */
    List<Parameter> denseParameters() {
        List<Parameter> out = new ArrayList<>();
        for (Linear l : new Linear[] {block.itemHidden, block.itemOut, block.userHidden, block.userOut, block.itemSkip,
                block.textSkip}) {
            if (l == null) {
                continue;
            }
            for (Pair<String, Parameter> p : l.getParameters()) {
                out.add(p.getValue());
            }
        }
        if (block.sequence != null) {
            for (Pair<String, Parameter> p : block.sequence.getParameters()) {
                out.add(p.getValue());
            }
        }
        return out;
    }

    /**
     * Closes the parameters and intermediate arrays, and frees at once the direct buffers that
     * DJL's parameter reader put loaded parameters in. libtorch's tensors point into those
     * buffers (DJL's {@code PtNDArray.dataRef}); closing the tensors leaves the buffers to the
     * garbage collector, and a version that served for minutes has its buffers in the old
     * generation, so they would wait for an old-generation collection: 10.6 MB of the bootstrap
     * version per operator instance and swap, piling up swap after swap on a large heap.
     */
    @Override
    public void close() {
        List<ByteBuffer> buffers = DirectParameters.of(block);
        model.close();
        DirectParameters.free(buffers);
    }
}
