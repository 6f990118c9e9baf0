package io.towerflow.devkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.devkit.kafka.EmbeddedKafka;
import io.towerflow.model.TestModels;
import io.towerflow.records.Feedback;
import io.towerflow.records.JsonCodec;
import io.towerflow.retrain.RetrainJob;
import io.towerflow.synthetic.SyntheticGenerator;

import com.fasterxml.jackson.databind.JsonNode;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * An experiment, not run by {@code verify} (its name matches neither {@code *Test} nor
 * {@code *ITCase}); it asserts only that every round ran and measured. The measurement behind the retraining
 * learning rates in docs/model-lifecycle.md. Writes synthetic feedback the way the operator does
 * (events {@code skip ..} of the bootstrap's generator, optionally drifting) to an in-process
 * broker and runs one dry-run RetrainJob round per pair of learning rates on the same window,
 * printing serving vs candidate held-out HR@20:
 *
 * <pre>
 * mvn -B -o -q -pl deploy/devkit -am test -Dtest=RetrainRatesExperiment -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dexp.drift=1000000 -Dexp.skip=1010000 -Dexp.records=25000 -Dexp.rates=2e-4/2e-3,1e-3/1e-2
 * </pre>
 *
 * {@code exp.drift}: the generator's driftEvery (0 = the stationary world the bootstrap was trained
 * on; 1,000,000 with skip 1,010,000: a window that starts 10,000 events after a drift).
 */
class RetrainRatesExperiment {
    @Test
    void heldOutHitRatesPerLearningRate(@TempDir Path tmp) throws Exception {
        long drift = Long.getLong("exp.drift", 1_000_000);
        long skip = Long.getLong("exp.skip", 1_010_000);
        int records = Integer.getInteger("exp.records", 25_000);
        String[] rates = System.getProperty("exp.rates", "2e-4/2e-3,1e-3/1e-2").split(",");
        try (EmbeddedKafka kafka = EmbeddedKafka.start(tmp.resolve("kafka"))) {
            String topic = "rec-feedback";
            kafka.createTopics(Map.of(topic, 2), Map.of(topic,
                    Map.of("retention.ms", "-1", "segment.ms", Long.toString(Duration.ofDays(3650).toMillis()))));
            SyntheticGenerator.Config cfg = new SyntheticGenerator.Config() /* the bootstrap version's world */;
            cfg.driftEvery = drift;
            List<Feedback> feedback = SyntheticFeedback.records(cfg, skip, records, 50);
            try (KafkaProducer<String, byte[]> producer = SyntheticFeedback.producer(kafka.bootstrapServers(), "feedback-writer")) {
                producer.initTransactions();
                producer.beginTransaction();
                SyntheticFeedback.send(producer, topic, feedback);
                producer.commitTransaction();
            }
            SyntheticFeedback.awaitStable(kafka.bootstrapServers(), topic);
            Path root = Files.createDirectories(tmp.resolve("model-artifacts"));
            Path src = TestModels.repoRoot().resolve("model-artifacts").resolve("v20261207-bootstrap");
            Path dst = Files.createDirectories(root.resolve("v20261207-bootstrap"));
            try (Stream<Path> files = Files.list(src)) {
                for (Path f : files.toList()) {
                    Files.copy(f, dst.resolve(f.getFileName()));
                }
            }
            for (String pair : rates) {
                String[] lr = pair.split("/");
                Path summary = tmp.resolve("summary.json");
                int rc = RetrainJob.run(new String[] {"--bootstrap-servers", kafka.bootstrapServers(),
                    "--feedback-topic", topic, "--model-updates-topic", "model-updates",
                    "--model-root", root.toString(), "--from-offsets", "earliest",
                    "--group-id", "g-" + UUID.randomUUID(), "--dry-run",
                    "--learning-rate", lr[0], "--embedding-learning-rate", lr[1],
                    "--summary-json", summary.toString()}, System.out, System.err);
                assertEquals(0, rc, "retrain round with rates " + pair);
                JsonNode s = JsonCodec.mapper().readTree(summary.toFile());
                for (String side : new String[] {"current", "candidate"}) {
                    double hr = s.get("heldOut").get(side).get("HR@20").asDouble(Double.NaN);
                    assertTrue(hr >= 0 && hr <= 1, side + " HR@20 measured: " + hr);
                }
                System.out.printf("RATES drift=%d skip=%d records=%d lr=%s emb=%s rc=%d held-out HR@20 serving %.4f candidate %.4f%n",
                        drift, skip, records, lr[0], lr[1], rc,
                        s.get("heldOut").get("current").get("HR@20").asDouble(),
                        s.get("heldOut").get("candidate").get("HR@20").asDouble());
            }
        }
    }
}
