package io.towerflow.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.Arrays;

import org.junit.jupiter.api.Test;

/**
 * A search starts a new short term ({@link TextConfig#searchStartsShortTerm()}): the short-term
 * pooling weights of a user cover only the acts after the latest query; a version without the
 * field keeps the weights it had before.
 */
class SearchStartsShortTermTest {
    private static final String[] ITEMS = {"1", "2", "3", "4", "5"};
    private static final String[] CATS = {"0", "0", "1", "1", "1"};
    private static final byte[] ACTIONS = {0, 0, 0, 0, 0};
    private static final long[] TS = {10, 20, 30, 40, 50};

    private static ModelConfig config(Boolean resets) {
        return ModelConfig.defaults().withRecentHalfLifeEvents(2).withHistoryLength(8)
                .withText(new TextConfig(4096, 16, 3, 4.0, resets));
    }

    private static float[] recent(ModelConfig c, long queryTs) {
        UserBatch b = new UserBatch(2, c.historyLength(), c.text());
        b.addUser(c, "u", ITEMS, CATS, ACTIONS, TS, new String[] {"red shoes"}, new long[] {queryTs});
        return Arrays.copyOf(b.recentWeights, c.historyLength());
    }

    private static float[] recentWithoutQueries(ModelConfig c) {
        UserBatch b = new UserBatch(2, c.historyLength(), c.text());
        b.addUser(c, "u", ITEMS, CATS, ACTIONS, TS, null, null);
        return Arrays.copyOf(b.recentWeights, c.historyLength());
    }

    @Test
    void aSearchAfterEveryActEmptiesTheShortTerm() {
        float[] w = recent(config(true), 60);
        assertArrayEquals(new float[8], w, "no act after the search: nothing in the short term");
        // the long-term pooling is untouched
        UserBatch b = new UserBatch(1, 8, config(true).text());
        b.addUser(config(true), "u", ITEMS, CATS, ACTIONS, TS, new String[] {"red shoes"}, new long[] {60});
        float sum = 0;
        for (int i = 0; i < 5; i++) {
            sum += b.weights[i];
        }
        assertTrue(sum > 0);
    }

    @Test
    void theShortTermPoolsOnlyTheActsAfterTheLatestSearch() {
        float[] w = recent(config(true), 35); // acts at 40 and 50 follow the search
        assertEquals(0f, w[0]);
        assertEquals(0f, w[1]);
        assertEquals(0f, w[2]);
        assertTrue(w[3] > 0 && w[4] > w[3], "the newer act weighs more");
        assertEquals(1f, w[3] + w[4], 1e-6f, "the short term's weights still sum to 1");
        float[] expected = new float[8];
        HistoryWeights.fillRecent(3, 5, 2, expected, 3);
        assertArrayEquals(expected, w);
    }

    @Test
    void aSearchOlderThanTheHistoryChangesNothing() {
        assertArrayEquals(recentWithoutQueries(config(true)), recent(config(true), 5));
    }

    @Test
    void versionsWithoutTheFieldKeepTheirShortTerm() throws Exception {
        assertArrayEquals(recentWithoutQueries(config(null)), recent(config(null), 60));
        assertArrayEquals(recentWithoutQueries(config(false)), recent(config(false), 60));
        ObjectMapper json = new ObjectMapper();
        String old = json.writeValueAsString(new TextConfig(4096, 16, 3, 4.0));
        assertFalse(old.contains("searchStartsShortTerm"), "a version without it writes the manifest as before: " + old);
        TextConfig read = json.readValue("{\"buckets\":4096,\"maxTokens\":16,\"queries\":3,\"queryHalfLifeEvents\":4.0}",
                TextConfig.class);
        assertFalse(read.resetsShortTerm());
        assertTrue(json.readValue(json.writeValueAsString(TextConfig.DEFAULTS), TextConfig.class).resetsShortTerm());
    }

    @Test
    void aManifestWrittenBeforeTheFieldStillLoads() throws Exception {
        for (Boolean resets : new Boolean[] {null, false, true}) {
            ModelManifest m = new ModelManifest("v1", null, "2026-12-07T00:00:00Z", config(resets), null, null, null);
            byte[] written = m.toJson();
            assertEquals(resets == null, !new String(written, java.nio.charset.StandardCharsets.UTF_8)
                    .contains("searchStartsShortTerm"));
            assertEquals(Boolean.TRUE.equals(resets), ModelManifest.fromJson(written).config().text().resetsShortTerm());
        }
    }
}
