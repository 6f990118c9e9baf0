package io.towerflow.devkit.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.devkit.kafka.EmbeddedKafka;
import io.towerflow.model.TestModels;
import io.towerflow.synthetic.SyntheticGenerator;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The fuzzing corpus through the real job and a real broker, at a size CI can afford (the launcher's
 * {@code towerflow chaos} runs 10,000 bad records): every bad record — a 10 MB one included — is
 * one dead letter with its reason, every valid event one committed list, and the job never
 * restarts (its exception history stays empty).
 */
class FuzzITCase {

    @TempDir static Path tmp;

    @Test
    void badInputIsDeadLetteredWithItsReasonAndNeverRestartsTheJob() throws Exception {
        SyntheticGenerator.Config cfg = new SyntheticGenerator.Config();
        cfg.seed = 23;
        List<FuzzCorpus.Entry> corpus = FuzzCorpus.generate(cfg, 1_200, 300, 23, true);
        assertTrue(corpus.stream().anyMatch(e -> e.value() != null && e.value().length == FuzzCorpus.HUGE_RECORD_BYTES));
        try (EmbeddedKafka kafka = EmbeddedKafka.start(tmp.resolve("kafka"));
                ChaosScenario s = new ChaosScenario("fuzz", kafka.endpoint(), tmp, TestModels.bootstrapVersionDir())) {
            s.createTopics();
            s.startJob(Map.of());
            s.send(corpus, 0);
            ChaosScenario.Result r = s.finish(0, 0, Duration.ofSeconds(180));
            assertEquals(List.of(), r.problems());
            assertEquals(1_200, r.lists());
            assertEquals(300, r.deadLetters());
            assertEquals(0, r.lost());
            assertEquals(0, r.duplicated());
            assertEquals(0, r.restarts());
            assertEquals(0, s.numRestarts());
        }
    }
}
