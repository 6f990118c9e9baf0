package io.towerflow.retrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.config.KafkaOptions;
import io.towerflow.config.RetrainOptions;
import io.towerflow.model.ModelManifest;
import io.towerflow.model.TrainingRecipe;
import io.towerflow.model.TwoTowerTrainer;

import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Map;

/** The command line of RetrainJob, without a broker. */
class RetrainJobTest {

    @Test
    void shortFlagsAndFullKeysSetTheOptions() {
        RetrainJob.Invocation inv = RetrainJob.parse(new String[] {
            "--bootstrap-servers", "k:9092", "--margin", "0.01", "--from-offsets", "earliest",
            "--every", "30 min", "--towerflow.retrain.held-out-fraction", "0.1", "--dry-run",
            "--summary-json", "s.json", "--from-ts", "2025-12-01T00:00:00Z", "--to-ts", "1764600000000"});
        assertEquals("k:9092", inv.conf().get(KafkaOptions.BOOTSTRAP_SERVERS));
        assertEquals(0.01, inv.conf().get(RetrainOptions.MARGIN));
        assertEquals(RetrainOptions.FromOffsets.EARLIEST, inv.conf().get(RetrainOptions.FROM_OFFSETS));
        assertEquals(Duration.ofMinutes(30), inv.conf().get(RetrainOptions.EVERY));
        assertEquals(0.1, inv.conf().get(RetrainOptions.HELD_OUT_FRACTION));
        assertTrue(inv.conf().get(RetrainOptions.DRY_RUN));
        assertEquals(Paths.get("s.json"), inv.summaryJson());
        FeedbackWindow.Bounds b = RetrainRound.bounds(inv.conf());
        assertEquals(1_764_547_200_000L, b.fromTs());
        assertEquals(1_764_600_000_000L, b.toTs());
        assertEquals("rec-feedback", inv.conf().get(KafkaOptions.FEEDBACK_TOPIC));
        assertEquals("model-updates", inv.conf().get(KafkaOptions.MODEL_UPDATES_TOPIC));
    }

    /** No flags: the warm start of the one recipe, with the values RetrainJob has always run with. */
    @Test
    void theRecipeFlagsDefaultToTheWarmStartOfTheOneRecipe() {
        TrainingRecipe warm = RetrainOptions.recipe(RetrainJob.parse(new String[] {"--bootstrap-servers", "k:1"}).conf());
        assertEquals(TrainingRecipe.DEFAULT.forWarmStart(), warm);
        assertEquals(256, warm.batchSize());
        assertEquals(1, warm.epochs());
        assertEquals(2e-4f, warm.learningRate());
        assertEquals(2e-3f, warm.embeddingLearningRate());
        assertEquals(TrainingRecipe.DEFAULT.uniformNegatives(), warm.uniformNegatives());
        assertEquals(0, warm.validationUsers());

        TrainingRecipe given = RetrainOptions.recipe(RetrainJob.parse(new String[] {"--bootstrap-servers", "k:1",
            "--towerflow.retrain.epochs", "5", "--epochs", "3", "--learning-rate", "1e-3", "--logq", "counts",
            "--schedule", "COSINE", "--uniform-negatives", "0"}).conf());
        assertEquals(3, given.epochs(), "a flag wins over the same option by key");
        assertEquals(1e-3f, given.learningRate());
        assertEquals(TwoTowerTrainer.LogQ.COUNTS, given.logQ());
        assertEquals(TwoTowerTrainer.Schedule.COSINE, given.schedule());
        assertEquals(0, given.uniformNegatives());
        assertEquals(warm.batchSize(), given.batchSize());
    }

    @Test
    void badUsageExitsWith2AndSaysWhy() {
        assertUsage("Unknown option: '--frobnicate'", "--bootstrap-servers", "k:1", "--frobnicate", "1");
        assertUsage("--bootstrap-servers is required", "--margin", "0");
        assertUsage("Missing required parameter for option '--margin'", "--bootstrap-servers", "k:1", "--margin");
        assertUsage("--held-out-fraction must be in (0, 1)", "--bootstrap-servers", "k:1", "--held-out-fraction", "1");
        assertUsage("from-ts must be before to-ts", "--bootstrap-servers", "k:1", "--from-ts", "5", "--to-ts", "5");
        assertUsage("must be epoch ms or an ISO-8601 instant", "--bootstrap-servers", "k:1", "--from-ts", "yesterday");
        assertUsage("", "--bootstrap-servers", "k:1", "--margin", "lots");
        assertUsage("give one of --publish and --rollback-to", "--bootstrap-servers", "k:1", "--publish", "a",
                "--rollback-to", "b");
        assertUsage("", "--bootstrap-servers", "k:1", "--epochs", "0");
        assertUsage("batch size must be >= 2", "--bootstrap-servers", "k:1", "--batch-size", "1");
    }

    private static void assertUsage(String message, String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = RetrainJob.run(args, new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        String text = err.toString(StandardCharsets.UTF_8);
        assertEquals(2, rc, text);
        assertTrue(text.contains(message) && text.contains("Usage: retrain"), text);
    }

    @Test
    void aRoundWithNothingToTrainHasNullHitRatesInItsSummary() {
        RetrainRound.Result r = new RetrainRound.Result("v1", null, false, false, false, "not retrained: only 3",
                new RetrainRound.Records(3, 0, 0, 0), new ModelManifest.TrainingWindow(1, 2, 3), 0, 0, 20,
                Double.NaN, Double.NaN, 0.0, 0, null, null, Map.of());
        ObjectNode s = RetrainJob.summary(r);
        assertTrue(s.get("heldOut").get("current").get("HR@20").isNull());
        assertTrue(s.get("candidateVersion").isNull());
        assertEquals(3, s.get("window").get("examples").asInt());
        assertNull(s.get("uri"));
        assertThrows(IllegalArgumentException.class, () -> RetrainJob.parse(new String[] {"--publish"}));
    }
}
