package io.towerflow.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.optimizer.Optimizer;

import java.io.PrintStream;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.Consumer;
import java.util.function.IntPredicate;

/**
 * Trains a {@link TwoTowerModel} with an in-batch sampled softmax (Yi et al., RecSys 2019): in a
 * batch of B examples, logits[i][j] = cos(user_i, item_j) / τ − log q_j, where q_j is the
 * probability that item j is sampled into a batch; the loss is the softmax cross-entropy against
 * the diagonal. Off-diagonal copies of a row's own target item are masked, so an item is never its
 * own negative. By default q comes from a {@link StreamingFrequencyEstimator} updated as the
 * batches stream by (the paper's hashed A/B arrays), so the trainer needs no item vocabulary and
 * no pass over the data to count; {@link LogQ#COUNTS} (frequencies counted over the whole data
 * first) and {@link LogQ#NONE} remain for comparison.
 *
 * <p>Optimisation is Adam. The two MLPs use DJL's {@link Optimizer#adam()}. The embedding tables
 * use a lazy (row-sparse) Adam: each step gathers the rows it touches into small leaf arrays,
 * takes their gradients and updates only those rows and their moments, on a heap copy of the
 * tables that is written back into the model at the end of every epoch. DJL's optimizers take no
 * sparse gradients, and dense Adam over the full tables costs time in proportion to the table
 * size on every step: measured on 2 cores, DJL's Adam over the three default tables (262,144 +
 * 8,192 + 65,536 rows × 32) alone took 95–280 ms a step, while a whole lazy step (batch 256,
 * history 50, forward, backward, all updates) takes about 11–15 ms.
 *
 * <p>Deterministic for a given seed, data and thread count. Every step runs under its own
 * sub-manager and an {@link NDScope}, so nothing accumulates across steps.
 */
public final class TwoTowerTrainer {
    /**
     * With text, the share of item columns whose id embedding is dropped in a step, so that the
     * item tower learns to place an item by category and title alone (how it serves items never
     * seen in training).
     */
    static final double ID_DROPOUT = 0.2;
    /** A logit this low is a masked entry (exp underflows to 0). */
    private static final float MASKED = -1e4f;

    /** How the learning rates move over one {@link #fit}. */
    public enum Schedule {
        /** The given rates throughout. */
        CONSTANT,
        /** From the given rates down to 0 along half a cosine over the fit's steps. */
        COSINE
    }

    /** Where the sampling probability q of the logQ correction comes from. */
    public enum LogQ {
        /** Streaming estimate updated batch by batch ({@link StreamingFrequencyEstimator}). */
        STREAMING,
        /** Each item's share of the training targets, counted before training. */
        COUNTS,
        /** No correction: popular items are over-penalised as negatives. */
        NONE
    }

    /**
     * Training options, as a {@link TrainingRecipe} gives them ({@link TrainingRecipe#trainerOptions()}),
     * with where progress goes.
     *
     * @param batchSize examples per step (the in-batch negatives of each other)
     * @param epochs passes over the data
     * @param learningRate Adam step size of the MLPs
     * @param embeddingLearningRate Adam step size of the embedding rows
     * @param seed shuffling seed
     * @param logEvery progress every this many steps (and at each epoch's end)
     * @param progress where progress lines go, or null
     * @param listener called with each progress report, or null
     * @param logQ where the logQ correction's sampling probabilities come from
     * @param schedule how the learning rates move over a fit
     * @param uniformNegatives uniformly drawn extra negatives per step (see {@link #withUniformNegatives})
     * @param embeddingWeightDecay decoupled weight decay of the embedding rows (see {@link
     *     #withEmbeddingWeightDecay})
     */
    public record Options(
            int batchSize,
            int epochs,
            float learningRate,
            float embeddingLearningRate,
            long seed,
            int logEvery,
            PrintStream progress,
            Consumer<Progress> listener,
            LogQ logQ,
            Schedule schedule,
            int uniformNegatives,
            float embeddingWeightDecay) {

        public Options {
            if (batchSize < 2) {
                throw new IllegalArgumentException("batchSize must be >= 2");
            }
            if (epochs < 0) {
                throw new IllegalArgumentException("epochs must be >= 0");
            }
            if (logEvery <= 0) {
                throw new IllegalArgumentException("logEvery must be > 0");
            }
            if (logQ == null || schedule == null) {
                throw new IllegalArgumentException("logQ and schedule must be given");
            }
            if (uniformNegatives < 0) {
                throw new IllegalArgumentException("uniformNegatives must be >= 0");
            }
            if (!(embeddingWeightDecay >= 0) || Float.isInfinite(embeddingWeightDecay)) {
                throw new IllegalArgumentException("embeddingWeightDecay must be a finite number >= 0");
            }
        }

        public Options withBatchSize(int v) {
            return with(c -> c.batchSize = v);
        }

        public Options withEpochs(int v) {
            return with(c -> c.epochs = v);
        }

        public Options withLearningRates(float dense, float embeddings) {
            return with(c -> {
                c.learningRate = dense;
                c.embeddingLearningRate = embeddings;
            });
        }

        public Options withSeed(long v) {
            return with(c -> c.seed = v);
        }

        public Options withProgress(PrintStream out, int every) {
            return with(c -> {
                c.progress = out;
                c.logEvery = every;
            });
        }

        public Options withListener(Consumer<Progress> l) {
            return with(c -> c.listener = l);
        }

        public Options withSchedule(Schedule v) {
            return with(c -> c.schedule = v);
        }

        /**
         * Mixed negative sampling (Yang et al., WWW 2020): besides the batch's other targets, each
         * step scores this many items drawn uniformly from the data's items as extra negatives, so
         * that rarely-seen items are pushed down too, not only popular ones.
         */
        public Options withUniformNegatives(int v) {
            return with(c -> c.uniformNegatives = v);
        }

        public Options withLogQ(LogQ v) {
            return with(c -> c.logQ = v);
        }

        /**
         * Decoupled weight decay (AdamW, Loshchilov &amp; Hutter, ICLR 2019) of the embedding rows:
         * every step multiplies each row it touches by 1 − lr × decay before its Adam update, so
         * rows the data does not hold up shrink towards zero. Lazy, like the update: a row no
         * batch touches is left alone. 0 (the default) turns it off.
         */
        public Options withEmbeddingWeightDecay(float v) {
            return with(c -> c.embeddingWeightDecay = v);
        }

        /** These options with {@code change} applied to a mutable copy. */
        private Options with(Consumer<Copy> change) {
            Copy c = new Copy(this);
            change.accept(c);
            return c.build();
        }

        /** A mutable copy of an {@link Options}, so that each {@code withX} names only what it changes. */
        private static final class Copy {
            int batchSize;
            int epochs;
            float learningRate;
            float embeddingLearningRate;
            long seed;
            int logEvery;
            PrintStream progress;
            Consumer<Progress> listener;
            LogQ logQ;
            Schedule schedule;
            int uniformNegatives;
            float embeddingWeightDecay;

            Copy(Options o) {
                batchSize = o.batchSize;
                epochs = o.epochs;
                learningRate = o.learningRate;
                embeddingLearningRate = o.embeddingLearningRate;
                seed = o.seed;
                logEvery = o.logEvery;
                progress = o.progress;
                listener = o.listener;
                logQ = o.logQ;
                schedule = o.schedule;
                uniformNegatives = o.uniformNegatives;
                embeddingWeightDecay = o.embeddingWeightDecay;
            }

            Options build() {
                return new Options(batchSize, epochs, learningRate, embeddingLearningRate, seed, logEvery,
                        progress, listener, logQ, schedule, uniformNegatives, embeddingWeightDecay);
            }
        }
    }

    /** A progress report: mean loss over the steps since the previous report. */
    public record Progress(int epoch, long step, long stepsTotal, double loss, double examplesPerSecond) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "epoch %d step %d/%d loss %.4f %.0f examples/s",
                    epoch, step, stepsTotal, loss, examplesPerSecond);
        }
    }

    /**
     * What a {@link #fit} did.
     *
     * @param firstLoss mean loss of the first {@code logEvery} steps
     * @param lastLoss mean loss of the last {@code logEvery} steps
     * @param epochLosses mean loss of each epoch
     */
    public record Result(
            long steps,
            long examples,
            int epochs,
            double firstLoss,
            double lastLoss,
            double[] epochLosses,
            double seconds,
            double examplesPerSecond) {}

    private final TwoTowerModel model;
    private final ModelConfig config;
    private final Options options;
    private final Optimizer denseOptimizer;
    private final List<Parameter> dense;
    private final SparseAdam items;
    private final SparseAdam categories;
    private final SparseAdam users;
    /** The token table of a model with text (null otherwise). */
    private final SparseAdam tokens;
    /** Lives as long as the trainer, so that a second {@link #fit} continues its estimates. */
    private StreamingFrequencyEstimator frequencies;
    private long step;
    /** Factor on both learning rates for the current step (the schedule's value). */
    private double rateFactor = 1;

    /**
     * A trainer continuing from {@code model}'s current parameters (fresh from {@link
     * TwoTowerModel#create} or loaded from a parent version for a warm start).
     */
    public TwoTowerTrainer(TwoTowerModel model, Options options) {
        this.model = model;
        this.config = model.config();
        this.options = options;
        this.denseOptimizer = Optimizer.adam()
                .optLearningRateTracker((parameterId, numUpdate) -> (float) (options.learningRate() * rateFactor))
                .build();
        this.dense = model.denseParameters();
        for (Parameter p : dense) {
            p.getArray().setRequiresGradient(true);
        }
        int e = config.embeddingDim();
        float lr = options.embeddingLearningRate();
        float decay = options.embeddingWeightDecay();
        this.items = new SparseAdam(model.itemTable(), e, lr, decay);
        this.categories = new SparseAdam(model.categoryTable(), e, lr, decay);
        this.users = new SparseAdam(model.userTable(), e, lr, decay);
        this.tokens = config.hasText() ? new SparseAdam(model.tokenTable(), e, lr, decay) : null;
    }

    /** Trains on {@code data} for {@code options.epochs()} epochs; the model holds the result. */
    public Result fit(TrainingExamples data) {
        return fit(data, epoch -> true);
    }

    /**
     * Trains on {@code data} for at most {@code options.epochs()} epochs; after each epoch (its
     * tables written back into the model) {@code afterEpoch} is called with the epoch's number
     * and training stops when it returns false (early stopping). The model holds the result.
     */
    public Result fit(TrainingExamples data, IntPredicate afterEpoch) {
        float[] negLogQ = options.logQ() == LogQ.COUNTS ? countedNegLogQ(data) : new float[data.itemIds.length];
        int uniform = options.uniformNegatives();
        int[] itemCategory = uniform > 0 ? data.latestCategories() : null;
        Random negativeRandom = new Random(options.seed() * 0x9E3779B97F4A7C15L + 1);
        int[] itemKey = null;
        if (options.logQ() == LogQ.STREAMING) {
            if (frequencies == null) {
                frequencies = StreamingFrequencyEstimator.forItems(data.itemIds.length);
            }
            itemKey = new int[data.itemIds.length];
            for (int i = 0; i < itemKey.length; i++) {
                itemKey[i] = StreamingFrequencyEstimator.key(data.itemIds[i]);
            }
        }
        int[] itemRow = new int[data.itemIds.length];
        for (int i = 0; i < itemRow.length; i++) {
            itemRow[i] = IdHashing.bucket(data.itemIds[i], config.itemBuckets());
        }
        int[] catRow = new int[data.categoryIds.length + 1]; // index c + 1; 0 = no category
        catRow[0] = IdHashing.bucket(null, config.categoryBuckets());
        for (int c = 0; c < data.categoryIds.length; c++) {
            catRow[c + 1] = IdHashing.bucket(data.categoryIds[c], config.categoryBuckets());
        }
        int[] userRow = new int[data.userIds.length];
        for (int u = 0; u < userRow.length; u++) {
            userRow[u] = IdHashing.bucket(data.userIds[u], config.userBuckets());
        }
        Text text = config.hasText() ? new Text(data, config.text()) : null;

        int b = options.batchSize();
        int n = data.size();
        long stepsPerEpoch = n / b + (n % b >= 2 ? 1 : 0);
        long stepsTotal = stepsPerEpoch * options.epochs();
        Random random = new Random(options.seed());
        int[] order = data.positions.clone();
        Batch batch = new Batch(b, uniform, config.historyLength(), text);
        double[] epochLosses = new double[options.epochs()];
        List<Double> firstWindow = new ArrayList<>();
        double[] lastWindow = new double[options.logEvery()];
        long examples = 0;
        long steps = 0;
        long started = System.nanoTime();
        double windowLoss = 0;
        int windowSteps = 0;
        long windowExamples = 0;
        long windowStart = started;
        int epochsRun = 0;
        for (int epoch = 1; epoch <= options.epochs(); epoch++) {
            shuffle(order, random);
            double epochLoss = 0;
            int epochSteps = 0;
            for (int from = 0; from + 1 < n; from += b) {
                int to = Math.min(n, from + b);
                if (to - from < 2) {
                    break;
                }
                batch.fill(data, order, from, to, itemRow, catRow, userRow, config);
                if (uniform > 0) {
                    batch.fillUniformNegatives(data.itemIds.length, negativeRandom, itemRow, catRow, itemCategory);
                }
                if (itemKey != null) {
                    batch.streamingNegLogQ(frequencies, itemKey, step + 1, negLogQ);
                }
                if (uniform > 0) {
                    batch.fillMixedBias(negLogQ, itemKey, data.itemIds.length);
                } else {
                    batch.fillBias(negLogQ);
                }
                rateFactor = options.schedule() == Schedule.COSINE
                        ? 0.5 * (1 + Math.cos(Math.PI * steps / stepsTotal))
                        : 1;
                float loss = step(batch);
                if (!Float.isFinite(loss)) {
                    throw new ArithmeticException("training diverged: loss " + loss + " at epoch "
                            + epoch + " step " + (steps + 1) + "; parameters are unusable");
                }
                steps++;
                examples += to - from;
                epochLoss += loss;
                epochSteps++;
                if (firstWindow.size() < options.logEvery()) {
                    firstWindow.add((double) loss);
                }
                lastWindow[(int) ((steps - 1) % lastWindow.length)] = loss;
                windowLoss += loss;
                windowSteps++;
                windowExamples += to - from;
                boolean endOfEpoch = to >= n || n - to < 2;
                if (steps % options.logEvery() == 0 || endOfEpoch) {
                    long now = System.nanoTime();
                    report(new Progress(epoch, steps, stepsTotal, windowLoss / windowSteps,
                            windowExamples / Math.max(1e-9, (now - windowStart) / 1e9)));
                    windowLoss = 0;
                    windowSteps = 0;
                    windowExamples = 0;
                    windowStart = now;
                }
            }
            epochLosses[epoch - 1] = epochSteps == 0 ? Double.NaN : epochLoss / epochSteps;
            flushTables();
            epochsRun = epoch;
            long paused = System.nanoTime();
            boolean go = afterEpoch.test(epoch);
            paused = System.nanoTime() - paused;
            started += paused; // the caller's time (e.g. validation) is not training time
            windowStart += paused;
            if (!go) {
                break;
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        int lastCount = (int) Math.min(steps, lastWindow.length);
        double last = 0;
        for (int i = 0; i < lastCount; i++) {
            last += lastWindow[i];
        }
        double first = firstWindow.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        return new Result(steps, examples, epochsRun, first,
                lastCount == 0 ? Double.NaN : last / lastCount, Arrays.copyOf(epochLosses, epochsRun), seconds,
                examples / Math.max(1e-9, seconds));
    }

    /** −log of each item's share of the targets of {@code data} (0 for items never a target). */
    private static float[] countedNegLogQ(TrainingExamples data) {
        long[] count = new long[data.itemIds.length];
        for (int p : data.positions) {
            count[data.eventItem[p]]++;
        }
        long total = data.positions.length;
        float[] negLogQ = new float[count.length];
        for (int i = 0; i < count.length; i++) {
            negLogQ[i] = count[i] == 0 ? 0f : (float) -Math.log((double) count[i] / total);
        }
        return negLogQ;
    }

    private void report(Progress p) {
        if (options.progress() != null) {
            options.progress().println(p);
        }
        if (options.listener() != null) {
            options.listener().accept(p);
        }
    }

    /** Writes the heap copies of the embedding tables back into the model. */
    public void flushTables() {
        items.flush();
        categories.flush();
        users.flush();
        if (tokens != null) {
            tokens.flush();
        }
    }

    /** The token buckets of the data's titles and queries, for a model with text. */
    private static final class Text {
        final TextConfig config;
        /** By dense item; empty arrays for items without a title. */
        final int[][] titles;
        /** By query text index. */
        final int[][] queries;
        final TrainingExamples data;

        Text(TrainingExamples data, TextConfig config) {
            this.config = config;
            this.data = data;
            this.titles = new int[data.itemIds.length][];
            for (int i = 0; i < titles.length; i++) {
                String t = data.itemTitles == null ? null : data.itemTitles[i];
                titles[i] = TextTokens.buckets(t, config.buckets(), config.maxTokens());
            }
            this.queries = new int[data.queries.texts().length][];
            for (int q = 0; q < queries.length; q++) {
                queries[q] = TextTokens.buckets(data.queries.texts()[q], config.buckets(), config.maxTokens());
            }
        }
    }

    private static void shuffle(int[] a, Random random) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /** One optimisation step; returns the batch loss. */
    private float step(Batch batch) {
        step++;
        int b = batch.size;
        int n = config.historyLength();
        int e = config.embeddingDim();
        float loss;
        float[] itemGrad;
        float[] catGrad;
        float[] userGrad;
        float[] tokenGrad;
        try (NDManager sm = model.getNDManager().newSubManager()) {
            try (NDScope scope = new NDScope();
                    GradientCollector gc = Engine.getEngine(TwoTowerModel.ENGINE).newGradientCollector()) {
                scope.suppressNotUsedWarning();
                NDArray itemLeaf = items.gather(sm);
                NDArray catLeaf = categories.gather(sm);
                NDArray userLeaf = users.gather(sm);
                Shape hist = new Shape(b, n, e);
                NDArray histItems = TwoTowerModel.lookup(sm, itemLeaf, batch.user.itemRows, b * n, hist);
                NDArray histCats = TwoTowerModel.lookup(sm, catLeaf, batch.user.categoryRows, b * n, hist);
                NDArray weights = model.poolingWeights(sm, batch.user, b);
                NDArray userEmb = TwoTowerModel.lookup(sm, userLeaf, batch.user.userRows, b, null);
                int columns = batch.columns();
                NDArray tokenLeaf = tokens == null ? null : tokens.gather(sm);
                NDArray queryBags = tokens == null ? null : batch.user.queries.pooled(sm, tokenLeaf, b, e);
                NDArray titleBags = tokens == null ? null : batch.titles.pooled(sm, tokenLeaf, columns, e);
                NDArray u = model.userTower(histItems, histCats, weights, userEmb, queryBags, true);
                NDArray columnIds = TwoTowerModel.lookup(sm, itemLeaf, batch.targetItem, columns, null);
                if (tokens != null) { // id dropout: the tower learns to place an item by category and title
                    columnIds = columnIds.mul(sm.create(Arrays.copyOf(batch.idKeep, columns), new Shape(columns, 1)));
                }
                NDArray v = model.itemTower(
                        columnIds,
                        TwoTowerModel.lookup(sm, catLeaf, batch.targetCategory, columns, null),
                        titleBags,
                        true);
                NDArray bias = sm.create(Arrays.copyOf(batch.bias, b * columns), new Shape(b, columns));
                NDArray logits = u.matMul(v.transpose()).div(config.temperature()).add(bias);
                NDArray diagonal = columns == b ? sm.eye(b) : sm.eye(b, columns, 0, DataType.FLOAT32);
                NDArray lossArray = logits.logSoftmax(1).mul(diagonal).sum().div(-b);
                gc.backward(lossArray);
                loss = lossArray.getFloat();
                itemGrad = itemLeaf.getGradient().toFloatArray();
                catGrad = catLeaf.getGradient().toFloatArray();
                userGrad = userLeaf.getGradient().toFloatArray();
                tokenGrad = tokenLeaf == null ? null : tokenLeaf.getGradient().toFloatArray();
            }
            for (Parameter p : dense) {
                NDArray w = p.getArray();
                try (NDArray g = w.getGradient()) {
                    denseOptimizer.update(p.getId(), w, g);
                }
            }
        }
        items.update(itemGrad, step, rateFactor);
        categories.update(catGrad, step, rateFactor);
        users.update(userGrad, step, rateFactor);
        items.endStep();
        categories.endStep();
        users.endStep();
        if (tokens != null) {
            tokens.update(tokenGrad, step, rateFactor);
            tokens.endStep();
        }
        return loss;
    }

    /** The inputs of one step, in rows of the per-step gathered sub-tables. */
    private final class Batch {
        final UserBatch user;
        final int[] targetItem;
        final int[] targetCategory;
        final float[] bias;
        final int[] targetDense;
        private final int[] keys;
        /** Dense items of the uniform negatives, which follow the targets in the column arrays. */
        final int[] negativeDense;
        int size;
        int negatives;
        /** The titles of the columns (targets, then uniform negatives), with text. */
        final TokenBags titles;
        private final Text text;
        private final int[] queryIndex;
        /** Per column, 0 where the id embedding is dropped (a share {@link #ID_DROPOUT} of them, with text). */
        final float[] idKeep;
        private final Random dropout;

        Batch(int capacity, int uniformNegatives, int historyLength, Text text) {
            this.text = text;
            this.idKeep = new float[capacity + uniformNegatives];
            this.dropout = new Random(options.seed() ^ 0x1DD0L);
            this.titles = text == null ? null : new TokenBags(capacity + uniformNegatives, text.config.maxTokens());
            this.queryIndex = text == null ? null : new int[text.config.queries()];
            user = new UserBatch(capacity, historyLength, text == null ? null : text.config);
            targetItem = new int[capacity + uniformNegatives];
            targetCategory = new int[capacity + uniformNegatives];
            targetDense = new int[capacity];
            negativeDense = new int[uniformNegatives];
            bias = new float[capacity * (capacity + uniformNegatives)];
            keys = new int[capacity];
        }

        /** Candidate columns of the softmax: the batch's targets, then the uniform negatives. */
        int columns() {
            return size + negatives;
        }

        void fill(TrainingExamples data, int[] order, int from, int to, int[] itemRow, int[] catRow,
                int[] userRow, ModelConfig c) {
            user.clear();
            size = to - from;
            negatives = 0;
            int n = c.historyLength();
            if (text != null) {
                tokens.local(0); // local row 0 is table row 0: where empty slots point
            }
            for (int i = 0; i < size; i++) {
                int p = order[from + i];
                // targets first, so that local row 0 of every sub-table is a real, touched row
                targetDense[i] = data.eventItem[p];
                targetItem[i] = items.local(itemRow[data.eventItem[p]]);
                targetCategory[i] = categories.local(catRow[data.eventCategory[p] + 1]);
                putTitle(i, data.eventItem[p]);
            }
            for (int i = 0; i < size; i++) {
                int p = order[from + i];
                int u = user.beginUser(users.local(userRow[data.eventUser[p]]));
                int hFrom = data.historyFrom(p);
                int base = u * n;
                for (int q = hFrom; q < p; q++) {
                    user.itemRows[base + q - hFrom] = items.local(itemRow[data.eventItem[q]]);
                    user.categoryRows[base + q - hFrom] = categories.local(catRow[data.eventCategory[q] + 1]);
                }
                user.fillWeights(c, data.eventAction, data.eventTs, hFrom, p, base);
                if (text != null) {
                    putQueries(data, u, p, c);
                }
            }
        }

        /** Column {@code column}'s title bag: the dense item's title tokens as local rows. */
        private void putTitle(int column, int dense) {
            if (text != null) {
                idKeep[column] = dropout.nextDouble() < ID_DROPOUT ? 0f : 1f;
                titles.putOne(column, localTokens(text.titles[dense]));
            }
        }

        /** User {@code u}'s latest queries before the event at {@code p}, weighted as in serving. */
        private void putQueries(TrainingExamples data, int u, int p, ModelConfig c) {
            int n = data.queriesBefore(p, queryIndex.length, queryIndex);
            int[][] texts = new int[n][];
            int[] actsAfter = new int[n];
            for (int k = 0; k < n; k++) {
                int q = queryIndex[k];
                texts[k] = localTokens(text.queries[data.queries.text()[q]]);
                actsAfter[k] = p - data.queries.visibleFrom()[q];
            }
            user.putQueries(c, u, texts, actsAfter);
        }

        private int[] localTokens(int[] buckets) {
            int[] local = new int[buckets.length];
            for (int j = 0; j < local.length; j++) {
                local[j] = tokens.local(buckets[j]);
            }
            return local;
        }

        /**
         * Feeds this batch's targets to the estimator as the batch of {@code step} and writes
         * −log q of each target into {@code negLogQ} (indexed by dense item).
         */
        void streamingNegLogQ(StreamingFrequencyEstimator frequencies, int[] itemKey, long step, float[] negLogQ) {
            for (int i = 0; i < size; i++) {
                keys[i] = itemKey[targetDense[i]];
            }
            frequencies.update(keys, size, step);
            for (int i = 0; i < size; i++) {
                negLogQ[targetDense[i]] = (float) -Math.log(frequencies.probability(keys[i]));
            }
        }

        /** Draws the uniform negatives from the {@code itemCount} dense items of the data. */
        void fillUniformNegatives(int itemCount, Random random, int[] itemRow, int[] catRow, int[] itemCategory) {
            negatives = negativeDense.length;
            for (int k = 0; k < negatives; k++) {
                int d = random.nextInt(itemCount);
                negativeDense[k] = d;
                targetItem[size + k] = items.local(itemRow[d]);
                targetCategory[size + k] = categories.local(catRow[itemCategory[d]]);
                putTitle(size + k, d);
            }
        }

        /**
         * The bias of every (row, column) pair when uniform negatives are mixed in: −log of the
         * column item's expected number of copies among the candidates, B·q (its share of the
         * targets: {@code exp(−negLogQ)}, or the streaming estimate of a batch holding it) plus
         * U / N from the uniform draws; a row's own target elsewhere among the columns is masked.
         */
        void fillMixedBias(float[] negLogQ, int[] itemKey, int itemCount) {
            int columns = columns();
            double uniformShare = negatives / (double) itemCount;
            for (int j = 0; j < columns; j++) {
                int d = j < size ? targetDense[j] : negativeDense[j - size];
                double inBatch;
                if (options.logQ() == LogQ.NONE) {
                    inBatch = Double.NaN;
                } else if (itemKey != null) {
                    inBatch = frequencies.seenProbability(itemKey[d]);
                } else {
                    inBatch = negLogQ[d] == 0f ? 0 : size * Math.exp(-negLogQ[d]);
                }
                float columnBias = Double.isNaN(inBatch) ? 0f : (float) -Math.log(inBatch + uniformShare);
                for (int i = 0; i < size; i++) {
                    boolean ownTargetElsewhere = i != j && targetDense[i] == d;
                    bias[i * columns + j] = ownTargetElsewhere ? MASKED : columnBias;
                }
            }
        }

        /** The logQ bias of every (row, column) pair; other rows' copies of a row's target masked. */
        void fillBias(float[] negLogQ) {
            for (int i = 0; i < size; i++) {
                for (int j = 0; j < size; j++) {
                    bias[i * size + j] = i != j && targetDense[i] == targetDense[j]
                            ? MASKED
                            : negLogQ[targetDense[j]];
                }
            }
        }
    }

    /**
     * Lazy Adam over one embedding table: a heap copy of the table and its moments; per step the
     * touched rows get local indices, are gathered into a leaf array, and only they are updated.
     */
    private static final class SparseAdam {
        private static final float BETA1 = 0.9f;
        private static final float BETA2 = 0.999f;
        private static final float EPS = 1e-8f;

        final Parameter parameter;
        final int width;
        final float lr;
        final float decay;
        final float[] table;
        final float[] m;
        final float[] v;
        final int[] slot;
        int[] touched = new int[1024];
        int touchedCount;

        SparseAdam(Parameter parameter, int width, float lr, float decay) {
            this.parameter = parameter;
            this.width = width;
            this.lr = lr;
            this.decay = decay;
            this.table = parameter.getArray().toFloatArray();
            int rows = table.length / width;
            this.m = new float[table.length];
            this.v = new float[table.length];
            this.slot = new int[rows];
            Arrays.fill(slot, -1);
        }

        /** Local index of table row {@code row} in this step's sub-table. */
        int local(int row) {
            int s = slot[row];
            if (s < 0) {
                if (touchedCount == touched.length) {
                    touched = Arrays.copyOf(touched, touchedCount * 2);
                }
                s = touchedCount;
                touched[touchedCount++] = row;
                slot[row] = s;
            }
            return s;
        }

        /** The touched rows as a leaf array with gradient, in {@code manager}. */
        NDArray gather(NDManager manager) {
            float[] rows = new float[touchedCount * width];
            for (int i = 0; i < touchedCount; i++) {
                System.arraycopy(table, touched[i] * width, rows, i * width, width);
            }
            NDArray leaf = manager.create(rows, new Shape(touchedCount, width));
            leaf.setRequiresGradient(true);
            return leaf;
        }

        /**
         * Adam on the touched rows at step {@code t}, with the step size {@code lr × factor}, after
         * the decoupled weight decay of those rows.
         */
        void update(float[] grad, long t, double factor) {
            float correction = (float) (lr * factor * Math.sqrt(1 - Math.pow(BETA2, t)) / (1 - Math.pow(BETA1, t)));
            float keep = (float) (1 - lr * factor * decay);
            for (int i = 0; i < touchedCount; i++) {
                int base = touched[i] * width;
                int g0 = i * width;
                for (int k = 0; k < width; k++) {
                    float g = grad[g0 + k];
                    int x = base + k;
                    m[x] = BETA1 * m[x] + (1 - BETA1) * g;
                    v[x] = BETA2 * v[x] + (1 - BETA2) * g * g;
                    table[x] = keep * table[x] - correction * m[x] / ((float) Math.sqrt(v[x]) + EPS);
                }
            }
        }

        void endStep() {
            for (int i = 0; i < touchedCount; i++) {
                slot[touched[i]] = -1;
            }
            touchedCount = 0;
        }

        void flush() {
            parameter.getArray().set(FloatBuffer.wrap(table));
        }
    }
}
