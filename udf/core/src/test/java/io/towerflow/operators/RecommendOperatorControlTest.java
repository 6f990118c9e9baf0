package io.towerflow.operators;

import static io.towerflow.operators.RecommendOperatorTest.harness;
import static io.towerflow.operators.RecommendOperatorTest.options;
import static io.towerflow.operators.RecommendOperatorTest.popularIds;
import static io.towerflow.operators.RecommendOperatorTest.view;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.config.ModelUpdateOptions;
import io.towerflow.model.ModelArtifacts;
import io.towerflow.model.TestModels;
import io.towerflow.records.Action;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.CatalogueItem;
import io.towerflow.records.ControlMessage;
import io.towerflow.records.Feedback;
import io.towerflow.records.ModelUpdate;
import io.towerflow.records.Recommendation;
import io.towerflow.records.ScoredItem;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/** The broadcast side of the recommend operator: feedback, model swaps, catalogue changes. */
class RecommendOperatorControlTest {
    private static final long T0 = 1_764_547_200_000L;

    @TempDir Path tmp;

    /** The usual test config, also serving versions from {@code root}. */
    static RecommendConfig configAllowing(Path root) {
        Configuration c = options(1, Duration.ofSeconds(1), Duration.ofDays(1));
        c.set(ModelUpdateOptions.ALLOWED_ROOTS,
                List.of(root.toString(), TestModels.bootstrapVersionDir().getParent().toString()));
        return RecommendConfig.from(c);
    }

    /** Advances processing time in small steps until {@code done} (the loader runs on its own thread). */
    static void advanceUntil(KeyedTwoInputStreamOperatorTestHarness<?, ?, ?, ?> h, BooleanSupplier done) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        long t = h.getProcessingTime();
        while (!done.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("condition not reached within 60 s");
            }
            h.setProcessingTime(t += 20);
            Thread.onSpinWait();
        }
    }

    @Test
    void everyActBecomesAFeedbackExampleJudgedAgainstTheLastListShown() throws Exception {
        RecommendOperator op = new RecommendOperator(configAllowing(tmp));
        try (var h = harness(op)) {
            h.processElement1(view("u", "1", T0), T0);
            Recommendation first = h.extractOutputValues().get(0);
            String shownThird = first.items[2].itemId;
            h.processElement1(new BehaviorEvent("u", shownThird, Action.CART, T0 + 1, null), T0 + 1);
            h.processElement1(view("u", "not-in-any-list", T0 + 2), T0 + 2);

            List<Feedback> fb = new ArrayList<>();
            for (StreamRecord<Feedback> r : h.getSideOutput(RecommendOperator.FEEDBACK)) {
                fb.add(r.getValue());
            }
            assertEquals(3, fb.size());
            assertFalse(fb.get(0).wasShown(), "nothing was shown before the first act");
            assertEquals(0, fb.get(0).historyItemIds.length);
            assertEquals(3, fb.get(1).shownRank, "the carted item was third in the list");
            assertEquals(first.modelVersion, fb.get(1).shownModelVersion);
            assertEquals(10, fb.get(1).shownSize);
            assertEquals(List.of("1"), Arrays.asList(fb.get(1).historyItemIds), "history before the act");
            assertEquals(Action.CART, fb.get(1).action);
            assertTrue(fb.get(1).hitAt(10));
            assertEquals(0, fb.get(2).shownRank);
            assertEquals(2, fb.get(2).historyItemIds.length);
        }
    }

    @Test
    void aNewVersionIsSwappedInBetweenBatchesAndEveryListCarriesItsVersion() throws Exception {
        ModelUpdate next = TestModels.copyOfBootstrap(tmp, "v20991231-next");
        RecommendOperator op = new RecommendOperator(configAllowing(tmp));
        try (var h = harness(op)) {
            String first = op.servingVersion();
            h.processElement1(view("u", "1", T0), T0);
            h.processElement2(ControlMessage.of(next), T0);
            advanceUntil(h, () -> op.servingVersion().equals(next.version));
            h.processElement1(view("u", "2", T0 + 1), T0 + 1);
            List<Recommendation> out = h.extractOutputValues();
            assertEquals(first, out.get(0).modelVersion);
            assertEquals(next.version, out.get(1).modelVersion);

            // an older version arriving later is ignored: the highest wins
            ModelUpdate older = TestModels.copyOfBootstrap(tmp, "v20991230-older");
            h.processElement2(ControlMessage.of(older), T0 + 2);
            h.setProcessingTime(h.getProcessingTime() + 100);
            assertEquals(next.version, op.servingVersion());
        }
    }

    @Test
    void aCorruptedVersionIsRefusedAndTheOldOneKeepsServing() throws Exception {
        ModelUpdate bad = TestModels.copyOfBootstrap(tmp, "v20991231-bad");
        Path items = ModelLoader.pathOf(bad.uri).resolve("items.csv");
        Files.writeString(items, "999999,1,1\n", StandardOpenOption.APPEND);
        ModelUpdate wrongSha = TestModels.copyOfBootstrap(tmp, "v20991231-sha");
        wrongSha.sha256 = "0".repeat(64);

        RecommendOperator op = new RecommendOperator(configAllowing(tmp));
        try (var h = harness(op)) {
            String serving = op.servingVersion();
            h.processElement2(ControlMessage.of(bad), T0);
            advanceUntil(h, () -> op.lastRefusal() != null);
            assertTrue(op.lastRefusal().contains("sha256 mismatch for items.csv"), op.lastRefusal());
            assertEquals(serving, op.servingVersion());

            h.processElement2(ControlMessage.of(wrongSha), T0);
            advanceUntil(h, () -> op.lastRefusal().startsWith(wrongSha.version));
            assertTrue(op.lastRefusal().contains("manifest sha256"), op.lastRefusal());
            h.processElement1(view("u", "1", T0), T0);
            assertEquals(serving, h.extractOutputValues().get(0).modelVersion);
        }
    }

    @Test
    void catalogueChangesAddNewItemsAndRemoveUnavailableOnes() throws Exception {
        RecommendOperator op = new RecommendOperator(configAllowing(tmp));
        String[] popular = popularIds(2);
        try (var h = harness(op)) {
            int before = op.catalogueSize();
            h.processElement2(ControlMessage.of(new CatalogueItem("brand-new-item", "7", true)), T0);
            h.processElement2(ControlMessage.of(new CatalogueItem(popular[0], null, false)), T0);
            // the new index is built on the loader thread and swapped in between batches
            advanceUntil(h, () -> !op.modelWorkPending());
            // a cold user gets the popular list: the unavailable item is gone from it
            h.processElement1(view("cold", "unknown-item", T0), T0);
            assertEquals(before, op.catalogueSize(), "one item in, one item out");
            Recommendation r = h.extractOutputValues().get(0);
            assertEquals(popular[1], r.items[0].itemId);
            for (ScoredItem s : r.items) {
                assertFalse(s.itemId.equals(popular[0]));
            }
            // the new item is known to the index now: a history of only it is no cold start
            h.processElement1(view("fresh", "brand-new-item", T0 + 1), T0 + 1);
            assertEquals(10, h.extractOutputValues().get(1).items.length);
            assertNull(op.lastRefusal());
        }
    }

    @Test
    void catalogueChangesDuringASwapEndUpInTheNewVersionToo() throws Exception {
        ModelUpdate next = TestModels.copyOfBootstrap(tmp, "v20991231-next");
        RecommendOperator op = new RecommendOperator(configAllowing(tmp));
        try (var h = harness(op)) {
            int before = op.catalogueSize();
            h.processElement2(ControlMessage.of(next), T0);
            h.processElement2(ControlMessage.of(new CatalogueItem("added-while-loading", "7", true)), T0);
            // events are served meanwhile, by whichever version and index are installed
            h.processElement1(view("u", "1", T0), T0);
            assertEquals(1, h.extractOutputValues().size());
            advanceUntil(h, () -> op.servingVersion().equals(next.version) && !op.modelWorkPending());
            assertEquals(before + 1, op.catalogueSize(), "the new version serves the change too");
            h.processElement1(view("fresh", "added-while-loading", T0 + 1), T0 + 1);
            assertEquals(next.version, h.extractOutputValues().get(1).modelVersion);
            assertEquals(10, h.extractOutputValues().get(1).items.length, "the added item is known: no cold start");
        }
    }
}
