package io.towerflow.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.records.Action;
import io.towerflow.records.BehaviorEvent;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

class SequenceFileTest {
    @TempDir Path dir;

    private Path file(String name, String text) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    private static List<BehaviorEvent> read(Path p, long max, EventFiles.Stats stats) {
        List<BehaviorEvent> out = new ArrayList<>();
        EventFiles.iterable(p, max, new PrintStream(new ByteArrayOutputStream()), stats).forEach(out::add);
        return out;
    }

    @Test
    void readsUserItemItemLinesInOrderAsPurchasesOneDayApart() throws Exception {
        Path p = file("seq.txt", "1 10 11 12\n\n2 12 10 13 14 15\n3 7\n4\n");
        EventFiles.Stats stats = new EventFiles.Stats();
        List<BehaviorEvent> events = read(p, 0, stats);
        assertEquals(9, events.size());
        assertEquals(9, stats.events);
        assertEquals(1, stats.badLines); // "4": a user without items
        BehaviorEvent first = events.get(0);
        assertEquals("1", first.userId);
        assertEquals("10", first.itemId);
        assertEquals(Action.PURCHASE, first.action);
        assertEquals(SequenceFile.BASE_TS, first.ts);
        assertEquals(SequenceFile.BASE_TS + 2 * SequenceFile.STEP_MS, events.get(2).ts);
        assertEquals("2", events.get(3).userId);
        assertEquals("12", events.get(3).itemId);
        assertEquals(SequenceFile.BASE_TS, events.get(3).ts, "each user starts at the base time");
        assertEquals("15", events.get(7).itemId);
        assertEquals("7", events.get(8).itemId);
        assertEquals(4, read(p, 4, new EventFiles.Stats()).size(), "--max-events counts events, not lines");
    }

    @Test
    void otherFormatsAreNotTakenForSequences() throws Exception {
        assertTrue(SequenceFile.looksLike(file("a.txt", "1 2 3\n2 5 6 7 8\n")));
        assertFalse(SequenceFile.looksLike(file("ml.data", "196\t242\t3\t881250949\n186\t302\t3\t891717742\n")));
        assertFalse(SequenceFile.looksLike(file("e.json", "{\"userId\":\"u\",\"itemId\":\"i\",\"action\":\"view\",\"ts\":1}\n")));
        assertFalse(SequenceFile.looksLike(file("t.csv", "1,2,3,pv,1511544070\n")));
        assertFalse(SequenceFile.looksLike(file("ml.dat", "1::1193::5::978300760\n")));
        // MovieLens lines still read as ratings
        List<BehaviorEvent> ml = read(dir.resolve("ml.data"), 0, new EventFiles.Stats());
        assertEquals(2, ml.size());
        assertEquals(881250949000L, ml.get(0).ts);
    }
}
