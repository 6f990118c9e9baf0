package io.towerflow.records;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
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

    /**
     * {@code {"userId","eventTs","emittedTs","modelVersion","items":[{"itemId","score","explore"?}...]}};
     * {@code "explore": true} marks an exploration slot and is left out otherwise.
     * Written straight to a generator (no tree of nodes per record: this and {@link #feedback}
     * run once per event on the sink's thread); the bytes are those of the tree encoding.
     */
    public static byte[] recommendation(Recommendation r) {
        return write(g -> {
            g.writeStartObject();
            g.writeStringField("userId", r.userId);
            g.writeNumberField("eventTs", r.eventTs);
            g.writeNumberField("emittedTs", r.emittedTs);
            g.writeStringField("modelVersion", r.modelVersion);
            g.writeArrayFieldStart("items");
            for (ScoredItem it : r.items) {
                g.writeStartObject();
                g.writeStringField("itemId", it.itemId);
                g.writeNumberField("score", it.score);
                if (it.explore) {
                    g.writeBooleanField("explore", true);
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        });
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
     * {@code {"userId","itemId","categoryId","action","ts","shown":{"modelVersion","emittedTs",
     * "size","rank","explore"?}|null,"history":[{"itemId","categoryId","action","ts"}...],
     * "queries":[{"query","ts"}...]?}}; {@code "queries"} (the user's latest searches) only when
     * there are any; rank is 1-based, 0 when the item was not in the list; {@code "explore": true}
     * when the item was in an exploration slot, left out otherwise (records without it parse as
     * not explored). {@code "shown"} comes before the history so that {@link #parseFeedbackShown}
     * stops there; readers go by name, so records of earlier versions (with it last) parse the
     * same.
     */
    public static byte[] feedback(Feedback f) {
        return write(g -> {
            g.writeStartObject();
            g.writeStringField("userId", f.userId);
            g.writeStringField("itemId", f.itemId);
            g.writeStringField("categoryId", f.categoryId);
            g.writeStringField("action", f.action.wireName());
            g.writeNumberField("ts", f.ts);
            if (f.wasShown()) {
                g.writeObjectFieldStart("shown");
                g.writeStringField("modelVersion", f.shownModelVersion);
                g.writeNumberField("emittedTs", f.shownTs);
                g.writeNumberField("size", f.shownSize);
                g.writeNumberField("rank", f.shownRank);
                if (f.shownExplore) {
                    g.writeBooleanField("explore", true);
                }
                g.writeEndObject();
            } else {
                g.writeNullField("shown");
            }
            g.writeArrayFieldStart("history");
            for (int i = 0; i < f.historyItemIds.length; i++) {
                g.writeStartObject();
                g.writeStringField("itemId", f.historyItemIds[i]);
                g.writeStringField("categoryId", f.historyCategoryIds[i]);
                g.writeStringField("action", Action.ofCode(f.historyActions[i]).wireName());
                g.writeNumberField("ts", f.historyTs[i]);
                g.writeEndObject();
            }
            g.writeEndArray();
            if (f.queryTexts != null && f.queryTexts.length > 0) {
                g.writeArrayFieldStart("queries");
                for (int i = 0; i < f.queryTexts.length; i++) {
                    g.writeStartObject();
                    g.writeStringField("query", f.queryTexts[i]);
                    g.writeNumberField("ts", f.queryTs[i]);
                    g.writeEndObject();
                }
                g.writeEndArray();
            }
            g.writeEndObject();
        });
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
            JsonNode q = n.get("queries");
            int qs = q == null || !q.isArray() ? 0 : q.size();
            f.queryTexts = new String[qs];
            f.queryTs = new long[qs];
            for (int i = 0; i < qs; i++) {
                f.queryTexts[i] = q.get(i).get("query").asText();
                f.queryTs[i] = q.get(i).get("ts").asLong();
            }
            JsonNode shown = n.get("shown");
            if (shown != null && !shown.isNull()) {
                f.shownModelVersion = shown.get("modelVersion").asText();
                f.shownTs = shown.get("emittedTs").asLong();
                f.shownSize = shown.get("size").asInt();
                f.shownRank = shown.get("rank").asInt();
                f.shownExplore = shown.path("explore").asBoolean(false);
            }
            return f;
        } catch (java.io.IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Only a list's {@code eventTs} (which, with its record key, the user id, names the event it
     * answers): for readers that match lists to events and need not build twenty items per list
     * (the demo's {@code read_uncommitted} view). It stops at the field, which {@link
     * #recommendation} writes second.
     *
     * @throws IllegalArgumentException when the record has no numeric {@code eventTs}
     */
    public static long parseRecommendationEventTs(byte[] json) {
        try (JsonParser p = MAPPER.getFactory().createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IllegalArgumentException("recommendation record is not a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                if (field.equals("eventTs") && value == JsonToken.VALUE_NUMBER_INT) {
                    return p.getLongValue();
                }
                p.skipChildren();
            }
            throw new IllegalArgumentException("recommendation record without a numeric eventTs");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Only what a feedback record says about the list shown before the act ({@code userId},
     * {@code itemId}, {@code ts} and {@code shown}), its history skipped unread: for readers that
     * judge hits (the demo's monitor) and need not build fifty history entries per record. It
     * stops reading once it has all four, which {@link #feedback} writes before the history;
     * fields in another order are read to the end.
     */
    public static Feedback parseFeedbackShown(byte[] json) {
        Feedback f = new Feedback();
        try (JsonParser p = MAPPER.getFactory().createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IllegalArgumentException("feedback record is not a JSON object");
            }
            int seen = 0; // bits: userId 1, itemId 2, ts 4, shown 8
            while (seen != 0b1111 && p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                switch (field) {
                    case "userId" -> {
                        f.userId = p.getValueAsString();
                        seen |= 1;
                    }
                    case "itemId" -> {
                        f.itemId = p.getValueAsString();
                        seen |= 2;
                    }
                    case "ts" -> {
                        f.ts = p.getValueAsLong();
                        seen |= 4;
                    }
                    case "shown" -> {
                        seen |= 8;
                        if (value == JsonToken.START_OBJECT) {
                            while (p.nextToken() == JsonToken.FIELD_NAME) {
                                String s = p.currentName();
                                p.nextToken();
                                switch (s) {
                                    case "modelVersion" -> f.shownModelVersion = p.getValueAsString();
                                    case "emittedTs" -> f.shownTs = p.getValueAsLong();
                                    case "size" -> f.shownSize = p.getValueAsInt();
                                    case "rank" -> f.shownRank = p.getValueAsInt();
                                    case "explore" -> f.shownExplore = p.getValueAsBoolean();
                                    default -> p.skipChildren();
                                }
                            }
                        }
                    }
                    default -> p.skipChildren();
                }
            }
            return f;
        } catch (IOException e) {
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
        if (c.title != null) {
            n.put("title", c.title);
        }
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
        String title = null;
        if (n.hasNonNull("title")) {
            if (!n.get("title").isTextual()) {
                throw new IllegalArgumentException("catalogue record's title is not a string");
            }
            checkNoControl("catalogue record's title", n.get("title").asText());
            title = n.get("title").asText().strip();
        }
        return new CatalogueItem(
                n.get("itemId").asText().strip(),
                n.hasNonNull("categoryId") ? n.get("categoryId").asText().strip() : null,
                available == null || available.isNull() || available.asBoolean(),
                title == null || title.isEmpty() ? null : title);
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

    /** What writes one record's JSON to a generator. */
    private interface Writer {
        void writeTo(JsonGenerator g) throws IOException;
    }

    /** One reused buffer per thread: a record's JSON is built there and copied out once. */
    private static final ThreadLocal<ByteArrayBuilder> BUFFER = ThreadLocal.withInitial(() -> new ByteArrayBuilder(4096));

    private static byte[] write(Writer writer) {
        ByteArrayBuilder out = BUFFER.get();
        out.reset();
        try (JsonGenerator g = MAPPER.getFactory().createGenerator(out)) {
            writer.writeTo(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
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
