package io.towerflow.devkit.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.records.Action;
import io.towerflow.records.BehaviorEvent;

import org.junit.jupiter.api.Test;

import java.util.List;

/** The verdict behind the smoke's summary: what counts as lost, duplicated, and a seen item recommended. */
class OutputLedgerTest {
    private static final List<BehaviorEvent> SENT = List.of(
            new BehaviorEvent("u1", "10", Action.VIEW, 1_000L, "0"),
            new BehaviorEvent("u1", "11", Action.CLICK, 2_000L, "1"),
            new BehaviorEvent("u1", "12", Action.VIEW, 3_000L, "2"),
            new BehaviorEvent("u2", "10", Action.VIEW, 1_000L, "0"));

    private static OutputLedger.Received list(String user, long ts, String... items) {
        return new OutputLedger.Received(EventFeeder.key(user, ts), items, 0L);
    }

    @Test
    void oneListPerEventAndOneDeadLetterPerMalformedRecordIsExact() {
        OutputLedger.Verdict v = OutputLedger.judge(
                List.of(list("u1", 1_000, "20"), list("u1", 2_000, "21"), list("u1", 3_000, "10"), list("u2", 1_000, "11")),
                List.of("in/0@5"), SENT, 1, 2);
        assertTrue(v.exact(), v.toString());
        assertEquals(4, v.expected());
        assertEquals(4, v.received());
        // item 10 left u1's history (length 2) before the list for ts 3000: recommending it again is fine
        assertEquals(0, v.seenItemsRecommended(), v.examples().toString());
    }

    @Test
    void missingExtraAndSeenAreCounted() {
        OutputLedger.Verdict v = OutputLedger.judge(
                List.of(list("u1", 1_000, "20"), list("u1", 1_000, "20"), list("u1", 3_000, "11"), list("u9", 5, "1")),
                List.of("in/0@5", "in/0@5"), SENT, 2, 2);
        assertFalse(v.exact());
        assertEquals(2, v.lost(), "u1@2000 and u2@1000 have no list");
        assertEquals(2, v.duplicated(), "a second list for u1@1000 and one for an event never sent");
        assertEquals(1, v.deadLettersLost(), "two malformed records, one distinct dead letter");
        assertEquals(1, v.deadLettersDuplicated());
        assertEquals(1, v.seenItemsRecommended(), "item 11 is in u1's history at ts 3000");
    }
}
