package io.towerflow.devkit.demo;

import io.towerflow.records.Action;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.BehaviorEventParser;
import io.towerflow.records.InvalidEventException;
import io.towerflow.records.JsonCodec;
import io.towerflow.synthetic.SyntheticGenerator;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * What the demo writes to {@code user-behavior}: the raw bytes of each record and, when they
 * parse, the event (for the Kafka key, the record timestamp and latency tracking). A file is sent
 * byte for byte, so its bad lines reach the job, and the DLQ, as they are.
 */
final class EventFeed implements Iterator<EventFeed.Item>, AutoCloseable {

    /** One record to produce; {@code event} is null when the bytes do not parse. */
    record Item(byte[] bytes, BehaviorEvent event) {}

    private final Iterator<byte[]> raw;
    private final BufferedReader reader;
    private final BehaviorEventParser parser = new BehaviorEventParser();
    private final long limit;
    private long produced;

    private EventFeed(Iterator<byte[]> raw, BufferedReader reader, long limit) {
        this.raw = raw;
        this.reader = reader;
        this.limit = limit;
    }

    static EventFeed synthetic(SyntheticGenerator.Config cfg, long count) {
        return synthetic(cfg, count, UnaryOperator.identity());
    }

    /** Synthetic events, each passed through {@code react} before it is encoded. */
    static EventFeed synthetic(SyntheticGenerator.Config cfg, long count, UnaryOperator<BehaviorEvent> react) {
        Iterator<BehaviorEvent> events = new SyntheticGenerator(cfg).events(count);
        Iterator<byte[]> bytes =
                new Iterator<>() {
                    @Override
                    public boolean hasNext() {
                        return events.hasNext();
                    }

                    @Override
                    public byte[] next() {
                        return JsonCodec.behaviorEvent(react.apply(events.next()));
                    }
                };
        return new EventFeed(bytes, null, count);
    }

    /**
     * Users who react to what they are shown: with probability {@code p} an event of a user with a
     * visible list ({@code shown}: the item ids of the user's latest list, null if none) becomes a
     * click on one of its items, drawn uniformly (so each slot, an exploration slot too, as
     * likely as any); same user, time and session, no category (the feed does not know it), no query.
     */
    static UnaryOperator<BehaviorEvent> actOnShown(double p, Function<String, String[]> shown, long seed) {
        SplittableRandom random = new SplittableRandom(seed ^ 0x6A09E667F3BCC909L);
        return e -> {
            if (random.nextDouble() >= p) {
                return e;
            }
            String[] items = shown.apply(e.userId);
            if (items == null || items.length == 0) {
                return e;
            }
            e.itemId = items[random.nextInt(items.length)];
            e.categoryId = null;
            e.action = Action.CLICK;
            e.query = null;
            return e;
        };
    }

    /** Lines of a Taobao CSV or JSON-lines file; {@code limit} < 0 means the whole file. */
    static EventFeed file(Path file, long limit) throws IOException {
        BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8);
        Iterator<byte[]> lines =
                reader.lines().map(l -> l.getBytes(StandardCharsets.UTF_8)).iterator();
        return new EventFeed(lines, reader, limit < 0 ? Long.MAX_VALUE : limit);
    }

    @Override
    public boolean hasNext() {
        return produced < limit && raw.hasNext();
    }

    @Override
    public Item next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        byte[] bytes = raw.next();
        produced++;
        BehaviorEvent event;
        try {
            event = parser.parse(bytes);
        } catch (InvalidEventException e) {
            event = null;
        }
        return new Item(bytes, event);
    }

    @Override
    public void close() {
        if (reader != null) {
            try {
                reader.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
