package io.towerflow.operators;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.config.FaultInjectionOptions;
import io.towerflow.records.RawRecord;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

class FaultInjectionTest {

    private static FaultInjection of(String spec) {
        return FaultInjection.from(new Configuration().set(FaultInjectionOptions.FAIL_AT, spec));
    }

    @Test
    void offUnlessSetAndOnlySubtaskZeroInItsFirstAttempt() {
        FaultInjection none = FaultInjection.from(new Configuration());
        assertEquals("none", none.toString());
        assertFalse(none.armed(FaultInjection.Point.PARSE, 0, 0));
        FaultInjection f = of("recommend:10");
        assertTrue(f.armed(FaultInjection.Point.RECOMMEND, 0, 0));
        assertFalse(f.armed(FaultInjection.Point.RECOMMEND, 1, 0));
        assertFalse(f.armed(FaultInjection.Point.RECOMMEND, 0, 1));
        assertFalse(f.armed(FaultInjection.Point.SINK, 0, 0));
        f.check(FaultInjection.Point.RECOMMEND, 10);
        assertThrows(FaultInjection.InjectedFailure.class, () -> f.check(FaultInjection.Point.RECOMMEND, 11));
        assertThrows(IllegalArgumentException.class, () -> of("parse"));
        assertThrows(IllegalArgumentException.class, () -> of("window:3"));
    }

    @Test
    void theParseFunctionThrowsAfterNRecordsInItsFirstAttempt() throws Exception {
        byte[] event = "{\"userId\":\"u\",\"itemId\":\"i\",\"action\":\"view\",\"ts\":1700000000000}".getBytes(StandardCharsets.UTF_8);
        try (OneInputStreamOperatorTestHarness<RawRecord, io.towerflow.records.BehaviorEvent> h =
                new OneInputStreamOperatorTestHarness<>(new ProcessOperator<>(new ParseBehaviorFunction(of("parse:2"))))) {
            h.open();
            h.processElement(new RawRecord(event, "t", 0, 0, 0), 0);
            h.processElement(new RawRecord(event, "t", 0, 1, 0), 0);
            assertThrows(FaultInjection.InjectedFailure.class, () -> h.processElement(new RawRecord(event, "t", 0, 2, 0), 0));
            assertEquals(2, h.extractOutputValues().size());
        }
        // other subtasks never fail (the attempt number is checked by armed(), above)
        try (OneInputStreamOperatorTestHarness<RawRecord, io.towerflow.records.BehaviorEvent> h =
                new OneInputStreamOperatorTestHarness<>(new ProcessOperator<>(new ParseBehaviorFunction(of("parse:2"))), 2, 2, 1)) {
            h.open();
            for (int i = 0; i < 5; i++) {
                h.processElement(new RawRecord(event, "t", 0, i, 0), 0);
            }
            assertEquals(5, h.extractOutputValues().size());
        }
    }
}
