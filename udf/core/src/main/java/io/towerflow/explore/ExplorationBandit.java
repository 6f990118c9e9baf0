package io.towerflow.explore;

import io.towerflow.records.ScoredItem;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Chooses the exploration slots of a list by Thompson sampling over the catalogue's least-shown
 * items, new items first. One per operator instance (subtask); not thread-safe.
 *
 * <p>It tracks a bounded set of items: every new catalogue item on arrival ({@link #arrived}),
 * and, while fewer than {@code poolSize} tracked items are still open, the catalogue's least
 * popular items (by training count, a cursor walking up from the least popular). An item is open
 * until it has been shown {@code maxImpressions} times; then it has had its chance and leaves the
 * candidates (retraining, which sees the acts on it in {@code rec-feedback}, decides its fate).
 * At most {@code 4 × poolSize} items are tracked: beyond that the shown-out ones with the most
 * impressions are forgotten first.
 *
 * <p>For each slot, every open candidate that is servable, not excluded and not already in the
 * list draws a click rate from Beta(clicks + 1, impressions − clicks + 1); new items rank before
 * the others, then the highest draw wins. Impressions count every list the operator emits that
 * holds the item (in any slot), clicks every act on an item of the last list shown.
 *
 * <p>Counts are this subtask's since it started ("own") on top of what it restored ("base": the
 * sum of every subtask's entries of the last checkpoint, union list state). Subtask 0 writes base
 * and own, the others only their own, so the sum over a snapshot's entries is the global count
 * whatever the parallelism before and after (docs/architecture.md).
 */
public final class ExplorationBandit {

    /** The serving catalogue as the bandit sees it. */
    public interface Catalogue {
        int size();

        /** The {@code rank}-th least popular item (0: the least popular). */
        String leastPopular(int rank);

        /** Whether the item is in the serving index (available). */
        boolean servable(String itemId);
    }

    private final int poolSize;
    private final long maxImpressions;
    private final int cap;
    private final ThompsonSampler sampler;
    private final Map<String, Stats> tracked = new LinkedHashMap<>();
    /** Next rank (from the least popular) a refill looks at. Not checkpointed: starts at 0. */
    private int cursor;
    /** Open items seen by the last {@link #choose}; a refill runs when it is below the pool size. */
    private int lastOpen;

    public ExplorationBandit(int poolSize, long maxImpressions, long seed) {
        if (poolSize <= 0 || maxImpressions <= 0) {
            throw new IllegalArgumentException("need poolSize > 0 and maxImpressions > 0");
        }
        this.poolSize = poolSize;
        this.maxImpressions = maxImpressions;
        this.cap = 4 * poolSize;
        this.sampler = new ThompsonSampler(seed);
    }

    /** A new catalogue item: tracked at once, ahead of every item that is not new. */
    public void arrived(String itemId, long ts) {
        Stats s = tracked.computeIfAbsent(itemId, Stats::new);
        if (s.arrivedTs == 0) {
            s.arrivedTs = Math.max(1, ts);
        }
        pruneIfOver(cap + cap / 4);
    }

    /** Counts one impression of every tracked item of an emitted list. */
    public void shown(ScoredItem[] items) {
        for (ScoredItem it : items) {
            Stats s = tracked.get(it.itemId);
            if (s != null) {
                s.ownImpressions++;
            }
        }
    }

    /** Counts an act on {@code itemId}, which was in the last list shown to the user. */
    public void clicked(String itemId) {
        Stats s = tracked.get(itemId);
        if (s != null) {
            s.ownClicks++;
        }
    }

    /**
     * Up to {@code slots} items to show, best first, marked {@code explore}, scored with their
     * sampled click rate: open, servable, not in {@code taken}, not in {@code exclude}.
     */
    public ScoredItem[] choose(int slots, Catalogue catalogue, Set<String> taken, Set<String> exclude) {
        if (slots <= 0) {
            return new ScoredItem[0];
        }
        if (lastOpen < poolSize) {
            refill(catalogue);
        }
        Stats[] best = new Stats[slots];
        double[] draws = new double[slots];
        int found = 0;
        int open = 0;
        for (Stats s : tracked.values()) {
            if (s.impressions() >= maxImpressions) {
                continue;
            }
            open++;
            double draw = sampler.sample(s.clicks(), s.impressions());
            // the set lookups only for a draw that would enter the best few (most do not)
            if (found == slots && !before(s, draw, best[slots - 1], draws[slots - 1])) {
                continue;
            }
            if (taken.contains(s.itemId) || (exclude != null && exclude.contains(s.itemId))
                    || !catalogue.servable(s.itemId)) {
                continue;
            }
            // insertion into the best few: new items first, then the highest draw
            int at = found;
            while (at > 0 && before(s, draw, best[at - 1], draws[at - 1])) {
                at--;
            }
            if (at < slots) {
                int last = Math.min(found, slots - 1);
                for (int j = last; j > at; j--) {
                    best[j] = best[j - 1];
                    draws[j] = draws[j - 1];
                }
                best[at] = s;
                draws[at] = draw;
                found = Math.min(slots, found + 1);
            }
        }
        lastOpen = open;
        ScoredItem[] out = new ScoredItem[found];
        for (int i = 0; i < found; i++) {
            out[i] = new ScoredItem(best[i].itemId, (float) draws[i], true);
        }
        return out;
    }

    private static boolean before(Stats a, double drawA, Stats b, double drawB) {
        boolean newA = a.arrivedTs > 0;
        boolean newB = b.arrivedTs > 0;
        return newA != newB ? newA : drawA > drawB;
    }

    /** Tracks the next least popular untracked items until the pool is full or the catalogue is walked. */
    private void refill(Catalogue catalogue) {
        int open = 0;
        for (Stats s : tracked.values()) {
            if (s.impressions() < maxImpressions) {
                open++;
            }
        }
        int n = catalogue.size();
        for (int looked = 0; open < poolSize && looked < n; looked++) {
            if (cursor >= n) {
                cursor = 0;
            }
            String id = catalogue.leastPopular(cursor++);
            if (!tracked.containsKey(id)) {
                tracked.put(id, new Stats(id));
                open++;
            }
        }
        lastOpen = open;
        pruneIfOver(cap);
    }

    /** Forgets tracked items down to the cap: shown-out ones with most impressions first, new ones last. */
    private void pruneIfOver(int limit) {
        if (tracked.size() <= limit) {
            return;
        }
        List<Stats> all = new ArrayList<>(tracked.values());
        all.sort(Comparator.comparingInt((Stats s) -> s.impressions() >= maxImpressions ? 1 : 0)
                .thenComparingInt(s -> s.arrivedTs > 0 ? 0 : 1)
                .thenComparingLong(Stats::impressions));
        for (int i = cap; i < all.size(); i++) {
            tracked.remove(all.get(i).itemId);
        }
    }

    /**
     * Merges the entries of a restored snapshot (every subtask's, union list state) into the base
     * counts: impressions and clicks add up, an item is new since its earliest arrival.
     */
    public void restore(Iterable<ExploreCount> entries) {
        Map<String, ExploreCount> merged = new LinkedHashMap<>();
        for (ExploreCount e : entries) {
            ExploreCount m = merged.computeIfAbsent(e.itemId, id -> new ExploreCount(id, 0, 0, 0));
            m.impressions += e.impressions;
            m.clicks += e.clicks;
            if (e.arrivedTs > 0 && (m.arrivedTs == 0 || e.arrivedTs < m.arrivedTs)) {
                m.arrivedTs = e.arrivedTs;
            }
        }
        for (ExploreCount m : merged.values()) {
            Stats s = tracked.computeIfAbsent(m.itemId, Stats::new);
            s.baseImpressions += m.impressions;
            s.baseClicks += m.clicks;
            if (m.arrivedTs > 0 && (s.arrivedTs == 0 || m.arrivedTs < s.arrivedTs)) {
                s.arrivedTs = m.arrivedTs;
            }
        }
        pruneIfOver(cap);
    }

    /**
     * The entries to checkpoint: this subtask's own counts, plus the restored base when
     * {@code withBase} (subtask 0 only), for items with anything to remember.
     */
    public List<ExploreCount> snapshot(boolean withBase) {
        List<ExploreCount> out = new ArrayList<>();
        for (Stats s : tracked.values()) {
            long impressions = s.ownImpressions + (withBase ? s.baseImpressions : 0);
            long clicks = s.ownClicks + (withBase ? s.baseClicks : 0);
            if (impressions > 0 || clicks > 0 || s.arrivedTs > 0) {
                out.add(new ExploreCount(s.itemId, impressions, clicks, s.arrivedTs));
            }
        }
        return out;
    }

    /** The counts this subtask sees for {@code itemId} (base + own), or null when untracked. */
    public ExploreCount counts(String itemId) {
        Stats s = tracked.get(itemId);
        return s == null ? null : new ExploreCount(itemId, s.impressions(), s.clicks(), s.arrivedTs);
    }

    /** Items tracked now (bounded by four times the pool size). */
    public int trackedItems() {
        return tracked.size();
    }

    /** The tracked items, in tracking order (for tests and diagnostics). */
    public Iterator<String> trackedIds() {
        return tracked.keySet().iterator();
    }

    /** Counts of all tracked items (for tests). */
    Map<String, ExploreCount> all() {
        Map<String, ExploreCount> m = new HashMap<>();
        tracked.forEach((id, s) -> m.put(id, counts(id)));
        return m;
    }

    private static final class Stats {
        final String itemId;
        long baseImpressions;
        long baseClicks;
        long ownImpressions;
        long ownClicks;
        long arrivedTs;

        Stats(String itemId) {
            this.itemId = itemId;
        }

        long impressions() {
            return baseImpressions + ownImpressions;
        }

        long clicks() {
            return baseClicks + ownClicks;
        }
    }
}
