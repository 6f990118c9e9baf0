package io.towerflow.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.model.TestModels;
import io.towerflow.records.Action;
import io.towerflow.records.BehaviorEvent;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

class EventFilesTest {
    @TempDir Path dir;

    private static List<BehaviorEvent> read(Path file, long max, EventFiles.Stats stats, ByteArrayOutputStream err) {
        List<BehaviorEvent> out = new ArrayList<>();
        EventFiles.iterable(file, max, new PrintStream(err, true, StandardCharsets.UTF_8), stats)
                .forEach(out::add);
        return out;
    }

    @Test
    void readsJsonTaobaoAndMovieLensLinesAndSkipsBadOnes() throws Exception {
        Path f = dir.resolve("mixed.txt");
        Files.writeString(f, String.join("\n",
                "{\"userId\":\"u1\",\"itemId\":\"i1\",\"action\":\"cart\",\"ts\":1700000000000,\"categoryId\":\"c\"}",
                "543462,1715,1464116,pv,1511658000",
                "196\t242\t3\t881250949",
                "1::1193::5::978300760",
                "userId,movieId,rating,timestamp",
                "1,307,4.0,1256677221",
                "",
                "not an event",
                "7 8 2.5 964982703"));
        EventFiles.Stats stats = new EventFiles.Stats();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<BehaviorEvent> events = read(f, -1, stats, err);
        assertEquals(6, events.size());
        assertEquals(2, stats.badLines, err.toString());
        assertEquals(9, stats.lines);
        assertTrue(err.toString().contains("mixed.txt:5"), err.toString());

        assertEquals(Action.CART, events.get(0).action);
        assertEquals("1464116", events.get(1).categoryId);
        assertEquals(1_511_658_000_000L, events.get(1).ts);
        BehaviorEvent ml100k = events.get(2);
        assertEquals("196", ml100k.userId);
        assertEquals("242", ml100k.itemId);
        assertEquals(Action.CLICK, ml100k.action);
        assertEquals(881_250_949_000L, ml100k.ts);
        assertNull(ml100k.categoryId);
        assertEquals(Action.PURCHASE, events.get(3).action);
        assertEquals("1193", events.get(3).itemId);
        assertEquals(Action.FAV, events.get(4).action);
        assertEquals(Action.VIEW, events.get(5).action);
    }

    @Test
    void stopsAtMaxEvents() throws Exception {
        Path f = dir.resolve("ml.dat");
        Files.writeString(f, "1::1::5::1\n1::2::5::2\n1::3::5::3\n");
        EventFiles.Stats stats = new EventFiles.Stats();
        assertEquals(2, read(f, 2, stats, new ByteArrayOutputStream()).size());
        assertEquals(2, stats.events);
    }

    @Test
    void readsTheTaobaoUserSequences() {
        Path f = TestModels.repoRoot().resolve("../shared/data/taobao/user-sequences.csv").normalize();
        Assumptions.assumeTrue(Files.isRegularFile(f),
                "skipped: " + f + " is absent (the shared Taobao sample sits beside the checkout)");
        EventFiles.Stats stats = new EventFiles.Stats();
        List<BehaviorEvent> events = read(f, -1, stats, new ByteArrayOutputStream());
        assertEquals(10_000, events.size());
        assertEquals(0, stats.badLines);
        assertEquals(114, events.stream().map(e -> e.userId).distinct().count());
    }
}
