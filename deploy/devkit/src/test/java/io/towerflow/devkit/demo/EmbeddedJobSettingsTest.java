package io.towerflow.devkit.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

/** The demo's {@code --flink KEY=VALUE} options reach the embedded cluster, after the demo's own. */
class EmbeddedJobSettingsTest {

    @Test
    void flinkOptionsAreAppliedLastSoTheyWin() {
        Configuration c = new EmbeddedJob.Settings(1, "2s", "8081", "5ms", Path.of("/tmp/w"),
                Map.of("execution.checkpointing.interval", "30s",
                        "state.backend.rocksdb.writebuffer.size", "2mb")).flinkConfig();
        assertEquals("30s", c.getString("execution.checkpointing.interval", null));
        assertEquals("2mb", c.getString("state.backend.rocksdb.writebuffer.size", null));
        assertEquals("rocksdb", c.getString("state.backend.type", null));
    }

    @Test
    void withoutThemTheDemosOwnSettingsStand() {
        Configuration c = new EmbeddedJob.Settings(1, "2s", "8081", "5ms", Path.of("/tmp/w"), Map.of()).flinkConfig();
        assertEquals("2s", c.getString("execution.checkpointing.interval", null));
        assertEquals("true", c.getString("execution.checkpointing.incremental", null));
    }
}
