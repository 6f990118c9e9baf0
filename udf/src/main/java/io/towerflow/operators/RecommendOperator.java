package io.towerflow.operators;

import io.towerflow.model.InvalidModelException;
import io.towerflow.model.RefusedModelException;
import io.towerflow.model.ServingModel;
import io.towerflow.model.UserQuery;
import io.towerflow.model.UserResult;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.CatalogueItem;
import io.towerflow.records.ControlMessage;
import io.towerflow.records.Feedback;
import io.towerflow.records.ModelUpdate;
import io.towerflow.records.Recommendation;
import io.towerflow.records.ScoredItem;

import ai.djl.Device;

import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.runtime.metrics.groups.AbstractMetricGroup;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The keyed heart of the job. Input 1 is behaviour events keyed by userId; input 2 is the
 * broadcast control stream (model versions to serve, catalogue changes).
 *
 * <p>For every event it updates the user's history in keyed state, emits the user's top-K list,
 * and emits a {@link Feedback} training example to the {@link #FEEDBACK} side output (the history
 * before the act, and whether and where the item was in the last list shown).
 *
 * <p>Events are micro-batched, as Flink's own mini-batch operators do: a batch is scored when it
 * holds {@code batchMaxSize} events, when its oldest event has waited {@code batchMaxWaitMs}
 * (processing time), before every checkpoint barrier ({@link #prepareSnapshotPreBarrier}) and at
 * end of input. A batch is one model call: user tower for all its users, one matrix product with
 * the item matrix, one top-K. Because the batch is emitted before the barrier, no buffered event
 * is ever part of a checkpoint, which keeps the exactly-once sinks exact.
 *
 * <p>Model versions are loaded and validated on a background thread (manifest and file
 * checksums, dimensions, a smoke inference), then swapped in between batches; the old version is
 * closed. The highest version wins whatever the arrival order; a version that fails validation is
 * refused and the old one keeps serving. The few highest updates seen are kept in broadcast state
 * ({@code towerflow.model.kept-updates}), so a restored job serves the highest valid one again;
 * the hit-rate metrics of versions no longer kept are closed at the next swap. The latest
 * catalogue change of each item is kept likewise and applied to whichever version serves: new
 * items get vectors from the item tower, unavailable ones leave the index.
 *
 * <p>State per user (all with a TTL): the last N interactions, the user vector the model last
 * computed, and the last list shown.
 */
public class RecommendOperator extends AbstractStreamOperator<Recommendation>
        implements TwoInputStreamOperator<BehaviorEvent, ControlMessage, Recommendation> {
    private static final long serialVersionUID = 1L;

    public static final OutputTag<Feedback> FEEDBACK = new OutputTag<>("rec-feedback") {};

    /** Every model update seen, by version (broadcast state). */
    static final MapStateDescriptor<String, ModelUpdate> MODEL_UPDATES =
            new MapStateDescriptor<>("model-updates", Types.STRING, TypeInformation.of(ModelUpdate.class));
    /** The latest catalogue upsert of each item (broadcast state). */
    static final MapStateDescriptor<String, CatalogueItem> CATALOGUE =
            new MapStateDescriptor<>("catalogue", Types.STRING, TypeInformation.of(CatalogueItem.class));

    private static final long SWAP_POLL_MS = 20;
    private static final Logger LOG = LoggerFactory.getLogger(RecommendOperator.class);

    private final RecommendConfig config;

    private transient ServingModel model;
    private transient Device device;
    private transient ValueState<UserHistory> history;
    private transient ValueState<float[]> userVector;
    private transient ValueState<ShownList> lastShown;
    private transient BroadcastState<String, ModelUpdate> modelUpdates;
    private transient BroadcastState<String, CatalogueItem> catalogue;
    private transient Map<String, CatalogueItem> catalogueChanges;
    private transient boolean catalogueDirty;
    private transient List<StreamRecord<BehaviorEvent>> buffer;
    private transient boolean flushScheduled;

    private transient ExecutorService loader;
    private transient String loadingVersion;
    private transient AtomicReference<Loaded> loaded;
    private transient boolean swapPollScheduled;

    private transient Counter listsEmitted;
    private transient Counter coldStartLists;
    private transient Counter batches;
    private transient Counter modelSwaps;
    private transient Counter modelUpdatesRefused;
    private transient Map<String, Counter> refusalsByReason;
    private transient Histogram batchScoringMs;
    private transient Map<String, OnlineHitRate> onlineHitRates;
    private transient volatile String lastRefusal;

    /** The outcome of a background load; a refusal has a failure and its reason's label. */
    private record Loaded(ModelUpdate update, ServingModel model, String failure, String reason) {}

    public RecommendOperator(RecommendConfig config) {
        this.config = config;
    }

    @Override
    public void open() throws Exception {
        super.open();
        StateTtlConfig ttl =
                StateTtlConfig.newBuilder(config.stateTtl)
                        .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
                        .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                        .cleanupIncrementally(10, false)
                        .cleanupInRocksdbCompactFilter(1000)
                        .build();
        ValueStateDescriptor<UserHistory> h = new ValueStateDescriptor<>("history", UserHistory.class);
        h.enableTimeToLive(ttl);
        ValueStateDescriptor<float[]> v =
                new ValueStateDescriptor<>(
                        "user-vector", PrimitiveArrayTypeInfo.FLOAT_PRIMITIVE_ARRAY_TYPE_INFO);
        v.enableTimeToLive(ttl);
        ValueStateDescriptor<ShownList> s = new ValueStateDescriptor<>("last-shown", ShownList.class);
        s.enableTimeToLive(ttl);
        history = getKeyedStateStore().getState(h);
        userVector = getKeyedStateStore().getState(v);
        lastShown = getKeyedStateStore().getState(s);
        modelUpdates = getOperatorStateBackend().getBroadcastState(MODEL_UPDATES);
        catalogue = getOperatorStateBackend().getBroadcastState(CATALOGUE);

        buffer = new ArrayList<>(config.batchMaxSize);
        loaded = new AtomicReference<>();
        onlineHitRates = new HashMap<>();
        MetricGroup metrics = getMetricGroup();
        listsEmitted = metrics.counter("recommendationsEmitted");
        coldStartLists = metrics.counter("coldStartLists");
        batches = metrics.counter("batchesScored");
        modelSwaps = metrics.counter("modelSwaps");
        modelUpdatesRefused = metrics.counter("modelUpdatesRefused");
        refusalsByReason = new HashMap<>();
        batchScoringMs = metrics.histogram("batchScoringMs", new DescriptiveStatisticsHistogram(1000));
        metrics.gauge("servingModelVersion", () -> model == null ? "" : model.version());
        metrics.gauge("catalogueSize", () -> model == null ? 0 : model.catalogueSize());
        metrics.gauge("lastModelRefusal", () -> lastRefusal == null ? "" : lastRefusal);

        DjlRuntime.configureThreads(config.numThreads, config.numInteropThreads);
        device = DjlRuntime.device(config.device);
        model = restoreOrInitialModel();
        catalogueChanges = new HashMap<>();
        for (Map.Entry<String, CatalogueItem> e : catalogue.entries()) {
            catalogueChanges.put(e.getKey(), e.getValue());
        }
        catalogueDirty = !catalogueChanges.isEmpty();
        applyCatalogueIfChanged();
        loader =
                Executors.newSingleThreadExecutor(
                        r -> {
                            Thread t = new Thread(r, "towerflow-model-loader");
                            t.setDaemon(true);
                            return t;
                        });
        LOG.info("Serving model {} ({} items) on {}", model.version(), model.catalogueSize(), device);
    }

    /** After a restore, the highest valid version seen before; else the configured one. */
    private ServingModel restoreOrInitialModel() throws Exception {
        List<ModelUpdate> seen = new ArrayList<>();
        for (Map.Entry<String, ModelUpdate> e : modelUpdates.entries()) {
            seen.add(e.getValue());
        }
        seen.sort(Comparator.comparing((ModelUpdate u) -> u.version).reversed());
        for (ModelUpdate u : seen) {
            try {
                return ModelLoader.load(u, config.modelStore, device, config.topK);
            } catch (InvalidModelException e) {
                LOG.warn("Not restoring model {}: {}", u.version, e.getMessage());
            }
        }
        ServingModel initial = ServingModel.load(Paths.get(config.modelPath), device);
        try {
            // a smoke inference: proves the version scores, and warms libtorch before the first event
            ModelLoader.smokeTest(initial, config.topK);
        } catch (InvalidModelException e) {
            initial.close();
            throw e;
        }
        return initial;
    }

    @Override
    public void processElement1(StreamRecord<BehaviorEvent> element) throws Exception {
        buffer.add(element);
        if (buffer.size() >= config.batchMaxSize) {
            flush();
        } else if (!flushScheduled) {
            flushScheduled = true;
            long at = getProcessingTimeService().getCurrentProcessingTime() + config.batchMaxWaitMs;
            getProcessingTimeService().registerTimer(at, t -> flush());
        }
    }

    @Override
    public void processElement2(StreamRecord<ControlMessage> element) throws Exception {
        ControlMessage m = element.getValue();
        if (m.model != null) {
            modelUpdates.put(m.model.version, m.model);
            BoundedBroadcastState.keepHighest(modelUpdates, config.keptModelUpdates);
            requestModel(m.model);
        } else if (m.item != null) {
            catalogue.put(m.item.itemId, m.item);
            catalogueChanges.put(m.item.itemId, m.item);
            catalogueDirty = true;
            scheduleSwapPoll();
        }
    }

    /** Starts loading {@code update} off the processing path if it is newer than what serves. */
    private void requestModel(ModelUpdate update) {
        if (update.version.compareTo(model.version()) <= 0
                || (loadingVersion != null && update.version.compareTo(loadingVersion) <= 0)) {
            LOG.info("Ignoring model {}: {} serves{}", update.version, model.version(),
                    loadingVersion == null ? "" : ", " + loadingVersion + " is loading");
            return;
        }
        loadingVersion = update.version;
        LOG.info("Loading model {} from {}", update.version, update.uri);
        loader.execute(
                () -> {
                    Loaded result;
                    try {
                        result = new Loaded(update, ModelLoader.load(update, config.modelStore, device, config.topK),
                                null, null);
                    } catch (RefusedModelException e) {
                        result = new Loaded(update, null, e.getMessage(), e.reason().label());
                    } catch (Throwable t) {
                        result = new Loaded(update, null, t.getMessage() == null ? t.toString() : t.getMessage(), "error");
                    }
                    Loaded previous = loaded.getAndSet(result);
                    if (previous != null && previous.model != null) {
                        previous.model.close(); // superseded before it was installed
                    }
                });
        scheduleSwapPoll();
    }

    private void scheduleSwapPoll() {
        if (!swapPollScheduled) {
            swapPollScheduled = true;
            long at = getProcessingTimeService().getCurrentProcessingTime() + SWAP_POLL_MS;
            getProcessingTimeService()
                    .registerTimer(
                            at,
                            t -> {
                                swapPollScheduled = false;
                                installLoadedModel();
                                applyCatalogueIfChanged();
                                if (loadingVersion != null) {
                                    scheduleSwapPoll();
                                }
                            });
        }
    }

    /** Between batches: swaps in a model that finished loading, or records why it was refused. */
    private void installLoadedModel() {
        Loaded l = loaded.getAndSet(null);
        if (l == null) {
            return;
        }
        if (l.update.version.equals(loadingVersion)) {
            loadingVersion = null;
        }
        if (l.model == null) {
            modelUpdatesRefused.inc();
            refusalsByReason
                    .computeIfAbsent(l.reason, r -> getMetricGroup().addGroup("reason", r).counter("modelUpdatesRefused"))
                    .inc();
            lastRefusal = l.update.version + ": " + l.reason + ": " + l.failure;
            LOG.warn("Refused model {} from {} ({}: {}); {} keeps serving",
                    l.update.version, l.update.uri, l.reason, l.failure, model.version());
            return;
        }
        if (l.update.version.compareTo(model.version()) <= 0) {
            l.model.close();
            return;
        }
        ServingModel old = model;
        model = l.model;
        catalogueDirty |= !catalogueChanges.isEmpty();
        applyCatalogueIfChanged();
        old.close();
        retireHitRates();
        modelSwaps.inc();
        LOG.info("Swapped model {} -> {}", old.version(), model.version());
    }

    private void applyCatalogueIfChanged() {
        if (catalogueDirty) {
            catalogueDirty = false;
            model.applyCatalogue(catalogueChanges);
            LOG.info("Catalogue changes applied: {} items changed, {} items in the index",
                    catalogueChanges.size(), model.catalogueSize());
        }
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        flush();
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    @Override
    public void finish() throws Exception {
        flush();
        super.finish();
    }

    /** Scores and emits everything buffered, in arrival order. */
    void flush() throws Exception {
        flushScheduled = false;
        if (buffer.isEmpty()) {
            return;
        }
        installLoadedModel();
        applyCatalogueIfChanged();
        long started = System.nanoTime();
        List<StreamRecord<BehaviorEvent>> batch = buffer;
        buffer = new ArrayList<>(config.batchMaxSize);

        // 1. update each user's history (events of one user apply in order) and build queries
        List<UserQuery> queries = new ArrayList<>(batch.size());
        UserHistory[] before = new UserHistory[batch.size()];
        boolean[] cold = new boolean[batch.size()];
        for (int i = 0; i < batch.size(); i++) {
            BehaviorEvent e = batch.get(i).getValue();
            setCurrentKey(e.userId);
            UserHistory h = history.value();
            before[i] = h == null ? new UserHistory() : h;
            UserHistory after = before[i].append(e, config.historyLength);
            history.update(after);
            cold[i] = !model.knowsAny(after.itemIds);
            queries.add(
                    new UserQuery(
                            e.userId,
                            after.itemIds,
                            after.categoryIds,
                            after.actions,
                            after.ts,
                            e.ts,
                            config.excludeSeen ? after.itemSet() : Set.of()));
        }

        // 2. one batched model call for the whole batch
        List<UserResult> results = model.recommend(queries, config.topK);

        // 3. per event: judge the act against the last list shown, emit the new list
        long emittedTs = getProcessingTimeService().getCurrentProcessingTime();
        String version = model.version();
        for (int i = 0; i < batch.size(); i++) {
            StreamRecord<BehaviorEvent> rec = batch.get(i);
            BehaviorEvent e = rec.getValue();
            setCurrentKey(e.userId);
            emit(rec, feedback(e, before[i], lastShown.value()));

            ScoredItem[] items;
            if (cold[i]) {
                items = model.popular(config.topK, queries.get(i).exclude());
                coldStartLists.inc();
            } else {
                items = results.get(i).items();
            }
            userVector.update(results.get(i).userVector());
            String[] ids = new String[items.length];
            for (int j = 0; j < items.length; j++) {
                ids[j] = items[j].itemId;
            }
            lastShown.update(new ShownList(version, emittedTs, ids));
            Recommendation out = new Recommendation(e.userId, e.ts, emittedTs, version, items);
            output.collect(rec.hasTimestamp() ? new StreamRecord<>(out, rec.getTimestamp()) : new StreamRecord<>(out));
            listsEmitted.inc();
        }
        batches.inc();
        batchScoringMs.update((System.nanoTime() - started) / 1_000_000);
    }

    private Feedback feedback(BehaviorEvent e, UserHistory before, ShownList shown) {
        Feedback f = before.feedbackFor(e, shown);
        if (f.wasShown() && (onlineHitRates.containsKey(f.shownModelVersion) || retained(f.shownModelVersion))) {
            onlineHitRates
                    .computeIfAbsent(f.shownModelVersion, v -> new OnlineHitRate(getMetricGroup(), v))
                    .record(f.shownRank > 0);
        }
        return f;
    }

    /** Whether {@code version} serves or is among the model updates kept in broadcast state. */
    private boolean retained(String version) {
        try {
            return version.equals(model.version()) || modelUpdates.contains(version);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Closes the hit-rate metric groups of versions no longer retained, so they do not pile up. */
    private void retireHitRates() {
        onlineHitRates.entrySet().removeIf(e -> {
            if (retained(e.getKey())) {
                return false;
            }
            e.getValue().close();
            return true;
        });
    }

    private void emit(StreamRecord<BehaviorEvent> rec, Feedback f) {
        output.collect(FEEDBACK, rec.hasTimestamp() ? new StreamRecord<>(f, rec.getTimestamp()) : new StreamRecord<>(f));
    }

    @Override
    public void close() throws Exception {
        try {
            if (loader != null) {
                loader.shutdownNow();
            }
            Loaded l = loaded == null ? null : loaded.getAndSet(null);
            if (l != null && l.model != null) {
                l.model.close();
            }
            if (model != null) {
                model.close();
                model = null;
            }
        } finally {
            super.close();
        }
    }

    /** The version serving now (for tests and diagnostics). */
    String servingVersion() {
        return model.version();
    }

    /** Refusals of model updates for {@code reason} (a {@link RefusedModelException.Reason#label()}). */
    long refusals(String reason) {
        Counter c = refusalsByReason.get(reason);
        return c == null ? 0 : c.getCount();
    }

    /** Entries of the model-updates and catalogue broadcast states, and versions with hit-rate metrics. */
    int[] retainedSizes() throws Exception {
        int updates = 0;
        for (Map.Entry<String, ModelUpdate> ignored : modelUpdates.entries()) {
            updates++;
        }
        int items = 0;
        for (Map.Entry<String, CatalogueItem> ignored : catalogue.entries()) {
            items++;
        }
        return new int[] {updates, items, onlineHitRates.size()};
    }

    /** Why the last refused model update was refused, or null. */
    String lastRefusal() {
        return lastRefusal;
    }

    /** The number of items the serving index holds. */
    int catalogueSize() {
        return model.catalogueSize();
    }

    /** Prequential hit rate of one model version: acts on an item of the list it showed. */
    private static final class OnlineHitRate {
        private final MetricGroup group;
        private final Counter acts;
        private final Counter hits;

        OnlineHitRate(MetricGroup metrics, String version) {
            MetricGroup g = metrics.addGroup("modelVersion", version);
            group = g;
            acts = g.counter("actsAfterList");
            hits = g.counter("hitsInList");
            g.gauge("onlineHitRate", () -> acts.getCount() == 0 ? 0.0 : (double) hits.getCount() / acts.getCount());
        }

        /** Unregisters the version's metrics from the reporters (a runtime group; tests' groups are no-ops). */
        void close() {
            if (group instanceof AbstractMetricGroup) {
                ((AbstractMetricGroup<?>) group).close();
            }
        }

        void record(boolean hit) {
            acts.inc();
            if (hit) {
                hits.inc();
            }
        }
    }
}
