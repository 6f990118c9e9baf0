package io.towerflow.operators;

import io.towerflow.explore.ExplorationBandit;
import io.towerflow.explore.ExploreCount;
import io.towerflow.index.ItemIndex;
import io.towerflow.model.RefusedModelException;
import io.towerflow.model.ServingModel;
import io.towerflow.model.UserQuery;
import io.towerflow.model.UserResult;
import io.towerflow.records.Action;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.CatalogueItem;
import io.towerflow.records.ControlMessage;
import io.towerflow.records.Feedback;
import io.towerflow.records.ModelUpdate;
import io.towerflow.records.Recommendation;
import io.towerflow.records.ScoredItem;

import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The keyed heart of the job. Input 1 is behaviour events keyed by userId; input 2 is the
 * broadcast control stream (model versions to serve, catalogue changes).
 *
 * <p>For every event it updates the user's history in keyed state, emits the user's top-K list,
 * and emits a {@link Feedback} training example to the {@link #FEEDBACK} side output (the history
 * before the act, and whether and where the item was in the last list shown).
 *
 * <p>Events are micro-batched into bundles, as Flink's own mini-batch operators do: a bundle is
 * scored when it holds {@code batchMaxSize} events, when its oldest event has waited
 * {@code batchMaxWaitMs} (processing time), before every checkpoint barrier
 * ({@link #prepareSnapshotPreBarrier}), before a watermark is forwarded ({@link #processWatermark})
 * and at end of input ({@link #finish}). A bundle is one model call: user tower for all its users,
 * one product with the item matrix, one top-K. Because the bundle is emitted before the barrier, no
 * buffered event is ever part of a checkpoint, which keeps the exactly-once sinks exact; because
 * it is emitted before the watermark, no list is ever late with respect to the watermark that
 * follows its event.
 *
 * <p>Which version serves, with which catalogue, is the {@link ModelHolder}'s: it loads and
 * validates versions and embeds catalogue changes on its own thread; this operator only asks it to
 * install what is ready between bundles. The few highest model updates seen
 * ({@code towerflow.model.kept-updates}) and the latest upsert of every item are kept in broadcast
 * state, so a restored job serves the highest valid version again with the same catalogue.
 *
 * <p>State per user (all with a TTL): the last N interactions, the last list shown and the latest
 * {@link RecentQueries#MAX} search queries (written only by a search with a query; read for
 * scoring when the serving model has text). A search with a query and no item updates the queries
 * only and gets a list like any event.
 *
 * <p>The last {@code towerflow.recommend.explore-slots} items of each list are exploration slots
 * filled by an {@link ExplorationBandit} (Thompson sampling over the least-shown items, new items
 * first), never an item already in the model's top K nor one the user's list excludes. Its counts
 * (impressions of the lists emitted, acts on items of the last list shown) are operator state:
 * union list state {@code explore-counts}, merged on restore whatever the parallelism.
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

    /** Each subtask's exploration counts (union list state: every subtask reads all on restore). */
    static final ListStateDescriptor<ExploreCount> EXPLORE_COUNTS =
            new ListStateDescriptor<>("explore-counts", TypeInformation.of(ExploreCount.class));

    private static final long SWAP_POLL_MS = 20;

    private final RecommendConfig config;

    private transient ModelHolder models;
    private transient ValueState<UserHistory> history;
    private transient ValueState<ShownList> lastShown;
    private transient ValueState<RecentQueries> recentQueries;
    private transient BroadcastState<String, ModelUpdate> modelUpdates;
    private transient BroadcastState<String, CatalogueItem> catalogue;
    private transient List<StreamRecord<BehaviorEvent>> buffer;
    private final FaultInjection fault;
    private transient boolean faultArmed;
    private transient long seen;
    private transient boolean flushScheduled;
    private transient boolean swapPollScheduled;

    private transient Counter listsEmitted;
    private transient Counter coldStartLists;
    private transient Counter batches;
    private transient Histogram batchScoringMs;
    private transient OnlineHitRates onlineHitRates;
    private transient ExplorationBandit bandit;
    private transient ListState<ExploreCount> exploreCounts;
    private transient Counter exploreSlotsFilled;

    public RecommendOperator(RecommendConfig config) {
        this(config, FaultInjection.none());
    }

    /** With a test-only fault ({@code towerflow.testing.fail-at recommend:<n>}). */
    public RecommendOperator(RecommendConfig config, FaultInjection fault) {
        this.config = config;
        this.fault = fault;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        bandit = new ExplorationBandit(config.explorePoolSize, config.exploreMaxImpressions,
                config.exploreSeed * 0x9E3779B97F4A7C15L + subtask);
        exploreCounts = context.getOperatorStateStore().getUnionListState(EXPLORE_COUNTS);
        if (context.isRestored()) {
            bandit.restore(exploreCounts.get());
        }
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        // subtask 0 carries the restored totals on, every subtask its own counts since
        exploreCounts.update(bandit.snapshot(getRuntimeContext().getTaskInfo().getIndexOfThisSubtask() == 0));
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
        ValueStateDescriptor<ShownList> s = new ValueStateDescriptor<>("last-shown", ShownList.class);
        s.enableTimeToLive(ttl);
        ValueStateDescriptor<RecentQueries> q = new ValueStateDescriptor<>("recent-queries", RecentQueries.class);
        q.enableTimeToLive(ttl);
        history = getKeyedStateStore().getState(h);
        lastShown = getKeyedStateStore().getState(s);
        recentQueries = getKeyedStateStore().getState(q);
        modelUpdates = getOperatorStateBackend().getBroadcastState(MODEL_UPDATES);
        catalogue = getOperatorStateBackend().getBroadcastState(CATALOGUE);

        buffer = new ArrayList<>(config.batchMaxSize);
        faultArmed = fault.armed(FaultInjection.Point.RECOMMEND,
                getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(),
                getRuntimeContext().getTaskInfo().getAttemptNumber());
        MetricGroup metrics = getMetricGroup();
        listsEmitted = metrics.counter("recommendationsEmitted");
        coldStartLists = metrics.counter("coldStartLists");
        batches = metrics.counter("batchesScored");
        batchScoringMs = metrics.histogram("batchScoringMs", new DescriptiveStatisticsHistogram(1000));
        onlineHitRates = new OnlineHitRates(metrics);
        exploreSlotsFilled = metrics.counter("exploreSlotsFilled");
        metrics.gauge("exploreTrackedItems", () -> bandit.trackedItems());

        List<ModelUpdate> seen = new ArrayList<>();
        for (Map.Entry<String, ModelUpdate> e : modelUpdates.entries()) {
            seen.add(e.getValue());
        }
        Map<String, CatalogueItem> items = new HashMap<>();
        for (Map.Entry<String, CatalogueItem> e : catalogue.entries()) {
            items.put(e.getKey(), e.getValue());
        }
        models = new ModelHolder(config, metrics, seen, items);
    }

    @Override
    public void processElement1(StreamRecord<BehaviorEvent> element) throws Exception {
        buffer.add(element);
        seen++;
        if (faultArmed && buffer.size() > 1 && buffer.size() < config.batchMaxSize) {
            fault.check(FaultInjection.Point.RECOMMEND, seen); // mid-batch: events buffered, none scored
        }
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
            models.request(m.model);
        } else if (m.item != null) {
            if (m.item.available && !catalogue.contains(m.item.itemId) && !models.serving().knows(m.item.itemId)) {
                // an item the serving version was not trained with: explored ahead of the rest
                bandit.arrived(m.item.itemId, getProcessingTimeService().getCurrentProcessingTime());
            }
            catalogue.put(m.item.itemId, m.item);
            models.catalogueChanged(m.item);
        }
        scheduleSwapPoll();
    }

    /** Polls the holder between bundles while it has background work, so swaps need no events. */
    private void scheduleSwapPoll() {
        if (!swapPollScheduled && models.busy()) {
            swapPollScheduled = true;
            long at = getProcessingTimeService().getCurrentProcessingTime() + SWAP_POLL_MS;
            getProcessingTimeService().registerTimer(at, t -> {
                swapPollScheduled = false;
                models.install();
                scheduleSwapPoll();
            });
        }
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        // finish the bundle first: its lists must not fall behind the watermark of their events
        flush();
        super.processWatermark(mark);
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
        models.install();
        ServingModel model = models.serving();
        long started = System.nanoTime();
        List<StreamRecord<BehaviorEvent>> batch = buffer;
        buffer = new ArrayList<>(config.batchMaxSize);

        // 1. update each user's history (events of one user apply in order) and build queries
        List<UserQuery> queries = new ArrayList<>(batch.size());
        UserHistory[] before = new UserHistory[batch.size()];
        RecentQueries[] queriesOf = new RecentQueries[batch.size()];
        boolean[] cold = new boolean[batch.size()];
        for (int i = 0; i < batch.size(); i++) {
            BehaviorEvent e = batch.get(i).getValue();
            setCurrentKey(e.userId);
            UserHistory h = history.value();
            before[i] = h == null ? new UserHistory() : h;
            UserHistory after = before[i];
            if (e.itemId != null) { // a search may carry its query alone
                after = before[i].append(e, config.historyLength);
                history.update(after);
            }
            RecentQueries searched = queriesAfter(e, model.config().hasText());
            boolean searchedAny = model.config().hasText() && searched != null && searched.size() > 0;
            cold[i] = !model.knowsAny(after.itemIds) && !searchedAny;
            UserQuery query = new UserQuery(
                    e.userId,
                    after.itemIds,
                    after.categoryIds,
                    after.actions,
                    after.ts,
                    e.ts,
                    config.excludeSeen ? after.itemSet() : Set.of());
            queries.add(searchedAny ? query.withQueries(searched.queries, searched.ts) : query);
            queriesOf[i] = searchedAny ? searched : null;
        }

        // 2. one batched model call for the whole batch
        List<UserResult> results = model.recommend(queries, config.topK);

        // 3. per event: judge the act against the last list shown, emit the new list
        long emittedTs = getProcessingTimeService().getCurrentProcessingTime();
        String version = model.version();
        ExplorationBandit.Catalogue explorable = config.exploreSlots > 0 ? explorable(model.index()) : null;
        for (int i = 0; i < batch.size(); i++) {
            StreamRecord<BehaviorEvent> rec = batch.get(i);
            BehaviorEvent e = rec.getValue();
            setCurrentKey(e.userId);
            emit(rec, feedback(e, before[i], lastShown.value(), queriesOf[i]));

            ScoredItem[] items;
            if (cold[i]) {
                items = model.popular(config.topK, queries.get(i).exclude());
                coldStartLists.inc();
            } else {
                items = results.get(i).items();
            }
            int explored = 0;
            if (explorable != null) {
                ScoredItem[] chosen = bandit.choose(config.exploreSlots, explorable, idSet(items), explorationExcludes(queries.get(i)));
                items = withExploration(items, chosen, config.topK);
                explored = chosen.length;
                bandit.shown(items);
                exploreSlotsFilled.inc(explored);
            }
            String[] ids = new String[items.length];
            for (int j = 0; j < items.length; j++) {
                ids[j] = items[j].itemId;
            }
            lastShown.update(new ShownList(version, emittedTs, ids, explored));
            Recommendation out = new Recommendation(e.userId, e.ts, emittedTs, version, items);
            output.collect(rec.hasTimestamp() ? new StreamRecord<>(out, rec.getTimestamp()) : new StreamRecord<>(out));
            listsEmitted.inc();
        }
        batches.inc();
        batchScoringMs.update((System.nanoTime() - started) / 1_000_000);
    }

    /**
     * The user's recent queries after {@code e} (the current key's): a search with a query appends
     * to them (whatever the model, so that a later model with text finds them); they are read for
     * other events only when the serving model has text ({@code read}). Null when not read.
     */
    private RecentQueries queriesAfter(BehaviorEvent e, boolean read) throws Exception {
        if (e.query != null && e.action == Action.SEARCH) {
            RecentQueries q = recentQueries.value();
            RecentQueries after = (q == null ? new RecentQueries() : q).append(e.query, e.ts, RecentQueries.MAX);
            recentQueries.update(after);
            return after;
        }
        return read ? recentQueries.value() : null;
    }

    private Feedback feedback(BehaviorEvent e, UserHistory before, ShownList shown, RecentQueries searched) {
        Feedback f = before.feedbackFor(e, shown);
        if (searched != null) { // the serving version reads text: retraining gets the queries too
            f.queryTexts = searched.queries;
            f.queryTs = searched.ts;
        }
        if (f.wasShown() && e.itemId != null) { // a query-only search acts on no item: neither hit nor miss
            f.shownExplore = shown.exploredAt(f.shownRank);
            onlineHitRates.record(f.shownModelVersion, f.shownRank > 0, f.shownExplore);
            if (f.shownRank > 0 && config.exploreSlots > 0) {
                bandit.clicked(f.itemId);
            }
        }
        return f;
    }

    /**
     * The model's list with its last slots given to {@code chosen}: the first {@code topK -
     * chosen.length} model items, then the chosen ones (none of which is among the model's items).
     */
    static ScoredItem[] withExploration(ScoredItem[] items, ScoredItem[] chosen, int topK) {
        if (chosen.length == 0) {
            return items;
        }
        int keep = Math.min(items.length, topK - chosen.length);
        ScoredItem[] out = Arrays.copyOf(items, keep + chosen.length);
        System.arraycopy(chosen, 0, out, keep, chosen.length);
        return out;
    }

    /** What exploration never shows a user: the list's exclusions, and the history even with exclude-seen off. */
    private Set<String> explorationExcludes(UserQuery q) {
        return config.excludeSeen ? q.exclude() : new HashSet<>(Arrays.asList(q.itemIds()));
    }

    private static Set<String> idSet(ScoredItem[] items) {
        Set<String> ids = new HashSet<>(items.length * 2);
        for (ScoredItem s : items) {
            ids.add(s.itemId);
        }
        return ids;
    }

    /** The serving index as the bandit sees it: its items, least popular first. */
    private static ExplorationBandit.Catalogue explorable(ItemIndex index) {
        return new ExplorationBandit.Catalogue() {
            @Override
            public int size() {
                return index.size();
            }

            @Override
            public String leastPopular(int rank) {
                return index.id(index.popularRow(index.size() - 1 - rank));
            }

            @Override
            public boolean servable(String itemId) {
                return index.rowOf(itemId) >= 0;
            }
        };
    }

    private void emit(StreamRecord<BehaviorEvent> rec, Feedback f) {
        output.collect(FEEDBACK, rec.hasTimestamp() ? new StreamRecord<>(f, rec.getTimestamp()) : new StreamRecord<>(f));
    }

    @Override
    public void close() throws Exception {
        try {
            if (onlineHitRates != null) {
                onlineHitRates.close();
            }
            if (models != null) {
                models.close();
                models = null;
            }
        } finally {
            super.close();
        }
    }

    /** The version serving now (for tests and diagnostics). */
    String servingVersion() {
        return models.serving().version();
    }

    /** Why the last refused model update was refused, or null. */
    String lastRefusal() {
        return models.lastRefusal();
    }

    /** Refusals of model updates for {@code reason} (a {@link RefusedModelException.Reason#label()}). */
    long refusals(String reason) {
        return models.refusals(reason);
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
        int versions = 0;
        for (String ignored : onlineHitRates.versions()) {
            versions++;
        }
        return new int[] {updates, items, versions};
    }

    /** The model serving now (for tests: read it from the operator's thread). */
    ServingModel servingModel() {
        return models.serving();
    }

    /** The number of items the serving index holds. */
    int catalogueSize() {
        return models.serving().catalogueSize();
    }

    /** Versions with live online-hit-rate metrics (for tests). */
    Iterable<String> versionsWithMetrics() {
        return onlineHitRates.versions();
    }

    /** The exploration bandit of this instance (for tests). */
    ExplorationBandit bandit() {
        return bandit;
    }

    /** Whether the model holder has background work (for tests). */
    boolean modelWorkPending() {
        return models.busy();
    }
}
