package io.towerflow.retrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Set;

class ModelVersionsTest {
    private static final Instant BOOTSTRAP_DAY = Instant.parse("2026-11-23T04:05:06Z");

    @Test
    void aRetrainedVersionSortsAfterTheBootstrapAndTrainCommandVersionsOfItsDay() {
        String v = ModelVersions.next(BOOTSTRAP_DAY, Set.of("v20261123-bootstrap", "v20261123-2359"));
        assertEquals("v20261123-r040506", v);
        assertTrue(v.compareTo("v20261123-bootstrap") > 0);
        assertTrue(v.compareTo("v20261123-2359") > 0);
    }

    @Test
    void retrainedVersionsSortByTime() {
        List<Instant> times = List.of(BOOTSTRAP_DAY, BOOTSTRAP_DAY.plusSeconds(1), BOOTSTRAP_DAY.plusSeconds(20 * 3600),
                BOOTSTRAP_DAY.plusSeconds(86_400), Instant.parse("2027-01-01T00:00:00Z"));
        String previous = "v20261123-bootstrap";
        for (Instant t : times) {
            String v = ModelVersions.next(t, Set.of(previous));
            assertTrue(v.compareTo(previous) > 0, v + " after " + previous);
            assertTrue(v.startsWith("v2026") || v.startsWith("v2027"));
            previous = v;
        }
    }

    @Test
    void aClockBehindTheNewestVersionStillGivesANameThatSortsAfterIt() {
        String v = ModelVersions.next(Instant.parse("2026-01-01T00:00:00Z"), Set.of("v20261123-bootstrap"));
        assertEquals("v20261123-bootstrap-r000000", v);
        // two versions within one second
        String w = ModelVersions.next(BOOTSTRAP_DAY, Set.of("v20261123-r040506"));
        assertTrue(w.compareTo("v20261123-r040506") > 0, w);
    }

    @Test
    void listsVersionDirectoriesHighestFirstWithoutTemporaryOnes(@TempDir Path root) throws IOException {
        for (String d : List.of("v1", "v3", ".tmp-v4-123", "not-a-version")) {
            Files.createDirectories(root.resolve(d));
        }
        for (String d : List.of("v1", "v3", ".tmp-v4-123")) {
            Files.writeString(root.resolve(d).resolve("manifest.json"), "{}");
        }
        assertEquals(List.of("v3", "v1"), ModelVersions.names(root));
        assertEquals(List.of(), ModelVersions.names(root.resolve("absent")));
    }
}
