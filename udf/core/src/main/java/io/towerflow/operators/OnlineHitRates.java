package io.towerflow.operators;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.groups.AbstractMetricGroup;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Prequential hit rate per model version: of the acts that followed a list, how many were on an
 * item the model chose for it ({@code modelVersion.<v>.actsAfterList}, {@code .hitsInList},
 * {@code .onlineHitRate}); acts on an exploration slot are counted apart
 * ({@code .hitsInExploreSlots}), so the rate measures the model, not the exploration.
 * Only the {@link #KEPT} most recently counted versions keep a metric group; an older version's
 * group is closed (its metrics leave the reporters), so retraining for weeks does not grow the
 * metric registry. An act on a list of a version retired this way is not counted (it still goes
 * to {@code rec-feedback} with its version).
 */
final class OnlineHitRates {
    /** Versions with live metrics: the serving one and the lists still being acted on. */
    static final int KEPT = 4;

    private final MetricGroup parent;
    private final Map<String, Rate> byVersion = new LinkedHashMap<>(8, 0.75f, true);

    OnlineHitRates(MetricGroup parent) {
        this.parent = parent;
    }

    /**
     * Counts one act after a list of {@code version}: a hit if the act's item was on it, an
     * exploration hit instead when it was in an exploration slot.
     */
    void record(String version, boolean hit, boolean explored) {
        Rate r = byVersion.get(version);
        if (r == null) {
            r = new Rate(parent.addGroup("modelVersion", version));
            byVersion.put(version, r);
            retireBeyond(KEPT);
        }
        r.acts.inc();
        if (hit && explored) {
            r.exploreHits.inc();
        } else if (hit) {
            r.hits.inc();
        }
    }

    /** Versions that have metrics now (least recently counted first). */
    Iterable<String> versions() {
        return byVersion.keySet();
    }

    /** Closes every group (when the operator closes). */
    void close() {
        retireBeyond(0);
    }

    private void retireBeyond(int keep) {
        Iterator<Map.Entry<String, Rate>> it = byVersion.entrySet().iterator();
        while (byVersion.size() > keep && it.hasNext()) {
            Map.Entry<String, Rate> oldest = it.next();
            it.remove();
            if (oldest.getValue().group instanceof AbstractMetricGroup g) {
                g.close(); // unregisters its metrics from the reporters
            }
        }
    }

    private static final class Rate {
        final MetricGroup group;
        final Counter acts;
        final Counter hits;
        final Counter exploreHits;

        Rate(MetricGroup group) {
            this.group = group;
            acts = group.counter("actsAfterList");
            hits = group.counter("hitsInList");
            exploreHits = group.counter("hitsInExploreSlots");
            group.gauge("onlineHitRate", () -> acts.getCount() == 0 ? 0.0 : (double) hits.getCount() / acts.getCount());
        }
    }
}
