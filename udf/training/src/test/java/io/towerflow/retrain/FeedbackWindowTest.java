package io.towerflow.retrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.config.RetrainOptions.FromOffsets;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

class FeedbackWindowTest {
    private static final TopicPartition P0 = new TopicPartition("fb", 0);
    private static final TopicPartition P1 = new TopicPartition("fb", 1);
    private static final TopicPartition P2 = new TopicPartition("fb", 2);

    @Test
    void commitsUpToWhereTheHeldOutSliceBeginsInEachPartition() {
        Map<TopicPartition, Long> start = new LinkedHashMap<>(Map.of(P0, 10L, P1, 0L, P2, 7L));
        Map<TopicPartition, Long> end = new LinkedHashMap<>(Map.of(P0, 20L, P1, 5L, P2, 7L));
        FeedbackWindow w = new FeedbackWindow("fb", start, end);
        // P0: event times not in offset order; the first record at or after the cut decides
        w.accepted(P0, 10, 100);
        w.accepted(P0, 12, 300);
        w.accepted(P0, 13, 150);
        w.accepted(P0, 18, 400);
        // P1: nothing held out
        w.accepted(P1, 0, 100);
        w.accepted(P1, 3, 200);
        Map<TopicPartition, OffsetAndMetadata> c = w.commitPositions(250);
        assertEquals(12, c.get(P0).offset(), "re-read from the first held-out record");
        assertEquals(5, c.get(P1).offset(), "the window's end");
        assertEquals(7, c.get(P2).offset(), "an empty partition stays where it was");
    }

    @Test
    void boundsByTimeDoNotComeFromTheGroup() {
        assertTrue(new FeedbackWindow.Bounds(FromOffsets.COMMITTED, null, 5L).fromGroup());
        assertFalse(new FeedbackWindow.Bounds(FromOffsets.COMMITTED, 1L, 5L).fromGroup());
        assertThrows(IllegalArgumentException.class, () -> new FeedbackWindow.Bounds(FromOffsets.COMMITTED, 5L, 5L));
    }
}
