package io.towerflow.eval;

import io.towerflow.model.TrainingExamples;
import io.towerflow.records.Action;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.BehaviorEventParser;
import io.towerflow.records.InvalidEventException;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.regex.Pattern;

/**
 * Behaviour events from a file, one per line, in any of the formats the offline commands take:
 *
 * <ul>
 *   <li>the JSON contract of {@code user-behavior} and Taobao UserBehavior CSV ({@code
 *       user,item,category,pv|buy|cart|fav,ts-seconds}), as the job parses them ({@link
 *       BehaviorEventParser});
 *   <li>MovieLens ratings, {@code user item rating timestamp-seconds}: tab or space separated
 *       (ml-100k {@code u.data}), {@code ::} separated (ml-1m, ml-10m {@code ratings.dat}) or four
 *       comma-separated fields (ml-latest {@code ratings.csv}; its header is skipped as a bad
 *       line). A rating becomes an action by strength: below 3 a view, 3 a click, 4 a fav, 4.5 and
 *       more a purchase. MovieLens has no category per rating.
 *   <li>the sequential-recommendation literature's {@code user item item …} lines ({@link
 *       SequenceFile}), recognised by the whole file's first lines.
 * </ul>
 *
 * Blank lines are ignored; a line that does not parse is counted, reported (the first few) and
 * skipped.
 */
public final class EventFiles {
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");
    private static final int MAX_BAD_LINE_MESSAGES = 10;

    private EventFiles() {}

    /** What a read saw. */
    public static final class Stats {
        public long lines;
        public long events;
        public long badLines;
    }

    /**
     * The events of {@code file}, at most {@code maxEvents} (all when {@code maxEvents <= 0}), as
     * an iterable for one pass (for {@code TrainingExamples.fromEvents}, which keeps no event
     * objects); {@code stats} is filled as it goes, bad lines are reported to {@code err}.
     * An {@link IOException} while reading is thrown as {@link UncheckedIOException}.
     */
    public static Iterable<BehaviorEvent> iterable(Path file, long maxEvents, PrintStream err, Stats stats) {
        try {
            if (SequenceFile.looksLike(file)) {
                return SequenceFile.iterable(file, maxEvents, err, stats);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return () -> {
            BehaviorEventParser parser = new BehaviorEventParser();
            BufferedReader r;
            try {
                r = Files.newBufferedReader(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return new Iterator<>() {
                private BehaviorEvent next;
                private boolean closed;

                @Override
                public boolean hasNext() {
                    while (next == null && !closed && (maxEvents <= 0 || stats.events < maxEvents)) {
                        String line;
                        try {
                            line = r.readLine();
                            if (line == null) {
                                r.close();
                                closed = true;
                                break;
                            }
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                        stats.lines++;
                        if (line.isBlank()) {
                            continue;
                        }
                        try {
                            next = parse(parser, line);
                            stats.events++;
                        } catch (InvalidEventException e) {
                            if (++stats.badLines <= MAX_BAD_LINE_MESSAGES) {
                                err.println(file.getFileName() + ":" + stats.lines + ": skipped: " + e.getMessage());
                            } else if (stats.badLines == MAX_BAD_LINE_MESSAGES + 1) {
                                err.println("... more bad lines are skipped silently");
                            }
                        }
                    }
                    return next != null;
                }

                @Override
                public BehaviorEvent next() {
                    if (!hasNext()) {
                        throw new NoSuchElementException();
                    }
                    BehaviorEvent e = next;
                    next = null;
                    return e;
                }
            };
        };
    }

    /** One line in any of the accepted formats. */
    public static BehaviorEvent parse(BehaviorEventParser parser, String line) throws InvalidEventException {
        String t = line.strip();
        if (t.startsWith("{") || t.startsWith("[")) {
            return parser.parse(t.getBytes(StandardCharsets.UTF_8));
        }
        String[] f;
        if (t.contains("::")) {
            f = t.split("::", -1);
        } else if (t.indexOf(',') < 0) {
            f = WHITESPACE.split(t);
        } else {
            f = t.split(",", -1);
            if (f.length != 4) {
                return parser.parse(t.getBytes(StandardCharsets.UTF_8)); // Taobao CSV
            }
        }
        if (f.length != 4) {
            throw new InvalidEventException(
                    "expected a JSON event, a Taobao CSV line or a MovieLens rating (user item rating ts), got "
                            + f.length + " fields");
        }
        return movieLens(f);
    }

    private static BehaviorEvent movieLens(String[] f) throws InvalidEventException {
        String user = f[0].strip();
        String item = f[1].strip();
        if (user.isEmpty() || item.isEmpty()) {
            throw new InvalidEventException("MovieLens rating without user or item");
        }
        double rating;
        long seconds;
        try {
            rating = Double.parseDouble(f[2].strip());
            seconds = Long.parseLong(f[3].strip());
        } catch (NumberFormatException e) {
            throw new InvalidEventException("MovieLens rating or timestamp is not a number: " + String.join(" ", f));
        }
        if (seconds < 0 || seconds > Long.MAX_VALUE / 1000) {
            throw new InvalidEventException("MovieLens timestamp out of range: " + seconds);
        }
        return new BehaviorEvent(user, item, ratingAction(rating), seconds * 1000, null);
    }

    /** The action a MovieLens rating stands for. */
    static Action ratingAction(double rating) {
        if (rating >= 4.5) {
            return Action.PURCHASE;
        } else if (rating >= 4) {
            return Action.FAV;
        } else if (rating >= 3) {
            return Action.CLICK;
        }
        return Action.VIEW;
    }
}
