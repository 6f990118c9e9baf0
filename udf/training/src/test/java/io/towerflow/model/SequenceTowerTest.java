package io.towerflow.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.records.Action;
import io.towerflow.records.BehaviorEvent;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** The sequence user tower: shapes, causality, persistence, and that it reads order. */
class SequenceTowerTest {
    @TempDir Path root;

    private static ModelConfig sequenceConfig() {
        return ModelConfig.defaults().withBuckets(4096, 64, 1024).withEmbeddingDim(16).withHidden(32).withDim(16)
                .withHistoryLength(8).withSequenceTower(new SequenceTowerConfig(2, 2, 0.1));
    }

    private static UserBatch batch(ModelConfig c, int... historyLengths) {
        UserBatch b = new UserBatch(historyLengths.length, c.historyLength());
        for (int u = 0; u < historyLengths.length; u++) {
            int n = historyLengths[u];
            String[] items = new String[n];
            String[] cats = new String[n];
            byte[] actions = new byte[n];
            long[] ts = new long[n];
            for (int i = 0; i < n; i++) {
                items[i] = "i" + (u * 7 + i);
                actions[i] = Action.PURCHASE.code();
                ts[i] = 1_000L * i;
            }
            b.addUser(c, "u" + u, items, cats, actions, ts);
        }
        return b;
    }

    @Test
    void userVectorsHaveTheOutputShapeForEveryHistoryLength() {
        ModelConfig c = sequenceConfig();
        try (TwoTowerModel m = TwoTowerModel.create(c, Device.cpu(), 1);
                NDManager nd = m.getNDManager().newSubManager()) {
            NDArray u = m.userVectors(nd, batch(c, 0, 1, 3, 8, 30));
            assertEquals(new Shape(5, c.dim()), u.getShape());
            float[] norms = u.norm(new int[] {1}).toFloatArray();
            for (float n : norms) {
                assertEquals(1f, n, 1e-4f);
            }
            NDArray items = m.itemVectors(nd, new int[] {1, 2, 3}, new int[] {0, 0, 0});
            assertEquals(new Shape(3, c.dim()), items.getShape());
        }
    }

    @Test
    void aLaterItemNeverChangesAnEarlierPosition() {
        ModelConfig c = sequenceConfig();
        int n = c.historyLength();
        int e = c.embeddingDim();
        try (TwoTowerModel m = TwoTowerModel.create(c, Device.cpu(), 2);
                NDManager nd = m.getNDManager().newSubManager()) {
            SequenceEncoder enc = ((TwoTowerBlock) m.block()).sequence;
            ParameterStore ps = new ParameterStore(nd, false);
            Random r = new Random(3);
            float[] x = new float[2 * n * e];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian();
            }
            // user 0: every position real; user 1: the first 3 positions are padding
            float[] valid = new float[2 * n];
            Arrays.fill(valid, 1f);
            Arrays.fill(valid, n, n + 3, 0f);
            float[] before = enc.encode(ps, nd.create(x, new Shape(2, n, e)), nd.create(valid, new Shape(2, n)), false)
                    .toFloatArray();
            for (int changed = 3; changed < n; changed++) {
                float[] y = x.clone();
                for (int u = 0; u < 2; u++) {
                    for (int k = 0; k < e; k++) {
                        y[(u * n + changed) * e + k] += 1f + k;
                    }
                }
                float[] after = enc.encode(ps, nd.create(y, new Shape(2, n, e)), nd.create(valid, new Shape(2, n)), false)
                        .toFloatArray();
                for (int u = 0; u < 2; u++) {
                    int earlier = (u * n + changed) * e;
                    assertArrayEquals(Arrays.copyOfRange(before, u * n * e, earlier),
                            Arrays.copyOfRange(after, u * n * e, earlier),
                            "user " + u + ": positions before " + changed + " must not see it");
                    assertFalse(Arrays.equals(Arrays.copyOfRange(before, earlier, earlier + e),
                            Arrays.copyOfRange(after, earlier, earlier + e)), "position " + changed + " sees itself");
                }
            }
            // what sits in a padded slot never reaches a real position
            float[] y = x.clone();
            for (int k = 0; k < e; k++) {
                y[(n + 1) * e + k] += 5f;
            }
            float[] after = enc.encode(ps, nd.create(y, new Shape(2, n, e)), nd.create(valid, new Shape(2, n)), false)
                    .toFloatArray();
            assertArrayEquals(Arrays.copyOfRange(before, (n + 3) * e, 2 * n * e),
                    Arrays.copyOfRange(after, (n + 3) * e, 2 * n * e));
        }
    }

    @Test
    void savedAndLoadedParametersGiveBitExactVectors() throws Exception {
        ModelConfig c = sequenceConfig();
        ByteArrayOutputStream saved = new ByteArrayOutputStream();
        float[] expected;
        try (TwoTowerModel m = TwoTowerModel.create(c, Device.cpu(), 4);
                NDManager nd = m.getNDManager().newSubManager()) {
            m.saveParameters(saved);
            expected = m.userVectors(nd, batch(c, 0, 2, 8, 12)).toFloatArray();
        }
        ByteArrayOutputStream again = new ByteArrayOutputStream();
        try (TwoTowerModel m = TwoTowerModel.load(c, new ByteArrayInputStream(saved.toByteArray()), Device.cpu());
                NDManager nd = m.getNDManager().newSubManager()) {
            assertArrayEquals(expected, m.userVectors(nd, batch(c, 0, 2, 8, 12)).toFloatArray());
            m.saveParameters(again);
        }
        assertArrayEquals(saved.toByteArray(), again.toByteArray());
    }

    @Test
    void theKindIsInTheManifestAndOldManifestsArePooled() throws Exception {
        ModelConfig c = sequenceConfig();
        TrainingExamples train = TrainingExamples.fromEvents(events(orderPatternUsers(2, 10, 0), 0), c.historyLength());
        Path dir;
        try (TwoTowerModel m = TwoTowerModel.create(c, Device.cpu(), 5)) {
            dir = PlantedModels.write(root, "seq", null, m, train);
        }
        String json = Files.readString(dir.resolve(ModelArtifacts.MANIFEST));
        assertTrue(json.contains("\"userTower\" : \"sequence\""), json);
        try (ServingModel s = ServingModel.load(dir, Device.cpu())) {
            assertEquals(c, ModelArtifacts.load(dir).manifest().config());
            assertEquals(1, s.recommend(List.of(train.query(3, java.util.Set.of())), 5).size());
        }
        // the manifest of the bootstrap shipped from 2026-11-23 to 2026-12-07, written before the kind existed
        String old;
        try (java.io.InputStream in = SequenceTowerTest.class.getResourceAsStream("manifest-before-user-tower.json")) {
            old = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertFalse(old.contains("userTower"));
        ModelConfig oldConfig = ModelManifest.fromJson(old.getBytes(StandardCharsets.UTF_8)).config();
        assertEquals(ModelConfig.POOLED, oldConfig.userTower());
        assertNull(oldConfig.sequence());
    }

    // ------------------------------------------------------------ the planted order pattern

    /**
     * Groups of four items (a, b, c, d): a user acts a then b and next c, or b then a and next d.
     * Both kinds of user have the same set of items before the last act, so only order tells c
     * from d. Returns [user][event] = item index.
     */
    private static List<int[]> orderPatternUsers(int groups, int usersPerPattern, long seed) {
        Random r = new Random(seed);
        List<int[]> users = new ArrayList<>();
        for (int u = 0; u < 2 * groups * usersPerPattern; u++) {
            int g = r.nextInt(groups);
            boolean ab = r.nextBoolean();
            int a = 4 * g;
            int b = a + 1;
            users.add(ab ? new int[] {a, b, a + 2} : new int[] {b, a, a + 3});
        }
        return users;
    }

    /** The users as events; every act at the same instant, so recency weights cannot tell order. */
    private static List<BehaviorEvent> events(List<int[]> users, int firstUser) {
        List<BehaviorEvent> out = new ArrayList<>();
        for (int u = 0; u < users.size(); u++) {
            for (int item : users.get(u)) {
                out.add(new BehaviorEvent("u" + (firstUser + u), "i" + item, Action.PURCHASE, 1_700_000_000_000L, "c"));
            }
        }
        return out;
    }

    /** HR@1 on the test users' last act after training a tower of {@code config} on the order pattern. */
    private static double orderPatternHitRate(ModelConfig config) {
        List<BehaviorEvent> all = new ArrayList<>(events(orderPatternUsers(12, 60, 7), 0));
        List<int[]> test = orderPatternUsers(12, 10, 8);
        all.addAll(events(test, 100_000));
        TrainingExamples examples = TrainingExamples.fromEvents(all, config.historyLength());
        TrainingExamples.Split split = examples.splitLastPerUser(1, u -> examples.userIds[u].length() > 6);
        try (TwoTowerModel m = TwoTowerModel.create(config, Device.cpu(), 9)) {
            new TwoTowerTrainer(m, TrainingRecipe.DEFAULT.trainerOptions().withUniformNegatives(0).withBatchSize(64).withEpochs(6).withSeed(9)
                    .withLearningRates(0.01f, 0.05f)).fit(split.train());
            try (ServingModel s = ServingModel.ofUnsaved("t", m, split.train().catalogue())) {
                TrainingExamples held = split.heldOut();
                List<Evaluation.HeldOut> pairs = new ArrayList<>();
                for (int i = 0; i < held.size(); i++) {
                    java.util.Set<String> seen = java.util.Set.copyOf(Arrays.asList(held.example(i).historyItemIds()));
                    pairs.add(new Evaluation.HeldOut(held.query(i, seen), held.targetItemId(i)));
                }
                return Evaluation.hitRates(s, pairs, 1).model();
            }
        }
    }

    @Test
    void theSequenceTowerLearnsAnOrderPatternThatThePooledTowerCannot() {
        // one user bucket (no per-user memory), no short-term channel, equal timestamps: the pooled
        // tower sees the same input for "a then b" and "b then a"
        ModelConfig pooled = ModelConfig.defaults().withBuckets(4096, 64, 1).withEmbeddingDim(16).withHidden(32)
                .withDim(16).withHistoryLength(4).withRecentHalfLifeEvents(0);
        ModelConfig sequence = pooled.withSequenceTower(new SequenceTowerConfig(1, 1, 0.0));
        double seq = orderPatternHitRate(sequence);
        double pool = orderPatternHitRate(pooled);
        assertTrue(seq >= 0.9, "sequence tower HR@1 " + seq);
        assertTrue(pool <= 0.65, "pooled tower HR@1 " + pool);
        assertTrue(seq - pool >= 0.3, "sequence " + seq + " vs pooled " + pool);
    }

    @Test
    void sameSeedSameSequenceModel() throws Exception {
        ModelConfig c = sequenceConfig();
        TrainingExamples train = TrainingExamples.fromEvents(events(orderPatternUsers(4, 20, 1), 0), c.historyLength());
        byte[][] params = new byte[2][];
        for (int run = 0; run < 2; run++) {
            try (TwoTowerModel m = TwoTowerModel.create(c, Device.cpu(), 6)) {
                new TwoTowerTrainer(m, PlantedModels.options(1).withBatchSize(32).withUniformNegatives(8)).fit(train);
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                m.saveParameters(out);
                params[run] = out.toByteArray();
            }
        }
        assertArrayEquals(params[0], params[1], "dropout and negatives follow the seed");
    }
}
