package io.towerflow.operators;

import io.towerflow.model.ServingModel;
import io.towerflow.model.UserQuery;
import io.towerflow.model.UserResult;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.Recommendation;
import io.towerflow.records.ScoredItem;

import ai.djl.engine.Engine;

import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The keyed heart of the job (input keyed by userId). For every behaviour event it updates the
 * user's history in keyed state and emits the user's top-K list.
 *
 * <p>Events are micro-batched, as Flink's own mini-batch operators do: a batch is scored when it
 * holds {@code batchMaxSize} events, when its oldest event has waited {@code batchMaxWaitMs}
 * (processing time), before every checkpoint barrier ({@link #prepareSnapshotPreBarrier}) and at
 * end of input. A batch is one model call: user tower for all its users, one matrix product with
 * the item matrix, one top-K. Because the batch is emitted before the barrier, no buffered event
 * is ever part of a checkpoint, which keeps the exactly-once sink exact.
 *
 * <p>State per user (all with a TTL): the last N interactions, the user vector the model last
 * computed, and the last list shown.
 */
public class RecommendOperator extends AbstractStreamOperator<Recommendation>
        implements OneInputStreamOperator<BehaviorEvent, Recommendation> {
    private static final long serialVersionUID = 1L;

    private final RecommendConfig config;

    private transient ServingModel model;
    private transient ValueState<UserHistory> history;
    private transient ValueState<float[]> userVector;
    private transient ValueState<ShownList> lastShown;
    private transient List<StreamRecord<BehaviorEvent>> buffer;
    private transient boolean flushScheduled;

    private transient Counter listsEmitted;
    private transient Counter coldStartLists;
    private transient Counter batches;
    private transient Histogram batchScoringMs;

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

        buffer = new ArrayList<>(config.batchMaxSize);
        listsEmitted = getMetricGroup().counter("recommendationsEmitted");
        coldStartLists = getMetricGroup().counter("coldStartLists");
        batches = getMetricGroup().counter("batchesScored");
        batchScoringMs = getMetricGroup().histogram("batchScoringMs", new DescriptiveStatisticsHistogram(1000));

        DjlRuntime.configureThreads(config.numThreads, config.numInteropThreads);
        Path dir = Paths.get(config.modelPath);
        model = ServingModel.load(dir, DjlRuntime.device(config.device));
        // a smoke inference: proves the version scores, and warms libtorch before the first event
        model.recommend(List.of(UserQuery.withoutHistory("warm-up", 0L, Set.of())), config.topK);
        getMetricGroup().gauge("catalogueSize", () -> model.catalogueSize());
        LOG.info(
                "Serving model {} ({} items) from {} on {}",
                model.version(),
                model.catalogueSize(),
                dir,
                Engine.getEngine("PyTorch").defaultDevice());
    }

    @Override
    public void processElement(StreamRecord<BehaviorEvent> element) throws Exception {
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
        long started = System.nanoTime();
        List<StreamRecord<BehaviorEvent>> batch = buffer;
        buffer = new ArrayList<>(config.batchMaxSize);

        // 1. update each user's history (events of one user apply in order) and build queries
        List<UserQuery> queries = new ArrayList<>(batch.size());
        boolean[] cold = new boolean[batch.size()];
        for (int i = 0; i < batch.size(); i++) {
            BehaviorEvent e = batch.get(i).getValue();
            setCurrentKey(e.userId);
            UserHistory before = history.value();
            UserHistory after =
                    (before == null ? new UserHistory() : before).append(e, config.historyLength);
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
                            after.itemSet()));
        }

        // 2. one batched model call for the whole batch
        List<UserResult> results = model.recommend(queries, config.topK);

        // 3. emit one list per event and remember what was shown
        long emittedTs = getProcessingTimeService().getCurrentProcessingTime();
        for (int i = 0; i < batch.size(); i++) {
            StreamRecord<BehaviorEvent> rec = batch.get(i);
            BehaviorEvent e = rec.getValue();
            UserQuery q = queries.get(i);
            ScoredItem[] items;
            if (cold[i]) {
                items = model.popular(config.topK, (Set<String>) q.exclude());
                coldStartLists.inc();
            } else {
                items = results.get(i).items();
            }
            setCurrentKey(e.userId);
            userVector.update(results.get(i).userVector());
            String[] ids = new String[items.length];
            for (int j = 0; j < items.length; j++) {
                ids[j] = items[j].itemId;
            }
            lastShown.update(new ShownList(model.version(), emittedTs, ids));
            Recommendation out =
                    new Recommendation(e.userId, e.ts, emittedTs, model.version(), items);
            if (rec.hasTimestamp()) {
                output.collect(new StreamRecord<>(out, rec.getTimestamp()));
            } else {
                output.collect(new StreamRecord<>(out));
            }
            listsEmitted.inc();
        }
        batches.inc();
        batchScoringMs.update((System.nanoTime() - started) / 1_000_000);
    }

    @Override
    public void close() throws Exception {
        try {
            if (model != null) {
                model.close();
                model = null;
            }
        } finally {
            super.close();
        }
    }
}
