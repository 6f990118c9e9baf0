package io.towerflow.devkit.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.devkit.kafka.EmbeddedKafka;
import io.towerflow.devkit.kafka.SaslSslBroker;
import io.towerflow.model.TestModels;
import io.towerflow.records.JsonCodec;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The demo against an existing Kafka that only speaks SASL_SSL ({@code --bootstrap-servers} and
 * {@code --towerflow.kafka.properties.*}): its topic creation, producer, job and monitor all
 * connect (the monitor's read_uncommitted consumer of the lists too), and every event produced gets
 * its committed list.
 */
class SecuredDemoITCase {
    @TempDir Path tmp;

    @Test
    void theDemoRunsAgainstASaslSslBroker() throws Exception {
        try (EmbeddedKafka kafka = SaslSslBroker.start(tmp.resolve("broker"))) {
            Path summary = tmp.resolve("summary.json");
            List<String> args = new ArrayList<>(List.of(
                    "--bootstrap-servers", kafka.bootstrapServers(),
                    "--model", TestModels.bootstrapVersionDir().toString(),
                    "--work-dir", tmp.resolve("demo").toString(),
                    "--max-events", "400", "--rate", "0", "--users", "50",
                    "--checkpoint-interval", "500ms", "--web-port", "0",
                    "--summary-json", summary.toString()));
            kafka.endpoint().clientProperties().forEach((k, v) -> {
                args.add("--towerflow.kafka.properties." + k);
                args.add(v);
            });
            assertEquals(0, LocalDemo.run(args.toArray(new String[0])), "the demo's exit status");
            JsonNode s = JsonCodec.mapper().readTree(summary.toFile());
            assertEquals(400, s.get("eventsIn").asLong(), s.toString());
            assertEquals(400, s.get("recommendationsOut").asLong() + s.get("dlq").asLong(), s.toString());
            assertTrue(s.get("recommendationsOut").asLong() > 0, s.toString());
            // the read_uncommitted consumer connected too and saw the lists before they committed
            long uncommitted = s.path("uncommittedP50Ms").asLong(-1);
            assertTrue(uncommitted >= 0 && uncommitted <= s.get("visibleP99Ms").asLong(), s.toString());
        }
    }
}
