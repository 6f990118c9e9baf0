package io.towerflow.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.model.Evaluation;
import io.towerflow.model.ItemCatalogue;
import io.towerflow.model.TrainingExamples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

class LeaveOneOutSplitTest {
    @TempDir Path dir;

    /** Hand-made sequences: a long user, a 3-item user, a 2-item user, a 1-item user. */
    private static final String FILE = String.join("\n",
            "A 1 2 3 4 5 6 7",
            "B 3 1 8",
            "C 2 9",
            "D 4",
            "E 5 6 10 11") + "\n";

    private LeaveOneOutSplit split(int historyLength) throws Exception {
        Path p = dir.resolve("seq.txt");
        Files.writeString(p, FILE);
        TrainingExamples all = TrainingExamples.fromEvents(
                EventFiles.iterable(p, 0, new PrintStream(new ByteArrayOutputStream()), new EventFiles.Stats()),
                historyLength);
        return LeaveOneOutSplit.of(all);
    }

    private static Map<String, List<String>> byUser(TrainingExamples t) {
        Map<String, List<String>> m = new HashMap<>();
        for (int i = 0; i < t.size(); i++) {
            m.computeIfAbsent(t.userId(i), u -> new ArrayList<>()).add(t.targetItemId(i));
        }
        return m;
    }

    @Test
    void validationAndTestTargetsNeverTrain() throws Exception {
        LeaveOneOutSplit s = split(50);
        Map<String, List<String>> train = byUser(s.train());
        assertEquals(List.of("1", "2", "3", "4", "5"), train.get("A"));
        assertEquals(List.of("3"), train.get("B"));
        assertEquals(List.of("2"), train.get("C"), "two items: no validation target, the first trains");
        assertEquals(List.of("4"), train.get("D"), "one item: only trains");
        assertEquals(List.of("5", "6"), train.get("E"));
        // no training example's history reaches a held-out event either
        for (int i = 0; i < s.train().size(); i++) {
            TrainingExamples.Example e = s.train().example(i);
            List<String> u = train.get(e.userId());
            assertTrue(u.containsAll(List.of(e.historyItemIds())), e.userId() + " " + List.of(e.historyItemIds()));
        }

        Map<String, Evaluation.HeldOut> validation = new HashMap<>();
        for (Evaluation.HeldOut h : s.validation()) {
            validation.put(h.query().userId(), h);
        }
        assertEquals(Set.of("A", "B", "E"), validation.keySet());
        assertEquals("6", validation.get("A").targetItemId());
        assertArrayEquals(new String[] {"1", "2", "3", "4", "5"}, validation.get("A").query().itemIds());
        assertEquals(Set.of("1", "2", "3", "4", "5"), validation.get("A").query().exclude());
        assertEquals("1", validation.get("B").targetItemId());
        assertEquals(Set.of("3"), validation.get("B").query().exclude());

        Map<String, EvalCase> cases = new HashMap<>();
        for (EvalCase c : s.cases()) {
            cases.put(c.userId(), c);
        }
        assertEquals(Set.of("A", "B", "C", "E"), cases.keySet());
        assertEquals(Set.of("7"), cases.get("A").targets());
        assertArrayEquals(new String[] {"1", "2", "3", "4", "5", "6"}, cases.get("A").query().itemIds(),
                "at test time the history is everything but the last item, the validation target included");
        assertEquals(Set.of("1", "2", "3", "4", "5", "6"), cases.get("A").query().exclude());
        assertEquals(Set.of("8"), cases.get("B").targets());
        assertEquals(Set.of("9"), cases.get("C").targets());
        assertEquals(Set.of("2"), cases.get("C").query().exclude());
        assertEquals(5, cases.get("A").eventsBefore());
    }

    @Test
    void everyEarlierItemIsExcludedEvenBeyondTheHistoryWindow() throws Exception {
        LeaveOneOutSplit s = split(2);
        EvalCase a = s.cases().stream().filter(c -> c.userId().equals("A")).findFirst().orElseThrow();
        assertArrayEquals(new String[] {"5", "6"}, a.query().itemIds());
        assertEquals(Set.of("1", "2", "3", "4", "5", "6"), a.query().exclude());
        Evaluation.HeldOut v = s.validation().stream().filter(h -> h.query().userId().equals("A")).findFirst()
                .orElseThrow();
        assertEquals(Set.of("1", "2", "3", "4", "5"), v.query().exclude());
    }

    @Test
    void theCatalogueIsTheWholeFileCountedOnTrainingOnly() throws Exception {
        ItemCatalogue c = split(50).catalogue();
        Map<String, Long> counts = new HashMap<>();
        for (int i = 0; i < c.size(); i++) {
            counts.put(c.itemId(i), c.count(i));
        }
        assertEquals(11, c.size(), "items 1..11, held-out-only ones too");
        assertEquals(0L, counts.get("7"), "a test target only");
        assertEquals(0L, counts.get("8"));
        assertEquals(0L, counts.get("11"));
        assertEquals(2L, counts.get("3"), "A and B trained on it");
        assertEquals(2L, counts.get("5"));
        assertFalse(counts.get("6") > 1, "6 trains for E only; A's 6 is a validation target");
    }
}
