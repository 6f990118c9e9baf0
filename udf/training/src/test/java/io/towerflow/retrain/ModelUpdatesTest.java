package io.towerflow.retrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.config.ModelUpdateOptions;
import io.towerflow.model.TestModels;
import io.towerflow.operators.ModelStore;
import io.towerflow.records.ModelUpdate;

import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

/** RetrainJob's view of what the job serves: with the job's allowed roots, what the job would take. */
class ModelUpdatesTest {
    @TempDir Path store;
    @TempDir Path elsewhere;

    @Test
    void withAllowedRootsAVersionOutsideThemIsNotWhatServes() throws Exception {
        ModelUpdate inside = TestModels.copyOfBootstrap(store, "v20991230-inside");
        ModelUpdate outside = TestModels.copyOfBootstrap(elsewhere, "v20991231-outside");
        List<ModelUpdates.Published> published =
                List.of(new ModelUpdates.Published(inside, "t-0@0"), new ModelUpdates.Published(outside, "t-0@1"));
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        ProgressLog log = new ProgressLog(new PrintStream(new ByteArrayOutputStream()), new PrintStream(err), Clock.systemUTC());

        assertEquals(outside.version, ModelUpdates.highestValid(published, null, log).orElseThrow().update().version,
                "without roots, as before: the highest that verifies");

        Configuration conf = new Configuration();
        assertNull(RetrainRound.store(conf));
        conf.set(ModelUpdateOptions.ALLOWED_ROOTS, List.of(store.toString()));
        ModelStore confined = RetrainRound.store(conf);
        assertEquals(inside.version, ModelUpdates.highestValid(published, confined, log).orElseThrow().update().version);
        String said = err.toString(StandardCharsets.UTF_8);
        assertTrue(said.contains("v20991231-outside") && said.contains("outside the allowed roots"), said);
    }
}
