package io.towerflow.operators;

import static io.towerflow.operators.RecommendOperatorControlTest.advanceUntil;
import static io.towerflow.operators.RecommendOperatorTest.harness;
import static io.towerflow.operators.RecommendOperatorTest.options;
import static io.towerflow.operators.RecommendOperatorTest.view;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.config.ModelUpdateOptions;
import io.towerflow.model.ModelArtifacts;
import io.towerflow.model.ModelManifest;
import io.towerflow.model.RefusedModelException.Reason;
import io.towerflow.model.RefusedModelException;
import io.towerflow.model.TestModels;
import io.towerflow.records.ControlMessage;
import io.towerflow.records.ModelUpdate;
import io.towerflow.records.Recommendation;

import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Bad model versions on model-updates, end to end through the recommend operator: each is refused
 * with its reason (metric and log line), the serving version keeps serving, and a good version
 * after them is still swapped in.
 */
class ModelRefusalTest {
    private static final long T0 = 1_764_547_200_000L;
    private static final String SECRET = "model-signing-secret-for-tests";

    @TempDir Path store;
    @TempDir Path elsewhere;

    /** A bad version and the reason it must be refused for. */
    private record Bad(ModelUpdate update, Reason reason, String says) {}

    @Test
    void everyKindOfBadVersionIsRefusedWithItsReasonWhileTheOldOneServes() throws Exception {
        List<Bad> bad = List.of(
                new Bad(corruptParameters("v20991231-a-corrupt"), Reason.INVALID, "does not fit its manifest"),
                new Bad(checksumMismatch("v20991231-b-checksum"), Reason.CHECKSUM, "sha256 mismatch for twotower.params"),
                new Bad(wrongDimensions("v20991231-c-dims"), Reason.INVALID, "does not fit its manifest"),
                new Bad(missingManifest("v20991231-d-nomanifest"), Reason.MISSING_MANIFEST, "no manifest.json"),
                new Bad(new ModelUpdate("v20991231-e-unreachable", store.resolve("gone").toUri().toString(), "0".repeat(64)),
                        Reason.UNREACHABLE, "unreachable"),
                new Bad(TestModels.copyOfBootstrap(elsewhere, "v20991231-f-outside"), Reason.OUTSIDE_ROOTS, "outside the allowed roots"),
                new Bad(symlinkOut("v20991231-g-symlink"), Reason.OUTSIDE_ROOTS, "outside the allowed roots"),
                new Bad(dotDot("v20991231-h-dotdot"), Reason.BAD_URI, "'..'"),
                new Bad(new ModelUpdate("v20991231-i-http", "http://models.example/v1", "0".repeat(64)),
                        Reason.BAD_URI, "scheme http"));
        ModelUpdate good = TestModels.copyOfBootstrap(store, "v20991231-z-good");

        RecommendOperator op = new RecommendOperator(RecommendConfig.from(storeOptions(null)));
        try (var h = harness(op)) {
            String serving = op.servingVersion();
            long ts = T0;
            for (Bad b : bad) {
                h.processElement2(ControlMessage.of(b.update()), ts);
                advanceUntil(h, () -> op.lastRefusal() != null && op.lastRefusal().startsWith(b.update().version));
                String why = op.lastRefusal();
                assertTrue(why.contains(b.reason().label()) && why.contains(b.says()), b.update().version + ": " + why);
                assertEquals(1, op.refusals(b.reason().label()) - priorOf(bad, b), why);
                assertEquals(serving, op.servingVersion(), "the old version serves after " + why);
                h.processElement1(view("u", "1", ts), ts);
                ts++;
            }
            for (Recommendation r : h.extractOutputValues()) {
                assertEquals(serving, r.modelVersion);
                assertEquals(10, r.items.length);
            }
            h.processElement2(ControlMessage.of(good), ts);
            advanceUntil(h, () -> op.servingVersion().equals(good.version));
        }
    }

    @Test
    void withASigningSecretOnlyVersionsWithAValidSignatureServe() throws Exception {
        ModelUpdate unsigned = TestModels.copyOfBootstrap(store, "v20991231-a-unsigned");
        ModelUpdate forged = TestModels.copyOfBootstrap(store, "v20991231-b-forged");
        ModelStore.sign(ModelLoader.pathOf(forged.uri), "another-key");
        ModelUpdate signed = TestModels.copyOfBootstrap(store, "v20991231-c-signed");
        ModelStore.sign(ModelLoader.pathOf(signed.uri), SECRET);

        RecommendOperator op = new RecommendOperator(RecommendConfig.from(storeOptions(SECRET)));
        try (var h = harness(op)) {
            String serving = op.servingVersion();
            for (ModelUpdate u : List.of(unsigned, forged)) {
                h.processElement2(ControlMessage.of(u), T0);
                advanceUntil(h, () -> op.lastRefusal() != null && op.lastRefusal().startsWith(u.version));
                assertTrue(op.lastRefusal().contains("signature"), op.lastRefusal());
                assertEquals(serving, op.servingVersion());
            }
            assertEquals(2, op.refusals(Reason.SIGNATURE.label()));
            h.processElement2(ControlMessage.of(signed), T0);
            advanceUntil(h, () -> op.servingVersion().equals(signed.version));
        }
    }

    /** Refusals of the same reason before {@code b} in the list. */
    private static long priorOf(List<Bad> all, Bad b) {
        return all.subList(0, all.indexOf(b)).stream().filter(x -> x.reason() == b.reason()).count();
    }

    private Configuration storeOptions(String secret) {
        Configuration c = options(1, Duration.ofSeconds(1), Duration.ofDays(1));
        c.set(ModelUpdateOptions.ALLOWED_ROOTS, List.of(store.toString(), TestModels.bootstrapVersionDir().getParent().toString()));
        if (secret != null) {
            c.set(ModelUpdateOptions.SIGNING_SECRET, secret);
        }
        return c;
    }

    /** Garbage parameters with a manifest (and update) that vouch for them. */
    private ModelUpdate corruptParameters(String version) throws Exception {
        ModelUpdate u = TestModels.copyOfBootstrap(store, version);
        Path dir = ModelLoader.pathOf(u.uri);
        Files.write(dir.resolve(ModelArtifacts.PARAMETERS), new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        return reseal(u);
    }

    /** One byte of the parameters changed; the manifest still names the old bytes. */
    private ModelUpdate checksumMismatch(String version) throws Exception {
        ModelUpdate u = TestModels.copyOfBootstrap(store, version);
        Path params = ModelLoader.pathOf(u.uri).resolve(ModelArtifacts.PARAMETERS);
        byte[] b = Files.readAllBytes(params);
        b[b.length / 2] ^= 0x5a;
        Files.write(params, b);
        return u;
    }

    /** A manifest whose configuration has another dimension than its parameters. */
    private ModelUpdate wrongDimensions(String version) throws Exception {
        ModelUpdate u = TestModels.copyOfBootstrap(store, version);
        Path manifest = ModelLoader.pathOf(u.uri).resolve(ModelArtifacts.MANIFEST);
        String json = Files.readString(manifest);
        assertTrue(json.contains("\"dim\" : 64"));
        Files.writeString(manifest, json.replace("\"dim\" : 64", "\"dim\" : 48"));
        return reseal(u);
    }

    private ModelUpdate missingManifest(String version) throws Exception {
        ModelUpdate u = TestModels.copyOfBootstrap(store, version);
        Files.delete(ModelLoader.pathOf(u.uri).resolve(ModelArtifacts.MANIFEST));
        return u;
    }

    /** A version directory in the store whose parameters are a link to a file outside it. */
    private ModelUpdate symlinkOut(String version) throws Exception {
        ModelUpdate u = TestModels.copyOfBootstrap(store, version);
        Path params = ModelLoader.pathOf(u.uri).resolve(ModelArtifacts.PARAMETERS);
        Path outside = elsewhere.resolve("params-" + version);
        Files.move(params, outside);
        Files.createSymbolicLink(params, outside);
        return u;
    }

    /** A path that starts in the store and climbs out of it. */
    private ModelUpdate dotDot(String version) throws Exception {
        ModelUpdate out = TestModels.copyOfBootstrap(elsewhere, version);
        Path climbing = store.resolve("..").resolve(store.relativize(ModelLoader.pathOf(out.uri)));
        return new ModelUpdate(version, climbing.toString(), out.sha256);
    }

    /** Recomputes every file's sha256 in the manifest and the update's sha256 of the manifest. */
    private static ModelUpdate reseal(ModelUpdate u) throws Exception {
        Path dir = ModelLoader.pathOf(u.uri);
        Path manifest = dir.resolve(ModelArtifacts.MANIFEST);
        ModelManifest m = ModelManifest.fromJson(Files.readAllBytes(manifest));
        Map<String, String> files = new TreeMap<>();
        for (String name : m.files().keySet()) {
            files.put(name, ModelArtifacts.sha256(dir.resolve(name)));
        }
        Files.write(manifest, m.withFiles(files).toJson());
        return new ModelUpdate(u.version, u.uri, ModelArtifacts.sha256(manifest));
    }

    @Test
    void theDefaultRootIsTheDirectoryOfTheInitialModel() throws Exception {
        RecommendConfig c = RecommendConfig.from(options(1, Duration.ofSeconds(1), Duration.ofDays(1)));
        assertEquals(List.of(TestModels.bootstrapVersionDir().toAbsolutePath().getParent().toString()), c.modelStore.roots());
        ModelUpdate outside = TestModels.copyOfBootstrap(store, "v20991231-x");
        RefusedModelException e = org.junit.jupiter.api.Assertions.assertThrows(RefusedModelException.class,
                () -> c.modelStore.verify(outside));
        assertEquals(Reason.OUTSIDE_ROOTS, e.reason());
        // the bootstrap itself, named by a relative path, resolves against the root
        ModelUpdate self = new ModelUpdate("v", TestModels.bootstrapVersionDir().getFileName().toString(),
                ModelArtifacts.sha256(TestModels.bootstrapVersionDir().resolve(ModelArtifacts.MANIFEST)));
        assertEquals(TestModels.bootstrapVersionDir().toRealPath(), c.modelStore.verify(self));
    }
}
