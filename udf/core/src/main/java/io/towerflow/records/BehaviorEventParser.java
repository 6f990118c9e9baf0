package io.towerflow.records;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Turns the bytes of one input record into a validated {@link BehaviorEvent}. Two formats are
 * accepted: the JSON contract of {@code user-behavior}, and a Taobao UserBehavior CSV line
 * ({@code user,item,category,pv|buy|cart|fav,ts-seconds}), told apart by the first character.
 * Anything else throws {@link InvalidEventException} with a reason fit for the DLQ.
 */
public final class BehaviorEventParser implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Earliest accepted event time: 2000-01-01T00:00:00Z. */
    public static final long MIN_TS = 946_684_800_000L;
    /** Latest accepted event time: 2100-01-01T00:00:00Z. */
    public static final long MAX_TS = 4_102_444_800_000L;
    public static final int MAX_RECORD_BYTES = 16 * 1024;
    public static final int MAX_ID_LENGTH = 128;
    public static final int MAX_QUERY_LENGTH = 1024;

    /** Rejects duplicate keys: {@code {"userId":"a","userId":"b"}} names no one user. */
    private static final ObjectMapper MAPPER =
            new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    public BehaviorEvent parse(byte[] bytes) throws InvalidEventException {
        if (bytes == null || bytes.length == 0) {
            throw new InvalidEventException("empty record");
        }
        if (bytes.length > MAX_RECORD_BYTES) {
            throw new InvalidEventException(
                    "record of " + bytes.length + " bytes exceeds " + MAX_RECORD_BYTES);
        }
        String text = decodeUtf8(bytes).strip();
        if (text.isEmpty()) {
            throw new InvalidEventException("blank record");
        }
        char first = text.charAt(0);
        return first == '{' || first == '[' ? parseJson(text) : parseTaobaoCsv(text);
    }

    private static String decodeUtf8(byte[] bytes) throws InvalidEventException {
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new InvalidEventException("not valid UTF-8");
        }
    }

    private static BehaviorEvent parseJson(String text) throws InvalidEventException {
        JsonNode node;
        try {
            node = MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new InvalidEventException(
                    "malformed JSON: " + e.getOriginalMessage().lines().findFirst().orElse(""));
        }
        if (node == null || !node.isObject()) {
            throw new InvalidEventException("JSON is not an object");
        }
        BehaviorEvent e = new BehaviorEvent();
        e.userId = id(node, "userId", true);
        e.itemId = id(node, "itemId", false);
        String action = text(node, "action", true, MAX_ID_LENGTH);
        e.action = Action.fromWire(action);
        if (e.action == null) {
            throw new InvalidEventException("unknown action '" + action + "'");
        }
        JsonNode ts = node.get("ts");
        if (ts == null || ts.isNull()) {
            throw new InvalidEventException("missing ts");
        }
        if (!ts.canConvertToExactIntegral() || !ts.canConvertToLong()) {
            throw new InvalidEventException("ts is not an integer epoch-ms value");
        }
        e.ts = checkTs(ts.asLong());
        e.categoryId = id(node, "categoryId", false);
        e.sessionId = id(node, "sessionId", false);
        e.query = text(node, "query", false, MAX_QUERY_LENGTH);
        if (e.itemId == null) {
            // a search may stand for its query alone; every other act is on an item
            if (e.action != Action.SEARCH) {
                throw new InvalidEventException("missing itemId");
            }
            if (e.query == null) {
                throw new InvalidEventException("search without query or itemId");
            }
        }
        return e;
    }

    private static String id(JsonNode node, String field, boolean required)
            throws InvalidEventException {
        return text(node, field, required, MAX_ID_LENGTH);
    }

    private static String text(JsonNode node, String field, boolean required, int maxLength)
            throws InvalidEventException {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            if (required) {
                throw new InvalidEventException("missing " + field);
            }
            return null;
        }
        if (!v.isTextual() && !v.isIntegralNumber()) {
            throw new InvalidEventException(field + " must be a string or an integer");
        }
        return checkText(field, v.asText(), required, maxLength);
    }

    private static String checkText(String field, String value, boolean required, int maxLength)
            throws InvalidEventException {
        String s = value.strip();
        if (s.isEmpty()) {
            if (required) {
                throw new InvalidEventException("blank " + field);
            }
            return null;
        }
        if (s.length() > maxLength) {
            throw new InvalidEventException(
                    field + " of " + s.length() + " chars exceeds " + maxLength);
        }
        if (hasControlCharacter(s)) {
            throw new InvalidEventException(field + " contains a control character (NUL, ...)");
        }
        return s;
    }

    /** NUL and the other C0/C1 controls: never part of an id or a query, often a sign of binary junk. */
    static boolean hasControlCharacter(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isISOControl(s.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    private static long checkTs(long ts) throws InvalidEventException {
        if (ts < MIN_TS || ts >= MAX_TS) {
            throw new InvalidEventException("ts " + ts + " out of range [2000-01-01, 2100-01-01)");
        }
        return ts;
    }

    private static BehaviorEvent parseTaobaoCsv(String line) throws InvalidEventException {
        String[] f = line.split(",", -1);
        if (f.length != 5) {
            throw new InvalidEventException(
                    "Taobao CSV needs 5 fields (user,item,category,behavior,ts), got " + f.length);
        }
        BehaviorEvent e = new BehaviorEvent();
        e.userId = checkText("userId", f[0], true, MAX_ID_LENGTH);
        e.itemId = checkText("itemId", f[1], true, MAX_ID_LENGTH);
        e.categoryId = checkText("categoryId", f[2], false, MAX_ID_LENGTH);
        String code = f[3].strip();
        e.action = Action.fromTaobao(code);
        if (e.action == null) {
            throw new InvalidEventException("unknown Taobao behavior '" + code + "'");
        }
        long seconds;
        try {
            seconds = Long.parseLong(f[4].strip());
        } catch (NumberFormatException ex) {
            throw new InvalidEventException("Taobao ts is not an integer: '" + f[4].strip() + "'");
        }
        if (seconds > Long.MAX_VALUE / 1000 || seconds < 0) {
            throw new InvalidEventException("Taobao ts " + seconds + " out of range");
        }
        e.ts = checkTs(seconds * 1000);
        return e;
    }
}
