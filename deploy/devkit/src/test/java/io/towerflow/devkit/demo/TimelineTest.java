package io.towerflow.devkit.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.records.JsonCodec;

import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.Test;

import java.util.List;

class TimelineTest {

    private static final long T0 = 1_764_547_200_000L; // a window boundary for 5 s windows

    /**
     * Version a serves from T0 with 10 ms lists, b's first list comes at T0 + 30 s with 500 ms
     * lists for a second around it; later b serves at 10 ms again.
     */
    private static Timeline twoVersions() {
        Timeline t = new Timeline(5_000);
        for (long ms = 0; ms < 60_000; ms += 10) {
            long ts = T0 + ms;
            String version = ms < 30_000 ? "a" : "b";
            long latency = Math.abs(ms - 30_000) < 1_000 ? 500 : 10;
            t.list(ts, version, latency);
            // one act per list; a hits 1 in 4, b 1 in 2
            t.act(ts, version, version.equals("a") ? ms % 40 == 0 : ms % 20 == 0);
        }
        return t;
    }

    @Test
    void windowsCountListsLatenciesVersionsAndHitRates() {
        Timeline t = twoVersions();
        List<Timeline.Window> w = t.windows();
        assertEquals(12, w.size());
        assertEquals(T0, w.get(0).start);
        assertEquals(500, w.get(0).lists);
        assertEquals(10, w.get(0).latency(0.99));
        assertEquals(List.of("a"), List.copyOf(w.get(0).versions));
        assertEquals(0.25, w.get(0).hitRate(), 1e-9);
        assertEquals(List.of("a"), List.copyOf(w.get(5).versions), "the window before the swap");
        assertEquals(List.of("b"), List.copyOf(w.get(6).versions));
        assertEquals(0.5, w.get(6).hitRate(), 1e-9);
        assertEquals(500, w.get(5).latency(0.99), "slow lists in the second before the swap");
        assertNull(t.window(T0 + 1));
    }

    @Test
    void aSwapIsComparedWithTheSteadyStateAwayFromIt() {
        Timeline t = twoVersions();
        List<Timeline.Swap> swaps = t.swaps(10_000);
        assertEquals(1, swaps.size());
        Timeline.Swap s = swaps.get(0);
        assertEquals("a", s.from());
        assertEquals("b", s.to());
        assertEquals(T0 + 30_000, s.firstListAt());
        assertEquals(1_001, s.swapLists(), "±5 s around the first list of b");
        assertEquals(500, s.p99MsSwapWindow());
        assertEquals(10, s.p99MsSteady());
        assertEquals(50.0, s.ratio(), 1e-9);
        // steady: from 10 s after the first list, not within ±5 s of the swap
        assertEquals(5_000 - 1_001, s.steadyLists());
    }

    @Test
    void theSummaryHasWindowsAndSwapsWithTheHitRatesAroundThem() {
        Timeline t = twoVersions();
        ObjectNode s = JsonCodec.mapper().createObjectNode();
        TimelineReport.write(s, t, 10_000, 4, List.of(T0 - 1_000, T0 + 100_000), 90_000, List.of());
        assertEquals(12, s.get("windows").size());
        assertEquals(0.25, s.get("windows").get(0).get("hr@20").asDouble(), 1e-9);
        assertEquals(1, s.get("swaps").size());
        ObjectNode swap = (ObjectNode) s.get("swaps").get(0);
        assertEquals(500, swap.get("p99MsSwapWindow").asLong());
        assertEquals(10, swap.get("p99MsSteady").asLong());
        assertEquals(50.0, swap.get("p99Ratio").asDouble(), 1e-9);
        assertTrue(swap.get("publishedToFirstListMs") == null, "no round of the demo published b");
        ObjectNode hr = (ObjectNode) swap.get("hr@20Around");
        assertEquals(0.25, hr.get("from").asDouble(), 1e-9);
        assertEquals(2_000, hr.get("fromActs").asLong(), "4 windows of a before the swap's window");
        assertEquals(0.5, hr.get("to").asDouble(), 1e-9);
        assertEquals(2_000, hr.get("toActs").asLong(), "4 windows of b after it");
        assertEquals(false, hr.get("driftBetween").asBoolean());
        assertEquals(2, s.get("drift").get("epochStartsAt").size());
    }
}
