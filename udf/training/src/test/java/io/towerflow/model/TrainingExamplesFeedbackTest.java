package io.towerflow.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.records.Action;
import io.towerflow.records.Feedback;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Examples built from rec-feedback records, and the split of a window by event time. */
class TrainingExamplesFeedbackTest {

    /** Feedback the way the operator writes it: each act with the user's history before it. */
    private static List<Feedback> rolling(int keep, String... userItemTs) {
        Map<String, List<Feedback>> byUser = new HashMap<>();
        List<Feedback> out = new ArrayList<>();
        for (String s : userItemTs) {
            String[] p = s.split(":");
            List<Feedback> prev = byUser.computeIfAbsent(p[0], u -> new ArrayList<>());
            Feedback f = act(p[0], p[1], Long.parseLong(p[2]));
            int from = Math.max(0, prev.size() - keep);
            List<Feedback> h = prev.subList(from, prev.size());
            f.historyItemIds = h.stream().map(x -> x.itemId).toArray(String[]::new);
            f.historyCategoryIds = h.stream().map(x -> x.categoryId).toArray(String[]::new);
            f.historyActions = new byte[h.size()];
            Arrays.fill(f.historyActions, Action.CLICK.code());
            f.historyTs = h.stream().mapToLong(x -> x.ts).toArray();
            prev.add(f);
            out.add(f);
        }
        return out;
    }

    private static Feedback act(String user, String item, long ts) {
        Feedback f = new Feedback();
        f.userId = user;
        f.itemId = item;
        f.categoryId = "c" + item;
        f.action = Action.CLICK;
        f.ts = ts;
        return f;
    }

    @Test
    void eachRecordIsAnExampleWithTheHistoryItCarries() {
        List<Feedback> fb = rolling(3, "a:1:10", "b:7:11", "a:2:12", "a:3:13", "a:4:14", "a:5:15");
        TrainingExamples.FeedbackBuilder b = new TrainingExamples.FeedbackBuilder(2);
        fb.forEach(b::add);
        TrainingExamples x = b.build();
        assertEquals(6, x.size());
        // a's records continue one another: one segment, one stored event per record
        assertEquals(6, b.events());
        Map<String, TrainingExamples.Example> byItem = new HashMap<>();
        for (int i = 0; i < x.size(); i++) {
            byItem.put(x.targetItemId(i), x.example(i));
        }
        assertArrayEquals(new String[0], byItem.get("1").historyItemIds());
        assertArrayEquals(new String[] {"1"}, byItem.get("2").historyItemIds());
        assertArrayEquals(new String[] {"3", "4"}, byItem.get("5").historyItemIds(),
                "the latest historyLength entries of the record's history");
        assertArrayEquals(new String[] {"c3", "c4"}, byItem.get("5").historyCategoryIds());
        assertArrayEquals(new long[] {13, 14}, byItem.get("5").historyTs());
        assertEquals("b", byItem.get("7").userId());
        assertEquals(new ModelManifest.TrainingWindow(10, 15, 6), x.window());
        assertArrayEquals(new String[] {"1", "2", "3", "4", "5", "7"},
                Arrays.stream(x.catalogue().itemIds()).sorted().toArray(), "targets only");
    }

    @Test
    void theQueriesARecordCarriesAreVisibleFromTheFirstActAfterThem() {
        List<Feedback> fb = rolling(5, "a:1:10", "a:2:20", "a:3:30", "b:7:11");
        // a searched "red shoes" at 15 (between acts 1 and 2), "blue" at 25; the operator writes the
        // user's latest queries at each act, so later records repeat the earlier ones
        fb.get(1).queryTexts = new String[] {"red shoes"};
        fb.get(1).queryTs = new long[] {15};
        fb.get(2).queryTexts = new String[] {"red shoes", "blue"};
        fb.get(2).queryTs = new long[] {15, 25};
        TrainingExamples.FeedbackBuilder b = new TrainingExamples.FeedbackBuilder(5);
        fb.forEach(b::add);
        TrainingExamples x = b.build();
        assertTrue(x.hasQueries());
        Map<String, UserQuery> byItem = new HashMap<>();
        for (int i = 0; i < x.size(); i++) {
            byItem.put(x.targetItemId(i), x.query(i, java.util.Set.of()));
        }
        assertArrayEquals(new String[0], orEmpty(byItem.get("1").queries()), "no query before the first act");
        assertArrayEquals(new String[] {"red shoes"}, byItem.get("2").queries());
        assertArrayEquals(new String[] {"red shoes", "blue"}, byItem.get("3").queries(), "each query once");
        assertArrayEquals(new long[] {15, 25}, byItem.get("3").queryTs());
        assertArrayEquals(new String[0], orEmpty(byItem.get("7").queries()), "another user's queries are not b's");
        // records without queries (written before they existed) build as before
        TrainingExamples.FeedbackBuilder plain = new TrainingExamples.FeedbackBuilder(5);
        rolling(5, "a:1:10", "a:2:20").forEach(plain::add);
        assertFalse(plain.build().hasQueries());
    }

    private static String[] orEmpty(String[] a) {
        return a == null ? new String[0] : a;
    }

    @Test
    void aRecordThatDoesNotContinueItsUserStartsANewSegment() {
        List<Feedback> fb = new ArrayList<>(rolling(5, "a:1:10", "a:2:12", "a:3:13"));
        // state expired in the operator: the next act of a comes with an empty history
        fb.add(act("a", "8", 100));
        // and one whose history disagrees with what came before
        Feedback odd = act("a", "9", 101);
        odd.historyItemIds = new String[] {"42"};
        odd.historyCategoryIds = new String[] {null};
        odd.historyActions = new byte[] {Action.VIEW.code()};
        odd.historyTs = new long[] {99};
        fb.add(odd);
        TrainingExamples.FeedbackBuilder b = new TrainingExamples.FeedbackBuilder(50);
        fb.forEach(b::add);
        TrainingExamples x = b.build();
        assertEquals(5, x.size());
        assertEquals(6, b.events(), "5 acts + the one history entry of the odd record");
        Map<String, TrainingExamples.Example> byItem = new HashMap<>();
        for (int i = 0; i < x.size(); i++) {
            byItem.put(x.targetItemId(i), x.example(i));
        }
        assertArrayEquals(new String[] {"1", "2"}, byItem.get("3").historyItemIds());
        assertArrayEquals(new String[0], byItem.get("8").historyItemIds(), "not a's older acts");
        assertArrayEquals(new String[] {"42"}, byItem.get("9").historyItemIds());
        assertArrayEquals(new String[] {null}, byItem.get("9").historyCategoryIds());
        assertEquals("a", byItem.get("9").userId());
    }

    @Test
    void unusableRecordsAreSkipped() {
        TrainingExamples.FeedbackBuilder b = new TrainingExamples.FeedbackBuilder(5);
        Feedback noAction = act("a", "1", 1);
        noAction.action = null;
        Feedback ragged = act("a", "2", 2);
        ragged.historyItemIds = new String[] {"1"};
        assertFalse(b.add(noAction));
        assertFalse(b.add(ragged));
        assertFalse(b.add(null));
        assertEquals(3, b.skipped());
        assertEquals(0, b.build().size());
    }

    @Test
    void newestCutHoldsOutTheNewestShareAndKeepsBothSidesNonEmpty() {
        List<Feedback> fb = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            fb.add(act("u" + i, "i" + i, 100 + i));
        }
        TrainingExamples x = TrainingExamples.fromFeedback(fb, 5);
        long cut = x.newestCut(0.2);
        assertEquals(108, cut);
        TrainingExamples.Split s = x.splitAt(cut);
        assertEquals(8, s.train().size());
        assertEquals(2, s.heldOut().size());
        for (int i = 0; i < s.heldOut().size(); i++) {
            assertFalse(s.heldOut().ts(i) < cut);
        }
        assertEquals(new ModelManifest.TrainingWindow(100, 107, 8), s.train().window());
        assertEquals(109, x.newestCut(0.01), "at least one example is held out");
        assertEquals(101, x.newestCut(0.99), "at least one example trains");
    }

    @Test
    void examplesAtTheCutTimeAllGoToTheHeldOutSide() {
        List<Feedback> fb = new ArrayList<>();
        long[] ts = {1, 2, 3, 3, 3, 3};
        for (int i = 0; i < ts.length; i++) {
            fb.add(act("u" + i, "i" + i, ts[i]));
        }
        TrainingExamples x = TrainingExamples.fromFeedback(fb, 5);
        assertEquals(3, x.newestCut(0.2));
        assertEquals(4, x.splitAt(3).heldOut().size());
        // the oldest time reaches the cut: hold out from the next later time instead
        TrainingExamples same = TrainingExamples.fromFeedback(
                List.of(act("a", "1", 5), act("b", "2", 5), act("c", "3", 6)), 5);
        assertEquals(6, same.newestCut(0.9));
        TrainingExamples one = TrainingExamples.fromFeedback(List.of(act("a", "1", 5), act("b", "2", 5)), 5);
        assertEquals(Long.MAX_VALUE, one.newestCut(0.5), "no cut leaves both sides non-empty");
        assertThrows(IllegalArgumentException.class, () -> x.newestCut(1.0));
        assertThrows(IllegalArgumentException.class, () -> x.newestCut(0));
    }

    @Test
    void theExamplesDoNotDependOnHowUsersInterleave() {
        List<Feedback> fb = rolling(3, "a:1:10", "b:7:11", "a:2:12", "c:5:13", "b:8:14", "a:3:15");
        List<Feedback> other = new ArrayList<>();
        for (String u : List.of("c", "b", "a")) {
            fb.stream().filter(f -> f.userId.equals(u)).forEach(other::add);
        }
        TrainingExamples x = TrainingExamples.fromFeedback(fb, 3);
        TrainingExamples y = TrainingExamples.fromFeedback(other, 3);
        assertEquals(x.size(), y.size());
        for (int i = 0; i < x.size(); i++) {
            assertEquals(x.userId(i), y.userId(i));
            assertEquals(x.targetItemId(i), y.targetItemId(i));
            assertArrayEquals(x.example(i).historyItemIds(), y.example(i).historyItemIds());
        }
        assertArrayEquals(x.catalogue().itemIds(), y.catalogue().itemIds());
    }
}
