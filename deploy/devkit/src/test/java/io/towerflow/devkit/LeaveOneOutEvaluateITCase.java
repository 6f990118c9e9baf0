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
import java.util.ArrayList;
import java.util.List;
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
        Run run = evaluate("v-seq", "--events", file.toString(), "--user-tower", "sequence", "--history-length", "8",
                "--embedding-dim", "16", "--hidden", "32", "--dim", "16", "--sequence-layers", "1",
                "--user-buckets", "1", "--item-buckets", "4096", "--category-buckets", "16", "--epochs", "3",
                "--batch-size", "64", "--uniform-negatives", "32");

        JsonNode s = run.summary();
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

    @Test
    void epochAveragingKeepsTheBetterOfTheBestEpochAndItsMeanWithTheNext() throws Exception {
        // 300 users, six taste groups of 20 items, half of each user's acts random: memorised within
        // a few epochs, so training goes on past its best epoch
        Random r = new Random(2);
        StringBuilder text = new StringBuilder();
        for (int u = 0; u < 300; u++) {
            text.append(u);
            for (int i = 0, n = 8 + r.nextInt(5); i < n; i++) {
                text.append(' ').append(r.nextBoolean() ? r.nextInt(120) : (u % 6) * 20 + r.nextInt(20));
            }
            text.append('\n');
        }
        Path file = dir.resolve("tastes.txt");
        Files.writeString(file, text);
        Run on = evaluate("on", tastes(file, "true"));
        JsonNode training = on.summary().get("training");
        int kept = training.get("epochsKept").asInt();
        assertTrue(kept < training.get("epochs").asInt(), on.printed());
        assertTrue(on.printed().contains("mean of epochs " + kept + " and " + (kept + 1) + ": validation HR@20"),
                on.printed());
        double bestEpoch = Double.NEGATIVE_INFINITY;
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("epoch \\d+: validation HR@20 ([0-9.]+)")
                .matcher(on.printed());
        while (m.find()) {
            bestEpoch = Math.max(bestEpoch, Double.parseDouble(m.group(1)));
        }
        boolean averaged = training.get("epochAveraged").asBoolean();
        double hr = training.get("validationHR@20").asDouble();
        if (averaged) {
            assertTrue(hr > bestEpoch, hr + " vs the best epoch's " + bestEpoch);
        } else {
            assertEquals(bestEpoch, hr, 1e-4, on.printed());
        }
        ModelArtifacts v = ModelArtifacts.load(dir.resolve("models").resolve("on"));
        assertEquals(averaged ? 1.0 : 0.0, v.manifest().metrics().get("train.epochAveraged"));

        Run off = evaluate("off", tastes(file, "false"));
        assertTrue(!off.printed().contains("mean of epochs"), off.printed());
        assertEquals(kept, off.summary().get("training").get("epochsKept").asInt());
        assertEquals(bestEpoch, off.summary().get("training").get("validationHR@20").asDouble(), 1e-4);
        if (!averaged) { // the same model either way: training is deterministic under the seed
            assertEquals(on.summary().get("metrics").get("twotower"), off.summary().get("metrics").get("twotower"));
        }
    }

    private record Run(String printed, JsonNode summary) {}

    private static String[] tastes(Path file, String averaging) {
        return new String[] {"--events", file.toString(), "--history-length", "8", "--embedding-dim", "16",
            "--hidden", "32", "--dim", "16", "--item-buckets", "4096", "--category-buckets", "16", "--epochs", "8",
            "--batch-size", "64", "--uniform-negatives", "32", "--epoch-averaging", averaging};
    }

    /** {@code evaluate --protocol leave-one-out} with {@code args}, writing version {@code version}. */
    private Run evaluate(String version, String... args) throws Exception {
        Path summary = dir.resolve(version + ".json");
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--protocol", "leave-one-out", "--summary-json", summary.toString(),
                "--out", dir.resolve("models").toString(), "--version", version));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = EvaluateCommand.run(all.toArray(String[]::new),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        String printed = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, printed + err.toString(StandardCharsets.UTF_8));
        return new Run(printed, new ObjectMapper().readTree(summary.toFile()));
    }
}
