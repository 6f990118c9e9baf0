package io.towerflow.eval;

import io.towerflow.records.Action;
import io.towerflow.records.BehaviorEvent;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * The sequential-recommendation literature's file format: one line per user, {@code user item item
 * …}, whitespace separated, items in the order the user acted (order is time; there are no
 * timestamps). Every act is a purchase; the k-th item of a line (from 0) gets the time {@link
 * #BASE_TS} + k days, so that per-user order, recency and "one day between consecutive items"
 * (how the file was first converted to JSON lines) hold.
 *
 * <p>{@link #looksLike} tells this format from the others {@link EventFiles} reads by its first
 * lines: whitespace-separated tokens only (no JSON, no commas, no {@code ::}), and not every line
 * of exactly four fields (that is a MovieLens rating).
 */
public final class SequenceFile {
    /** The time of a user's first item (2020-01-01T00:00:00Z); item k is k days later. */
    public static final long BASE_TS = 1_577_836_800_000L;
    public static final long STEP_MS = 86_400_000L;
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");
    private static final int SNIFF_LINES = 200;

    private SequenceFile() {}

    /** Whether {@code file} reads as the sequence format (by its first non-blank lines). */
    public static boolean looksLike(Path file) throws IOException {
        int lines = 0;
        boolean notFour = false;
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            while (lines < SNIFF_LINES && (line = r.readLine()) != null) {
                String t = line.strip();
                if (t.isEmpty()) {
                    continue;
                }
                if (t.startsWith("{") || t.startsWith("[") || t.contains(",") || t.contains("::")) {
                    return false;
                }
                int fields = WHITESPACE.split(t).length;
                if (fields < 2) {
                    continue; // a user without items: a bad line in any whitespace format
                }
                notFour |= fields != 4;
                lines++;
            }
        }
        return lines > 0 && notFour;
    }

    /**
     * The events of {@code file}, at most {@code maxEvents} (all when {@code <= 0}), for one pass;
     * {@code stats} counts lines and events. A line with a user and no item is counted bad and
     * reported to {@code err}.
     */
    public static Iterable<BehaviorEvent> iterable(Path file, long maxEvents, PrintStream err, EventFiles.Stats stats) {
        return () -> {
            Stream<String> lines;
            try {
                lines = Files.lines(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Stream<BehaviorEvent> events = lines.flatMap(line -> events(file, line, err, stats));
            Iterator<BehaviorEvent> it = (maxEvents > 0 ? events.limit(maxEvents) : events).iterator();
            // one pass: the file is closed as soon as the pass ends, not left to the collector
            return new Iterator<>() {
                @Override
                public boolean hasNext() {
                    boolean more = it.hasNext();
                    if (!more) {
                        lines.close();
                    }
                    return more;
                }

                @Override
                public BehaviorEvent next() {
                    return it.next();
                }
            };
        };
    }

    /** The events of one line (none for a blank or bad one, which is counted). */
    private static Stream<BehaviorEvent> events(Path file, String line, PrintStream err, EventFiles.Stats stats) {
        stats.lines++;
        String t = line.strip();
        if (t.isEmpty()) {
            return Stream.empty();
        }
        String[] f = WHITESPACE.split(t);
        if (f.length < 2) {
            if (++stats.badLines <= 10) {
                err.println(file.getFileName() + ":" + stats.lines + ": skipped: a user without items");
            }
            return Stream.empty();
        }
        return IntStream.range(1, f.length).mapToObj(k -> {
            stats.events++;
            return new BehaviorEvent(f[0], f[k], Action.PURCHASE, BASE_TS + (k - 1) * STEP_MS, null);
        });
    }
}
