package io.towerflow.records;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** JSON encodings of the job's output records, as in the data contracts of DESIGN.md. */
public final class JsonCodec {
    /** Strict on reading: a duplicate key is an error, not "the last one wins". */
    private static final ObjectMapper MAPPER =
            new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private JsonCodec() {}

    public static ObjectMapper mapper() {
        return MAPPER;
    }

    /** {@code {"userId","eventTs","emittedTs","modelVersion","items":[{"itemId","score"}...]}}. */
    public static byte[] recommendation(Recommendation r) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("userId", r.userId);
        n.put("eventTs", r.eventTs);
        n.put("emittedTs", r.emittedTs);
        n.put("modelVersion", r.modelVersion);
        ArrayNode items = n.putArray("items");
        for (ScoredItem it : r.items) {
            items.addObject().put("itemId", it.itemId).put("score", it.score);
        }
        return bytes(n);
    }

    public static Recommendation parseRecommendation(byte[] json) {
        try {
            return MAPPER.readValue(json, Recommendation.class);
        } catch (java.io.IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The DLQ envelope: the reason, where the record came from, and its bytes. */
    public static byte[] deadLetter(DeadLetter d) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("reason", d.reason);
        n.put("sourceTopic", d.sourceTopic);
        n.put("sourcePartition", d.sourcePartition);
        n.put("sourceOffset", d.sourceOffset);
        n.put("rejectedTs", d.rejectedTs);
        n.put("rawLength", d.rawLength);
        if (d.raw != null && d.rawLength > d.raw.length) {
            n.put("rawTruncated", true);
        }
        String text = utf8OrNull(d.raw);
        if (text != null) {
            n.put("raw", text);
        }
        n.put("rawBase64", Base64.getEncoder().encodeToString(d.raw == null ? new byte[0] : d.raw));
        return bytes(n);
    }

    /** A behaviour event in the JSON contract of {@code user-behavior}. */
    public static byte[] behaviorEvent(BehaviorEvent e) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("userId", e.userId);
        n.put("itemId", e.itemId);
        n.put("action", e.action.wireName());
        n.put("ts", e.ts);
        if (e.categoryId != null) {
            n.put("categoryId", e.categoryId);
        }
        if (e.sessionId != null) {
            n.put("sessionId", e.sessionId);
        }
        if (e.query != null) {
            n.put("query", e.query);
        }
        return bytes(n);
    }

    /**
     * {@code {"userId","itemId","categoryId","action","ts","history":[{"itemId","categoryId",
     * "action","ts"}...],"shown":{"modelVersion","emittedTs","size","rank"}|null}}; rank is 1-based,
     * 0 when the item was not in the list.
     */
    public static byte[] feedback(Feedback f) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("userId", f.userId);
        n.put("itemId", f.itemId);
        n.put("categoryId", f.categoryId);
        n.put("action", f.action.wireName());
        n.put("ts", f.ts);
        ArrayNode h = n.putArray("history");
        for (int i = 0; i < f.historyItemIds.length; i++) {
            h.addObject()
                    .put("itemId", f.historyItemIds[i])
                    .put("categoryId", f.historyCategoryIds[i])
                    .put("action", Action.ofCode(f.historyActions[i]).wireName())
                    .put("ts", f.historyTs[i]);
        }
        if (f.wasShown()) {
            n.putObject("shown")
                    .put("modelVersion", f.shownModelVersion)
                    .put("emittedTs", f.shownTs)
                    .put("size", f.shownSize)
                    .put("rank", f.shownRank);
        } else {
            n.putNull("shown");
        }
        return bytes(n);
    }

    public static Feedback parseFeedback(byte[] json) {
        try {
            JsonNode n = MAPPER.readTree(json);
            Feedback f = new Feedback();
            f.userId = n.get("userId").asText();
            f.itemId = n.get("itemId").asText();
            f.categoryId = n.hasNonNull("categoryId") ? n.get("categoryId").asText() : null;
            f.action = Action.fromWire(n.get("action").asText());
            f.ts = n.get("ts").asLong();
            JsonNode h = n.get("history");
            int size = h == null ? 0 : h.size();
            f.historyItemIds = new String[size];
            f.historyCategoryIds = new String[size];
            f.historyActions = new byte[size];
            f.historyTs = new long[size];
            for (int i = 0; i < size; i++) {
                JsonNode e = h.get(i);
                f.historyItemIds[i] = e.get("itemId").asText();
                f.historyCategoryIds[i] = e.hasNonNull("categoryId") ? e.get("categoryId").asText() : null;
                f.historyActions[i] = Action.fromWire(e.get("action").asText()).code();
                f.historyTs[i] = e.get("ts").asLong();
            }
            JsonNode shown = n.get("shown");
            if (shown != null && !shown.isNull()) {
                f.shownModelVersion = shown.get("modelVersion").asText();
                f.shownTs = shown.get("emittedTs").asLong();
                f.shownSize = shown.get("size").asInt();
                f.shownRank = shown.get("rank").asInt();
            }
            return f;
        } catch (java.io.IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code {"version","uri","sha256"}}. */
    public static byte[] modelUpdate(ModelUpdate u) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("version", u.version);
        n.put("uri", u.uri);
        n.put("sha256", u.sha256);
        return bytes(n);
    }

    /** Parses a model update; throws IllegalArgumentException with a reason when it is not one. */
    public static ModelUpdate parseModelUpdate(byte[] json) {
        JsonNode n = jsonObject(json, "model update");
        for (String field : new String[] {"version", "uri", "sha256"}) {
            if (!n.hasNonNull(field) || !n.get(field).isTextual() || n.get(field).asText().isBlank()) {
                throw new IllegalArgumentException("model update lacks " + field + " (a non-blank string)");
            }
            checkNoControl("model update's " + field, n.get(field).asText());
        }
        return new ModelUpdate(n.get("version").asText(), n.get("uri").asText(), n.get("sha256").asText());
    }

    /** {@code {"itemId","categoryId","available"}}. */
    public static byte[] catalogueItem(CatalogueItem c) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("itemId", c.itemId);
        n.put("categoryId", c.categoryId);
        n.put("available", c.available);
        return bytes(n);
    }

    /** Parses a catalogue upsert; throws IllegalArgumentException with a reason when it is not one. */
    public static CatalogueItem parseCatalogueItem(byte[] json) {
        JsonNode n = jsonObject(json, "catalogue record");
        if (!n.hasNonNull("itemId") || n.get("itemId").asText().isBlank()) {
            throw new IllegalArgumentException("catalogue record lacks itemId");
        }
        checkNoControl("catalogue record's itemId", n.get("itemId").asText());
        if (n.hasNonNull("categoryId")) {
            checkNoControl("catalogue record's categoryId", n.get("categoryId").asText());
        }
        JsonNode available = n.get("available");
        if (available != null && !available.isNull() && !available.isBoolean()) {
            throw new IllegalArgumentException("catalogue record's available is not a boolean");
        }
        return new CatalogueItem(
                n.get("itemId").asText().strip(),
                n.hasNonNull("categoryId") ? n.get("categoryId").asText().strip() : null,
                available == null || available.isNull() || available.asBoolean());
    }

    private static void checkNoControl(String what, String value) {
        if (value.length() > 4096) {
            throw new IllegalArgumentException(what + " of " + value.length() + " chars is too long");
        }
        if (BehaviorEventParser.hasControlCharacter(value)) {
            throw new IllegalArgumentException(what + " contains a control character (NUL, ...)");
        }
    }

    private static JsonNode jsonObject(byte[] json, String what) {
        JsonNode n;
        try {
            n = MAPPER.readTree(json);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException(what + " is not JSON: " + e.getMessage());
        }
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException(what + " is not a JSON object");
        }
        return n;
    }

    private static byte[] bytes(ObjectNode n) {
        try {
            return MAPPER.writeValueAsBytes(n);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String utf8OrNull(byte[] raw) {
        if (raw == null) {
            return null;
        }
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(raw))
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
