package io.towerflow.operators;

import io.towerflow.config.FaultInjectionOptions;

import org.apache.flink.configuration.ReadableConfig;

import java.io.Serializable;
import java.util.Locale;

/**
 * The fault of {@link FaultInjectionOptions#FAIL_AT}: subtask 0 of the chosen operator throws
 * {@link InjectedFailure} once, in its first attempt (attempt number 0), after it has counted the
 * configured number of records. The restarted attempt runs clean, so the job recovers as it would
 * from a real crash at that point. Off (never fires) unless the option is set.
 */
public final class FaultInjection implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Where the fault fires. */
    public enum Point { PARSE, RECOMMEND, SINK }

    private static final FaultInjection NONE = new FaultInjection(null, Long.MAX_VALUE);

    private final Point point;
    private final long after;

    private FaultInjection(Point point, long after) {
        this.point = point;
        this.after = after;
    }

    public static FaultInjection none() {
        return NONE;
    }

    /** Parses {@code <point>:<n>}; unset means none. */
    public static FaultInjection from(ReadableConfig conf) {
        return conf.getOptional(FaultInjectionOptions.FAIL_AT).map(FaultInjection::parse).orElse(NONE);
    }

    static FaultInjection parse(String spec) {
        String[] p = spec.strip().split(":", 2);
        try {
            return new FaultInjection(Point.valueOf(p[0].strip().toUpperCase(Locale.ROOT)), Long.parseLong(p[1].strip()));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(
                    FaultInjectionOptions.FAIL_AT.key() + " must be parse|recommend|sink:<records>, was '" + spec + "'", e);
        }
    }

    /** True when a fault is configured at {@code at} for this subtask and attempt. */
    public boolean armed(Point at, int subtask, int attempt) {
        return point == at && subtask == 0 && attempt == 0;
    }

    /** Throws when armed and more than the configured number of records have been seen. */
    public void check(Point at, long seen) {
        if (point == at && seen > after) {
            throw new InjectedFailure("injected failure at " + at.name().toLowerCase(Locale.ROOT)
                    + " after " + after + " records (" + FaultInjectionOptions.FAIL_AT.key() + ")");
        }
    }

    @Override
    public String toString() {
        return point == null ? "none" : point.name().toLowerCase(Locale.ROOT) + ":" + after;
    }

    /** The exception of an injected fault. */
    public static final class InjectedFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        InjectedFailure(String message) {
            super(message);
        }
    }
}
