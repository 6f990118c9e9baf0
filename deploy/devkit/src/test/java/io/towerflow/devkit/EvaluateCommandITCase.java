package io.towerflow.devkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.model.ModelArtifacts;
import io.towerflow.model.RepeatBoost;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The evaluate command end to end on a small synthetic set: trains, ranks with all four methods,
 * replays a planted intent shift through the job DAG on a local Flink environment, and writes the
 * summary, the plots and the evaluated version. Quality thresholds are loose (the numbers that
 * matter come from the full run in docs/model.md); timing is never asserted.
 */
class EvaluateCommandITCase {
    @TempDir Path dir;

    @Test
    void evaluatesAllMethodsAndTheIntentShiftAndWritesEverything() throws Exception {
        Path summary = dir.resolve("summary.json");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = EvaluateCommand.run(new String[] {
            "--synthetic", "--max-events", "20000", "--synthetic-users", "300", "--synthetic-items", "1000",
            "--synthetic-categories", "20", "--epochs", "2", "--item-buckets", "4096", "--category-buckets", "64",
            "--user-buckets", "1024", "--intent-shift-users", "4", "--intent-shift-events", "8",
            "--summary-json", summary.toString(), "--plots", dir.resolve("img").toString(),
            "--out", dir.resolve("models").toString(), "--version", "v-eval"
        }, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        String printed = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, printed + err.toString(StandardCharsets.UTF_8));
        assertTrue(printed.contains("| twotower |") && printed.contains("| oracle |"), printed);

        JsonNode s = new ObjectMapper().readTree(summary.toFile());
        assertEquals("synthetic", s.get("dataset").asText());
        JsonNode m = s.get("metrics");
        for (String method : new String[] {"twotower", "popularity", "cooccurrence", "oracle"}) {
            for (String metric : new String[] {"HR@10", "HR@20", "HR@50", "Recall@20", "NDCG@20"}) {
                double v = m.get(method).get(metric).asDouble();
                assertTrue(v >= 0 && v <= 1, method + " " + metric + " = " + v);
            }
        }
        double twoTower = m.get("twotower").get("HR@20").asDouble();
        double popularity = m.get("popularity").get("HR@20").asDouble();
        assertTrue(m.get("oracle").get("HR@20").asDouble() > popularity, m.toString());
        assertTrue(twoTower > 1.3 * popularity, m.toString());
        JsonNode shift = s.get("intentShift");
        assertEquals(4, shift.get("users").asInt());
        assertTrue(shift.get("realtime").asDouble() < shift.get("stale").asDouble(), shift.toString());

        byte[] png = {(byte) 0x89, 'P', 'N', 'G'};
        for (String f : new String[] {"synthetic-loss.png", "synthetic-hr-at-k.png"}) {
            byte[] head = Arrays.copyOf(Files.readAllBytes(dir.resolve("img").resolve(f)), 4);
            assertArrayEquals(png, head, f);
        }
        ModelArtifacts version = ModelArtifacts.load(dir.resolve("models").resolve("v-eval"));
        assertEquals(twoTower, version.manifest().metrics().get("eval.twotower.HR@20"), 1e-12);
        assertEquals(shift.get("realtime").asDouble(), version.manifest().metrics().get("eval.intentShift.realtime"));
        JsonNode repeat = s.get("training").get("repeatBoost");
        assertTrue(repeat.get("validationHR@20").asDouble() >= repeat.get("validationHR@20Without").asDouble(),
                repeat.toString());
        assertEquals(new RepeatBoost(repeat.get("weight").asDouble(), repeat.get("halfLifeEvents").asDouble()),
                version.manifest().repeat());
    }

    @Test
    void badUsageExitsWithTwo() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        PrintStream o = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        assertEquals(2, EvaluateCommand.run(new String[] {"--synthetic", "--bogus", "1"}, o, e));
        assertEquals(2, EvaluateCommand.run(new String[] {}, o, e));
        assertEquals(2, EvaluateCommand.run(new String[] {"--synthetic", "--test-events", "0"}, o, e));
        String text = err.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("Usage: evaluate"), text);
        assertTrue(text.contains("Unknown option") && text.contains("give exactly one of --events FILE and --synthetic")
                && text.contains("--test-events, --max-test-users and --intent-shift-events must be > 0"), text);
    }
}
