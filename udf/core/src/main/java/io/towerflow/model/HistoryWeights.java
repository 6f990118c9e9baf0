package io.towerflow.model;

import io.towerflow.records.Action;

/**
 * Pooling weights of a user's history: action weight × 0.5^((now − ts) / halfLife), normalised to
 * sum 1 so the user tower sees a weighted mean. The factor 0.5^((now − tNewest)/halfLife) is common
 * to every entry and cancels in the mean, so the decay is taken from the newest entry instead of
 * {@code now}: the result is the same, and a history days older than {@code now} cannot underflow
 * to all zeros. Training and serving both go through here, so they pool identically.
 */
public final class HistoryWeights {
    private HistoryWeights() {}

    /**
     * Writes the weights of entries {@code [from, to)} to {@code out[outOffset ...]}; an empty range
     * writes nothing. Actions are {@link Action#code()} values.
     */
    public static void fill(
            byte[] actions, long[] ts, int from, int to, long halfLifeMs, float[] out, int outOffset) {
        if (to <= from) {
            return;
        }
        long newest = Long.MIN_VALUE;
        for (int i = from; i < to; i++) {
            newest = Math.max(newest, ts[i]);
        }
        double sum = 0;
        double[] w = new double[to - from];
        for (int i = from; i < to; i++) {
            double age = (double) (newest - ts[i]) / halfLifeMs;
            double v = Action.ofCode(actions[i]).weight() * Math.pow(0.5, age);
            w[i - from] = v;
            sum += v;
        }
        for (int i = 0; i < w.length; i++) {
            out[outOffset + i] = (float) (w[i] / sum);
        }
    }

    /**
     * Writes the short-term weights of entries {@code [from, to)}: 0.5^(k / halfLifeEvents) for the
     * k-th newest entry (k = 0 is the latest), normalised to sum 1. Position, not time: how far
     * back in the user's own sequence an act lies, whatever the clock says, so the newest one or
     * two acts dominate however fast or slowly the user acts.
     */
    public static void fillRecent(int from, int to, double halfLifeEvents, float[] out, int outOffset) {
        if (to <= from) {
            return;
        }
        double decay = Math.pow(0.5, 1 / halfLifeEvents);
        double sum = 0;
        double w = 1;
        for (int i = to - 1; i >= from; i--) {
            sum += w;
            w *= decay;
        }
        w = 1;
        for (int i = to - 1; i >= from; i--) {
            out[outOffset + i - from] = (float) (w / sum);
            w *= decay;
        }
    }
}
