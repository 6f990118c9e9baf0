package io.towerflow.devkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.model.ModelArtifacts;
import io.towerflow.model.ModelConfig;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * {@code evaluate --protocol leave-one-out} end to end on a small file in the sequence format, with
 * the sequence user tower: every user evaluated, the summary's shape, and a version whose
 * manifest says {@code "userTower": "sequence"}. Quality is not asserted beyond sanity.
 */
class LeaveOneOutEvaluateITCase {
    @TempDir Path dir;

    @Test
    void sequenceFileLeaveOneOutWithTheSequenceTower() throws Exception {
        // 200 users walking chains of 40 items: item k is followed by k + 1 (mod 40), within 4 chains
        Random r = new Random(1);
        StringBuilder text = new StringBuilder();
        java.util.Set<Integer> items = new java.util.HashSet<>();
        for (int u = 0; u < 200; u++) {
            int chain = u % 4;
            int k = r.nextInt(40);
            text.append(u);
            for (int i = 0; i < 6 + r.nextInt(5); i++) {
                text.append(' ').append(chain * 40 + (k + i) % 40);
                items.add(chain * 40 + (k + i) % 40);
            }
            text.append('\n');
        }
        Path file = dir.resolve("chains.txt");
        Files.writeString(file, text);
        Path summary = dir.resolve("summary.json");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = EvaluateCommand.run(new String[] {
            "--events", file.toString(), "--protocol", "leave-one-out", "--user-tower", "sequence",
            "--history-length", "8", "--embedding-dim", "16", "--hidden", "32", "--dim", "16",
            "--sequence-layers", "1", "--user-buckets", "1", "--item-buckets", "4096", "--category-buckets", "16",
            "--epochs", "3", "--batch-size", "64", "--uniform-negatives", "32",
            "--summary-json", summary.toString(), "--out", dir.resolve("models").toString(), "--version", "v-seq"
        }, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        String printed = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, printed + err.toString(StandardCharsets.UTF_8));

        JsonNode s = new ObjectMapper().readTree(summary.toFile());
        assertEquals("leave-one-out", s.get("split").get("protocol").asText());
        assertEquals(200, s.get("split").get("evaluatedUsers").asInt());
        assertEquals(items.size(), s.get("split").get("catalogue").asInt(), "every item of the file");
        for (String method : new String[] {"twotower", "popularity", "cooccurrence"}) {
            for (String metric : new String[] {"HR@5", "HR@10", "HR@20", "NDCG@5", "NDCG@10", "NDCG@20"}) {
                double v = s.get("metrics").get(method).get(metric).asDouble();
                assertTrue(v >= 0 && v <= 1, method + " " + metric + " = " + v);
            }
        }
        assertTrue(s.get("metrics").get("twotower").get("HR@10").asDouble()
                > s.get("metrics").get("popularity").get("HR@10").asDouble(), s.get("metrics").toString());
        ModelArtifacts v = ModelArtifacts.load(dir.resolve("models").resolve("v-seq"));
        assertEquals(ModelConfig.SEQUENCE, v.manifest().config().userTower());
    }
}
