package io.towerflow.operators;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.config.ModelOptions;
import io.towerflow.config.RecommendOptions;
import io.towerflow.model.ModelArtifacts;
import io.towerflow.model.ModelManifest;
import io.towerflow.model.RepeatBoost;
import io.towerflow.model.ServingModel;
import io.towerflow.model.TestModels;
import io.towerflow.records.Action;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.ControlMessage;
import io.towerflow.records.Feedback;
import io.towerflow.records.Recommendation;
import io.towerflow.records.ScoredItem;

import ai.djl.Device;

import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/** The keyed recommend operator under Flink's harness, serving the committed bootstrap model. */
class RecommendOperatorTest {
    private static final long T0 = 1_764_547_200_000L;

    static RecommendConfig config(int batchSize, Duration maxWait, Duration ttl) {
        return RecommendConfig.from(options(batchSize, maxWait, ttl));
    }

    /**
     * The options of {@link #config}, to add to. Exploration off: these tests pin the model's lists;
     * {@link RecommendOperatorExplorationTest} turns it on.
     */
    static Configuration options(int batchSize, Duration maxWait, Duration ttl) {
        Configuration c = new Configuration();
        c.set(RecommendOptions.EXPLORE_SLOTS, 0);
        c.set(ModelOptions.PATH, TestModels.bootstrapVersionDir().toString());
        c.set(ModelOptions.DEVICE, ModelOptions.DeviceChoice.CPU);
        c.set(RecommendOptions.TOP_K, 10);
        c.set(RecommendOptions.BATCH_MAX_SIZE, batchSize);
        c.set(RecommendOptions.BATCH_MAX_WAIT, maxWait);
        c.set(RecommendOptions.STATE_TTL, ttl);
        return c;
    }

    static KeyedTwoInputStreamOperatorTestHarness<String, BehaviorEvent, ControlMessage, Recommendation>
            harness(RecommendOperator operator) throws Exception {
        // the broadcast input touches no keyed state: its key is a constant
        KeyedTwoInputStreamOperatorTestHarness<String, BehaviorEvent, ControlMessage, Recommendation> h = unopened(operator);
        h.open();
        return h;
    }

    private static KeyedTwoInputStreamOperatorTestHarness<String, BehaviorEvent, ControlMessage, Recommendation>
            harness(int batchSize, Duration maxWait, Duration ttl) throws Exception {
        return harness(new RecommendOperator(config(batchSize, maxWait, ttl)));
    }

    static BehaviorEvent view(String user, String item, long ts) {
        return new BehaviorEvent(user, item, Action.VIEW, ts, null);
    }

    @Test
    void batchesUntilFullThenScoresAllInOneGo() throws Exception {
        try (var h = harness(3, Duration.ofSeconds(10), Duration.ofDays(1))) {
            h.processElement1(view("a", "1", T0), T0);
            h.processElement1(view("b", "2", T0 + 1), T0 + 1);
            assertTrue(h.extractOutputValues().isEmpty(), "first two events wait in the batch");
            assertEquals(1, h.getProcessingTimeService().getNumActiveTimers(), "one flush timer for the open batch");
            h.processElement1(view("c", "3", T0 + 2), T0 + 2);
            List<Recommendation> out = h.extractOutputValues();
            assertEquals(List.of("a", "b", "c"), out.stream().map(r -> r.userId).toList());
            for (Recommendation r : out) {
                assertEquals(10, r.items.length);
                assertEquals(TestModels.bootstrapVersionDir().getFileName().toString(), r.modelVersion);
            }
            assertEquals(T0 + 1, out.get(1).eventTs);
        }
    }

    @Test
    void flushesWhenTheOldestEventHasWaitedMaxWait() throws Exception {
        try (var h = harness(100, Duration.ofMillis(50), Duration.ofDays(1))) {
            h.setProcessingTime(1_000);
            h.processElement1(view("a", "1", T0), T0);
            h.setProcessingTime(1_049);
            assertTrue(h.extractOutputValues().isEmpty());
            h.setProcessingTime(1_050);
            assertEquals(1, h.extractOutputValues().size());
            assertEquals(1_050, h.extractOutputValues().get(0).emittedTs);
        }
    }

    @Test
    void flushesBeforeTheCheckpointBarrierSoNothingBufferedIsCheckpointed() throws Exception {
        try (var h = harness(100, Duration.ofSeconds(10), Duration.ofDays(1))) {
            h.processElement1(view("a", "1", T0), T0);
            h.processElement1(view("a", "2", T0 + 1), T0 + 1);
            assertTrue(h.extractOutputValues().isEmpty());
            h.prepareSnapshotPreBarrier(1L);
            assertEquals(2, h.extractOutputValues().size());
            h.snapshot(1L, 1L);
        }
    }

    @Test
    void flushesBeforeForwardingAWatermarkSoNoListFallsBehindIt() throws Exception {
        try (var h = harness(100, Duration.ofSeconds(10), Duration.ofDays(1))) {
            h.processElement1(view("a", "1", T0), T0);
            h.processElement1(view("b", "2", T0 + 1), T0 + 1);
            h.processWatermark2(new Watermark(Long.MAX_VALUE)); // the control input is idle
            assertTrue(h.extractOutputValues().isEmpty(), "no watermark yet on the events' input");
            h.processWatermark1(new Watermark(T0 + 1));
            List<Object> out = new ArrayList<>(h.getOutput());
            assertEquals(3, out.size(), out.toString());
            assertEquals("a", ((Recommendation) ((StreamRecord<?>) out.get(0)).getValue()).userId);
            assertEquals("b", ((Recommendation) ((StreamRecord<?>) out.get(1)).getValue()).userId);
            assertEquals(new Watermark(T0 + 1), out.get(2), "the watermark comes after the lists");
        }
    }

    @Test
    void flushesAtEndOfInput() throws Exception {
        RecommendOperator op = new RecommendOperator(config(100, Duration.ofSeconds(10), Duration.ofDays(1)));
        try (var h = harness(op)) {
            h.processElement1(view("a", "1", T0), T0);
            assertTrue(h.extractOutputValues().isEmpty());
            op.finish();
            assertEquals(1, h.extractOutputValues().size());
        }
    }

    @Test
    void keepsOnlyTheHistoryAndTheLastListPerUser() throws Exception {
        try (var h = harness(1, Duration.ofSeconds(10), Duration.ofDays(1))) {
            h.processElement1(view("a", "1", T0), T0);
            h.processElement1(view("b", "2", T0), T0);
            assertEquals(2 * 2, h.numKeyedStateEntries(), "history and last-shown of two users");
        }
    }

    @Test
    void keepsHistoryInStateAndNeverRecommendsWhatTheUserHasSeen() throws Exception {
        try (var h = harness(1, Duration.ofSeconds(10), Duration.ofDays(1))) {
            // the most popular items of the bootstrap catalogue: the ones a fresh list would hold
            String[] seen = popularIds(3);
            for (int i = 0; i < seen.length; i++) {
                h.processElement1(view("u", seen[i], T0 + i), T0 + i);
            }
            List<Recommendation> out = h.extractOutputValues();
            assertEquals(3, out.size());
            Recommendation last = out.get(2);
            for (ScoredItem s : last.items) {
                assertFalse(Arrays.asList(seen).contains(s.itemId), s.itemId + " was already seen");
            }
            for (int i = 1; i < last.items.length; i++) {
                assertTrue(last.items[i - 1].score >= last.items[i].score, "sorted by score");
            }
            assertEquals(2, h.numKeyedStateEntries(), "history and last list of one user");
        }
    }

    @Test
    void withExcludeSeenOffTheVersionsRepeatBoostBringsSeenItemsBackAndWithItOnItDoesNot(@TempDir Path tmp) throws Exception {
        // the bootstrap version with a boost that puts any seen item above every other one
        Path dir = tmp.resolve(TestModels.bootstrapVersionDir().getFileName());
        Files.createDirectories(dir);
        try (Stream<Path> files = Files.list(TestModels.bootstrapVersionDir())) {
            for (Path f : files.toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        ModelManifest m = ModelManifest.fromJson(Files.readAllBytes(dir.resolve(ModelArtifacts.MANIFEST)));
        Files.write(dir.resolve(ModelArtifacts.MANIFEST), new ModelManifest(m.version(), m.parent(), m.createdAt(),
                m.config(), m.trainingWindow(), m.metrics(), m.files(), new RepeatBoost(100, 1000)).toJson());
        String[] seen = popularIds(3);
        for (boolean excludeSeen : new boolean[] {false, true}) {
            Configuration c = new Configuration();
            c.set(ModelOptions.PATH, dir.toString());
            c.set(ModelOptions.DEVICE, ModelOptions.DeviceChoice.CPU);
            c.set(RecommendOptions.TOP_K, 10);
            c.set(RecommendOptions.BATCH_MAX_SIZE, 1);
            c.set(RecommendOptions.EXCLUDE_SEEN, excludeSeen);
            c.set(RecommendOptions.EXPLORE_SLOTS, 0);
            try (var h = harness(new RecommendOperator(RecommendConfig.from(c)))) {
                for (int i = 0; i < seen.length; i++) {
                    h.processElement1(view("u", seen[i], T0 + i), T0 + i);
                }
                Recommendation last = h.extractOutputValues().get(2);
                assertEquals(10, last.items.length);
                Set<String> top3 = Set.of(last.items[0].itemId, last.items[1].itemId, last.items[2].itemId);
                if (excludeSeen) {
                    for (ScoredItem s : last.items) {
                        assertFalse(Arrays.asList(seen).contains(s.itemId), s.itemId + " was already seen");
                    }
                } else {
                    assertEquals(Set.of(seen), top3);
                }
            }
        }
    }

    @Test
    void coldStartUsersGetPopularItems() throws Exception {
        try (var h = harness(1, Duration.ofSeconds(10), Duration.ofDays(1))) {
            h.processElement1(view("new-user", "item-the-model-never-saw", T0), T0);
            Recommendation r = h.extractOutputValues().get(0);
            ScoredItem[] popular;
            try (ServingModel m = ServingModel.load(TestModels.bootstrapVersionDir(), Device.cpu())) {
                popular = m.popular(10, Set.of("item-the-model-never-saw"));
            }
            assertArrayEquals(popular, r.items);
        }
    }

    @Test
    void stateOfInactiveUsersExpires() throws Exception {
        String[] popular = popularIds(3);
        try (var h = harness(1, Duration.ofSeconds(10), Duration.ofHours(1))) {
            h.setStateTtlProcessingTime(0);
            for (int i = 0; i < popular.length; i++) {
                h.processElement1(view("u", popular[i], T0 + i), T0 + i);
            }
            // within the TTL the history is there: the popular items seen are excluded
            h.setStateTtlProcessingTime(Duration.ofMinutes(59).toMillis());
            h.processElement1(view("u", "never-seen-1", T0 + 10), T0 + 10);
            Recommendation kept = h.extractOutputValues().get(3);
            for (ScoredItem s : kept.items) {
                assertFalse(Arrays.asList(popular).contains(s.itemId));
            }
            // two hours after the last write the history has expired: the user is cold again,
            // so the list is the plain popular list, seen items included
            h.setStateTtlProcessingTime(Duration.ofMinutes(59 + 120).toMillis());
            h.processElement1(view("u", "never-seen-2", T0 + 20), T0 + 20);
            Recommendation fresh = h.extractOutputValues().get(4);
            try (ServingModel m = ServingModel.load(TestModels.bootstrapVersionDir(), Device.cpu())) {
                assertArrayEquals(m.popular(10, Set.of("never-seen-2")), fresh.items);
            }
        }
    }

    @Test
    void aSnapshotOfThePreviousStateLayoutRestores() throws Exception {
        // up to 0.1.0 the operator also kept a "user-vector" (float[]) per user, never read;
        // a snapshot that has it restores into today's operator, with the history intact
        OperatorSubtaskState snapshot;
        RecommendOperator previous = new RecommendOperator(config(1, Duration.ofSeconds(10), Duration.ofDays(1)));
        try (var h = onRocksDb(previous, null)) {
            h.processElement1(view("u", "1", T0), T0);
            previous.setCurrentKey("u");
            previous.getKeyedStateStore()
                    .getState(new ValueStateDescriptor<>("user-vector", PrimitiveArrayTypeInfo.FLOAT_PRIMITIVE_ARRAY_TYPE_INFO))
                    .update(new float[] {0.6f, 0.8f});
            snapshot = h.snapshot(1L, 1L);
        }
        RecommendOperator next = new RecommendOperator(config(1, Duration.ofSeconds(10), Duration.ofDays(1)));
        try (var h = onRocksDb(next, snapshot)) {
            h.processElement1(view("u", "2", T0 + 1), T0 + 1);
            Feedback f = h.getSideOutput(RecommendOperator.FEEDBACK).peek().getValue();
            assertEquals(List.of("1"), Arrays.asList(f.historyItemIds), "the history before the act, restored");
            assertTrue(f.wasShown(), "the last list shown, restored");
        }
    }

    static BehaviorEvent search(String user, String query, long ts) {
        BehaviorEvent e = new BehaviorEvent(user, null, Action.SEARCH, ts, null);
        e.query = query;
        return e;
    }

    @Test
    void aQueryOnlySearchKeepsTheHistoryAddsTheQueryAndGetsAList() throws Exception {
        OperatorSubtaskState snapshot;
        RecommendOperator first = new RecommendOperator(config(1, Duration.ofSeconds(10), Duration.ofDays(1)));
        try (var h = onRocksDb(first, null)) {
            h.processElement1(view("u", "1", T0), T0);
            h.processElement1(search("u", "red shoes", T0 + 1), T0 + 1);
            assertEquals(2, h.extractOutputValues().size(), "a list for the search too");
            assertEquals(10, h.extractOutputValues().get(1).items.length);
            first.setCurrentKey("u");
            RecentQueries q = first.getKeyedStateStore()
                    .getState(new ValueStateDescriptor<>("recent-queries", RecentQueries.class)).value();
            assertEquals(List.of("red shoes"), Arrays.asList(q.queries));
            assertArrayEquals(new long[] {T0 + 1}, q.ts);
            snapshot = h.snapshot(1L, 1L);
        }
        RecommendOperator next = new RecommendOperator(config(1, Duration.ofSeconds(10), Duration.ofDays(1)));
        try (var h = onRocksDb(next, snapshot)) {
            h.processElement1(view("u", "2", T0 + 2), T0 + 2);
            Feedback f = h.getSideOutput(RecommendOperator.FEEDBACK).peek().getValue();
            assertEquals(List.of("1"), Arrays.asList(f.historyItemIds), "the search added no item to the history");
            next.setCurrentKey("u");
            assertEquals(1, next.getKeyedStateStore()
                    .getState(new ValueStateDescriptor<>("recent-queries", RecentQueries.class)).value().size(),
                    "the queries, restored");
        }
    }

    @Test
    void aModelWithTextServesTheQueriesOfAUserWithoutHistory(@TempDir Path root) throws Exception {
        Path dir = TestModels.textVersion(root, "v-text");
        Configuration c = options(1, Duration.ofSeconds(10), Duration.ofDays(1));
        c.set(ModelOptions.PATH, dir.toString());
        try (var h = harness(new RecommendOperator(RecommendConfig.from(c)))) {
            h.processElement1(search("a", "红色 连衣裙", T0), T0);
            h.processElement1(search("b", "garden hose", T0), T0);
            h.processElement1(view("c", "never-seen", T0), T0);
            List<Recommendation> out = h.extractOutputValues();
            try (ServingModel m = ServingModel.load(dir, Device.cpu())) {
                assertArrayEquals(m.popular(10, Set.of("never-seen")), out.get(2).items, "no history, no query: popular");
                assertFalse(Arrays.equals(m.popular(10, Set.of()), out.get(0).items), "a query alone: the towers' list");
            }
            assertFalse(Arrays.equals(out.get(0).items, out.get(1).items), "different queries, different lists");
            // a's next act: its feedback carries a's queries, so retraining learns from them too
            h.processElement1(view("a", "3", T0 + 1), T0 + 1);
            Feedback f = null;
            for (var r : h.getSideOutput(RecommendOperator.FEEDBACK)) {
                f = r.getValue();
            }
            assertEquals("3", f.itemId);
            assertArrayEquals(new String[] {"红色 连衣裙"}, f.queryTexts);
            assertArrayEquals(new long[] {T0}, f.queryTs);
        }
    }

    /** An open harness on RocksDB, restored from {@code snapshot} when given. */
    private static KeyedTwoInputStreamOperatorTestHarness<String, BehaviorEvent, ControlMessage, Recommendation>
            onRocksDb(RecommendOperator operator, OperatorSubtaskState snapshot) throws Exception {
        var h = unopened(operator);
        h.setStateBackend(new EmbeddedRocksDBStateBackend());
        if (snapshot != null) {
            h.initializeState(snapshot);
        }
        h.open();
        return h;
    }

    static KeyedTwoInputStreamOperatorTestHarness<String, BehaviorEvent, ControlMessage, Recommendation>
            unopened(RecommendOperator operator) throws Exception {
        return new KeyedTwoInputStreamOperatorTestHarness<>(operator, e -> e.userId, m -> "control", Types.STRING);
    }

    static String[] popularIds(int n) throws Exception {
        try (ServingModel m = ServingModel.load(TestModels.bootstrapVersionDir(), Device.cpu())) {
            return Arrays.stream(m.popular(n, Set.of())).map(s -> s.itemId).toArray(String[]::new);
        }
    }
}
