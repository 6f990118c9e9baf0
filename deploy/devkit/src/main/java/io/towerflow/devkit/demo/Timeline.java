package io.towerflow.devkit.demo;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The demo's time series: fixed windows of emit time ({@code [start, start + windowMs)}, aligned
 * to the epoch) with the lists emitted in each, their emit latency and model versions, and the
 * prequential HR@20 of the acts that followed them (an act counts in the window of the list it
 * followed, and for that list's version); and the model swaps seen in it, with the p99 emit
 * latency around each swap against the steady state. Not thread-safe: its owner synchronizes.
 */
final class Timeline {

    /** One window; {@code latencies} only of lists whose event's production time is known. */
    static final class Window {
        final long start;
        long lists;
        final List<Long> latencies = new ArrayList<>();
        final TreeSet<String> versions = new TreeSet<>();
        /** Per version of the list an act followed: {acts, hits}. */
        final TreeMap<String, long[]> actsAndHits = new TreeMap<>();

        Window(long start) {
            this.start = start;
        }

        long acts() {
            return actsAndHits.values().stream().mapToLong(a -> a[0]).sum();
        }

        /** Prequential HR@20 of the window's acts; NaN when none. */
        double hitRate() {
            long acts = acts();
            long hits = actsAndHits.values().stream().mapToLong(a -> a[1]).sum();
            return acts == 0 ? Double.NaN : (double) hits / acts;
        }

        long latency(double q) {
            return quantile(latencies.stream().mapToLong(Long::longValue).toArray(), q);
        }
    }

    /**
     * A swap: the first list of version {@code to} (emitted at {@code firstListAt}) after lists of
     * {@code from}; the p99 emit latency of the lists emitted within ±window of it, against that of
     * the steady lists (not within ±window of any swap, after the warm-up).
     */
    record Swap(String from, String to, long firstListAt, long swapLists, long p99MsSwapWindow,
            long steadyLists, long p99MsSteady) {
        double ratio() {
            return p99MsSteady <= 0 ? Double.NaN : (double) p99MsSwapWindow / p99MsSteady;
        }
    }

    /** Prequential HR@20 of one version over the lists it emitted in {@code [fromTs, toTs)}. */
    record HitRate(String version, long fromTs, long toTs, long acts, long hits) {
        double rate() {
            return acts == 0 ? Double.NaN : (double) hits / acts;
        }
    }

    final long windowMs;
    private final TreeMap<Long, Window> windows = new TreeMap<>();
    /** First list emitted by each version, in the order versions first served. */
    private final Map<String, Long> firstListAt = new LinkedHashMap<>();
    private long[] emitted = new long[1024];
    private long[] latency = new long[1024];
    private int n;

    Timeline(long windowMs) {
        if (windowMs <= 0) {
            throw new IllegalArgumentException("window must be > 0");
        }
        this.windowMs = windowMs;
    }

    private Window windowOf(long ts) {
        long start = ts - Math.floorMod(ts, windowMs);
        return windows.computeIfAbsent(start, Window::new);
    }

    /** A list emitted at {@code emittedTs} by {@code version}; {@code latencyMs} < 0 when unknown. */
    void list(long emittedTs, String version, long latencyMs) {
        Window w = windowOf(emittedTs);
        w.lists++;
        w.versions.add(version);
        Long first = firstListAt.get(version);
        if (first == null || emittedTs < first) {
            firstListAt.put(version, emittedTs);
        }
        if (latencyMs >= 0) {
            w.latencies.add(latencyMs);
            if (n == emitted.length) {
                emitted = Arrays.copyOf(emitted, 2 * n);
                latency = Arrays.copyOf(latency, 2 * n);
            }
            emitted[n] = emittedTs;
            latency[n] = latencyMs;
            n++;
        }
    }

    /** An act after a list of {@code version} emitted at {@code shownTs}; {@code hit}: on one of its top 20. */
    void act(long shownTs, String version, boolean hit) {
        long[] ah = windowOf(shownTs).actsAndHits.computeIfAbsent(version, v -> new long[2]);
        ah[0]++;
        ah[1] += hit ? 1 : 0;
    }

    /** The windows, oldest first. */
    List<Window> windows() {
        return new ArrayList<>(windows.values());
    }

    /** The window that starts at {@code start}, or null. */
    Window window(long start) {
        return windows.get(start);
    }

    /** Emit time of the first list of each version, in serving order. */
    Map<String, Long> firstLists() {
        return new LinkedHashMap<>(firstListAt);
    }

    /** The swaps, in order; steady lists are those {@code warmupMs} after the first list. */
    List<Swap> swaps(long warmupMs) {
        List<Map.Entry<String, Long>> order = new ArrayList<>(firstListAt.entrySet());
        order.sort(Map.Entry.comparingByValue());
        List<Long> at = new ArrayList<>();
        for (int i = 1; i < order.size(); i++) {
            at.add(order.get(i).getValue());
        }
        long steadyFrom = order.isEmpty() ? Long.MAX_VALUE : order.get(0).getValue() + warmupMs;
        List<Long> steady = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long e = emitted[i];
            if (e >= steadyFrom && at.stream().noneMatch(t -> Math.abs(e - t) <= windowMs)) {
                steady.add(latency[i]);
            }
        }
        long[] steadyArr = steady.stream().mapToLong(Long::longValue).toArray();
        long p99Steady = quantile(steadyArr, 0.99);
        List<Swap> out = new ArrayList<>();
        for (int s = 1; s < order.size(); s++) {
            long t = order.get(s).getValue();
            List<Long> around = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                if (Math.abs(emitted[i] - t) <= windowMs) {
                    around.add(latency[i]);
                }
            }
            out.add(new Swap(order.get(s - 1).getKey(), order.get(s).getKey(), t, around.size(),
                    quantile(around.stream().mapToLong(Long::longValue).toArray(), 0.99),
                    steadyArr.length, p99Steady));
        }
        return out;
    }

    /**
     * HR@20 of {@code version}'s lists emitted in {@code [fromTs, toTs)}, over whole windows (a
     * window counts when its start is in the range).
     */
    HitRate hitRate(String version, long fromTs, long toTs) {
        long acts = 0;
        long hits = 0;
        for (Window w : windows.subMap(fromTs, true, toTs, false).values()) {
            long[] ah = w.actsAndHits.get(version);
            if (ah != null) {
                acts += ah[0];
                hits += ah[1];
            }
        }
        return new HitRate(version, fromTs, toTs, acts, hits);
    }

    /** Start of the window that holds {@code ts}. */
    long windowStart(long ts) {
        return ts - Math.floorMod(ts, windowMs);
    }

    /** The q-quantile (0..1), as the demo's overall figures take it; -1 when empty. */
    /** The q-quantile (0..1) of the emit latency of every list with a known production time; -1 when none. */
    long latency(double q) {
        return quantile(Arrays.copyOf(latency, n), q);
    }

    /**
     * The lists with a known production time emitted from {@code fromTs} on: how many, the span
     * of their emit times (ms) and their emit latencies' p50, p99 and p99.9 (ms; -1 when none).
     */
    long[] steady(long fromTs) {
        long first = Long.MAX_VALUE;
        long last = Long.MIN_VALUE;
        for (int i = 0; i < n; i++) {
            if (emitted[i] >= fromTs) {
                first = Math.min(first, emitted[i]);
                last = Math.max(last, emitted[i]);
            }
        }
        long[] values = latenciesFrom(fromTs);
        int m = values.length;
        return new long[] {m, m < 2 ? 0 : last - first,
            atQuantile(values, 0.5), atQuantile(values, 0.99), atQuantile(values, 0.999)};
    }

    /** Emit latencies (sorted) of the lists with a known production time emitted from {@code fromTs} on. */
    private long[] latenciesFrom(long fromTs) {
        long[] picked = new long[n];
        int m = 0;
        for (int i = 0; i < n; i++) {
            if (emitted[i] >= fromTs) {
                picked[m++] = latency[i];
            }
        }
        long[] values = Arrays.copyOf(picked, m);
        Arrays.sort(values);
        return values;
    }

    /** Latency quantiles of the lists emitted from {@code fromTs} on: {q, ms} for each of {@code qs}. */
    List<double[]> steadyCdf(long fromTs, double[] qs) {
        long[] values = latenciesFrom(fromTs);
        List<double[]> out = new ArrayList<>();
        for (double q : values.length == 0 ? new double[0] : qs) {
            out.add(new double[] {q, atQuantile(values, q)});
        }
        return out;
    }

    static long quantile(long[] values, double q) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return atQuantile(sorted, q);
    }

    /** The {@code q} quantile of values already sorted; -1 when there are none. */
    private static long atQuantile(long[] sorted, double q) {
        if (sorted.length == 0) {
            return -1;
        }
        return sorted[(int) Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    }
}
