package io.towerflow.operators;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.towerflow.records.Action;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.DeadLetter;
import io.towerflow.records.RawRecord;

import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

class ParseBehaviorFunctionTest {

    private static RawRecord raw(String value, long offset) {
        return new RawRecord(value.getBytes(StandardCharsets.UTF_8), "user-behavior", 1, offset, 0L);
    }

    @Test
    void validRecordsFlowOnAndBadOnesReachTheDeadLetterOutputWithOrigin() throws Exception {
        try (OneInputStreamOperatorTestHarness<RawRecord, BehaviorEvent> h =
                ProcessFunctionTestHarnesses.forProcessFunction(new ParseBehaviorFunction())) {
            h.processElement(raw("{\"userId\":\"u1\",\"itemId\":\"i1\",\"action\":\"view\",\"ts\":1700000000000}", 10), 1L);
            h.processElement(raw("not json at all", 11), 2L);
            h.processElement(raw("7,8,9,buy,1511544070", 12), 3L);
            h.processElement(raw("{\"userId\":\"u1\",\"itemId\":\"i1\",\"action\":\"teleport\",\"ts\":1700000000000}", 13), 4L);

            List<BehaviorEvent> events = h.extractOutputValues();
            assertEquals(2, events.size());
            assertEquals(Action.VIEW, events.get(0).action);
            assertEquals(Action.PURCHASE, events.get(1).action);

            List<DeadLetter> dead = new ArrayList<>();
            for (StreamRecord<DeadLetter> r : h.getSideOutput(ParseBehaviorFunction.DEAD_LETTERS)) {
                dead.add(r.getValue());
            }
            assertEquals(2, dead.size());
            assertEquals("Taobao CSV needs 5 fields (user,item,category,behavior,ts), got 1", dead.get(0).reason);
            assertEquals(11, dead.get(0).sourceOffset);
            assertEquals(1, dead.get(0).sourcePartition);
            assertEquals("user-behavior", dead.get(0).sourceTopic);
            assertArrayEquals("not json at all".getBytes(StandardCharsets.UTF_8), dead.get(0).raw);
            assertEquals("unknown action 'teleport'", dead.get(1).reason);
            assertEquals(13, dead.get(1).sourceOffset);
        }
    }
}
