package io.towerflow.records;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.UncheckedIOException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.util.Base64;

/** JSON encodings of the job's output records, as in the data contracts of DESIGN.md. */
public final class JsonCodec {
    private static final ObjectMapper MAPPER = new ObjectMapper();

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
