package io.towerflow.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code manifest.json} of a model version: what it is, where it came from, how it was built and
 * what it is made of ({@code files}: name → sha256 hex of every file beside the manifest).
 *
 * @param version the version's name, also its directory name
 * @param parent the version it was warm-started from, or null
 * @param createdAt ISO-8601 instant
 * @param config every shape and hash-bucket count needed to rebuild the towers
 * @param trainingWindow event-time range and number of events trained on
 * @param metrics offline metrics, free-form (e.g. {@code heldOut.hr@20.model})
 * @param files name → sha256 hex
 * @param repeat how lists score the user's recent items ({@link RepeatBoost}); versions written
 *     before it existed read as {@link RepeatBoost#NONE}
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.ALWAYS)
public record ModelManifest(
        String version,
        String parent,
        String createdAt,
        ModelConfig config,
        TrainingWindow trainingWindow,
        Map<String, Double> metrics,
        Map<String, String> files,
        RepeatBoost repeat) {

    /** Event-time range [fromTs, toTs] (epoch ms) and count of the events a version learnt from. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record TrainingWindow(long fromTs, long toTs, long events) {}

    /** Field that versions written before the repeat boost lack (read as none). */
    private static final String REPEAT_FIELD = "repeat";

    private static final ObjectMapper MAPPER =
            new ObjectMapper()
                    .enable(SerializationFeature.INDENT_OUTPUT)
                    .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
                    .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                    .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES);

    public ModelManifest {
        metrics = metrics == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(metrics));
        files = files == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(files));
        repeat = repeat == null ? RepeatBoost.NONE : repeat;
    }

    /** A manifest without a repeat boost. */
    public ModelManifest(String version, String parent, String createdAt, ModelConfig config,
            TrainingWindow trainingWindow, Map<String, Double> metrics, Map<String, String> files) {
        this(version, parent, createdAt, config, trainingWindow, metrics, files, RepeatBoost.NONE);
    }

    public ModelManifest withFiles(Map<String, String> newFiles) {
        return new ModelManifest(version, parent, createdAt, config, trainingWindow, metrics, newFiles, repeat);
    }

    public ModelManifest withMetrics(Map<String, Double> newMetrics) {
        return new ModelManifest(version, parent, createdAt, config, trainingWindow, newMetrics, files, repeat);
    }

    public byte[] toJson() {
        try {
            return MAPPER.writeValueAsBytes(this);
        } catch (IOException e) {
            throw new IllegalStateException("manifest does not serialize", e);
        }
    }

    /**
     * Parses a manifest; any malformation or missing required field is an IOException. A config
     * written before the user tower's short-term channel existed reads as one without it, and one
     * written before the repeat boost as one without that, and one written before the sequence
     * tower as a pooled one, and one without {@code text} as a model without text, and text
     * features without {@code searchStartsShortTerm} as searches that leave the short term alone.
     */
    public static ModelManifest fromJson(byte[] json) throws IOException {
        JsonNode tree = MAPPER.readTree(json);
        if (tree != null && tree.get("config") instanceof ObjectNode config
                && !config.has(ModelConfig.RECENT_HALF_LIFE_FIELD)) {
            config.put(ModelConfig.RECENT_HALF_LIFE_FIELD, 0.0);
        }
        if (tree != null && tree.get("config") instanceof ObjectNode config && !config.has("userTower")) {
            config.put("userTower", ModelConfig.POOLED); // written before the sequence tower
            config.putNull("sequence");
        }
        if (tree != null && tree.get("config") instanceof ObjectNode config && !config.has("text")) {
            config.putNull("text"); // a model without text: every version written before it existed
        }
        if (tree != null && tree.get("config") instanceof ObjectNode config && config.get("text") instanceof ObjectNode text
                && !text.has("searchStartsShortTerm")) {
            text.putNull("searchStartsShortTerm"); // text written before it: searches leave the short term alone
        }
        if (tree instanceof ObjectNode root && !root.has(REPEAT_FIELD)) {
            root.putNull(REPEAT_FIELD);
        }
        ModelManifest m = tree == null || tree.isMissingNode() ? null : MAPPER.treeToValue(tree, ModelManifest.class);
        if (m == null) {
            throw new IOException("manifest is empty");
        }
        if (m.version() == null || m.version().isBlank()) {
            throw new IOException("manifest has no version");
        }
        if (m.config() == null) {
            throw new IOException("manifest has no config");
        }
        if (m.createdAt() == null) {
            throw new IOException("manifest has no createdAt");
        }
        return m;
    }
}
