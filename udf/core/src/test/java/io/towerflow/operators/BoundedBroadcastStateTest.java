package io.towerflow.operators;

import static io.towerflow.operators.RecommendOperatorControlTest.advanceUntil;
import static io.towerflow.operators.RecommendOperatorControlTest.configAllowing;
import static io.towerflow.operators.RecommendOperatorTest.harness;
import static io.towerflow.operators.RecommendOperatorTest.view;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.config.ModelUpdateOptions;
import io.towerflow.model.ModelArtifacts;
import io.towerflow.model.TestModels;
import io.towerflow.records.CatalogueItem;
import io.towerflow.records.ControlMessage;
import io.towerflow.records.ModelUpdate;

import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Broadcast state and per-version metrics stay bounded however long the job runs: over 100 model
 * swaps and 100,000 catalogue changes (500 items, each changed 200 times) the model-updates state
 * holds the kept few, the catalogue one entry per item, hit-rate metrics the newest few versions,
 * and the snapshot does not grow.
 */
class BoundedBroadcastStateTest {
    private static final long T0 = 1_764_547_200_000L;
    private static final int SWAPS = 100;
    private static final int CATALOGUE_CHANGES = 100_000;
    private static final int ITEMS = 500;

    @TempDir Path store;

    @Test
    void stateAndMetricsStayBoundedOver100SwapsAnd100kCatalogueChanges() throws Exception {
        ModelUpdate shared = TestModels.copyOfBootstrap(store, "shared");
        Path sharedDir = ModelLoader.pathOf(shared.uri);
        int kept = ModelUpdateOptions.KEPT_UPDATES.defaultValue();
        SplittableRandom random = new SplittableRandom(7);
        RecommendOperator op = new RecommendOperator(configAllowing(store));
        long snapshotAt20 = 0;
        long t0 = System.nanoTime();
        try (var h = harness(op)) {
            long ts = T0;
            for (int swap = 1; swap <= SWAPS; swap++) {
                ModelUpdate u = linkedVersion(sharedDir, String.format("v20991231-%03d", swap));
                h.processElement2(ControlMessage.of(u), ts);
                for (int c = 0; c < CATALOGUE_CHANGES / SWAPS; c++) {
                    String item = "item-" + random.nextInt(ITEMS);
                    h.processElement2(ControlMessage.of(new CatalogueItem(item, "7", random.nextInt(4) != 0)), ts);
                }
                advanceUntil(h, () -> op.servingVersion().equals(u.version));
                // the act judges the list the previous version showed: one hit-rate group per version
                h.processElement1(view("u", "item-" + swap, ts), ts);
                ts++;
                int[] sizes = op.retainedSizes();
                assertTrue(sizes[0] <= kept, "model updates kept after swap " + swap + ": " + sizes[0]);
                assertTrue(sizes[2] <= kept + 1, "versions with hit-rate metrics after swap " + swap + ": " + sizes[2]);
                if (swap == 20) {
                    snapshotAt20 = size(h.snapshot(swap, ts));
                }
            }
            int[] sizes = op.retainedSizes();
            long snapshotAt100 = size(h.snapshot(SWAPS + 1, ts));
            System.out.printf("after %d swaps and %,d catalogue changes in %.1f s: %s (updates, catalogue entries, "
                            + "hit-rate versions); snapshot %,d bytes at swap 20, %,d at swap 100%n",
                    SWAPS, CATALOGUE_CHANGES, (System.nanoTime() - t0) / 1e9, Arrays.toString(sizes),
                    snapshotAt20, snapshotAt100);
            assertEquals(kept, sizes[0], "the highest versions only");
            assertEquals(ITEMS, sizes[1], "one catalogue entry per item, whatever the number of changes");
            assertTrue(snapshotAt100 <= snapshotAt20 * 1.05 + 1024,
                    "snapshot grew from " + snapshotAt20 + " to " + snapshotAt100 + " bytes");
        }
    }

    /**
     * A version directory whose manifest names {@code version} and whose parameters and items are
     * links to the shared copy's (inside the store, so allowed): 100 versions without 100 copies.
     */
    private Path linkedVersionDir(Path sharedDir, String version) throws Exception {
        Path dir = Files.createDirectories(store.resolve(version));
        for (String name : List.of(ModelArtifacts.PARAMETERS, ModelArtifacts.ITEMS)) {
            Files.createSymbolicLink(dir.resolve(name), sharedDir.resolve(name));
        }
        String json = Files.readString(sharedDir.resolve(ModelArtifacts.MANIFEST));
        Files.writeString(dir.resolve(ModelArtifacts.MANIFEST),
                json.replace("\"version\" : \"shared\"", "\"version\" : \"" + version + "\""));
        return dir;
    }

    private ModelUpdate linkedVersion(Path sharedDir, String version) throws Exception {
        Path dir = linkedVersionDir(sharedDir, version);
        return new ModelUpdate(version, dir.toUri().toString(),
                ModelArtifacts.sha256(dir.resolve(ModelArtifacts.MANIFEST)));
    }

    private static long size(OperatorSubtaskState s) {
        return s.getStateSize();
    }
}
