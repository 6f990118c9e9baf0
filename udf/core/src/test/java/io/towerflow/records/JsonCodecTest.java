package io.towerflow.records;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** The control-topic parsers and the dead-letter envelope against the fuzzing cases of issue #13. */
class JsonCodecTest {

    private static String modelUpdateReason(String json) {
        return assertThrows(IllegalArgumentException.class,
                () -> JsonCodec.parseModelUpdate(json.getBytes(StandardCharsets.UTF_8))).getMessage();
    }

    private static String catalogueReason(String json) {
        return assertThrows(IllegalArgumentException.class,
                () -> JsonCodec.parseCatalogueItem(json.getBytes(StandardCharsets.UTF_8))).getMessage();
    }

    @Test
    void catalogueRecordsMayCarryATitle() {
        CatalogueItem c = new CatalogueItem("i1", "c1", true, "红色 连衣裙 dress");
        assertEquals(c, JsonCodec.parseCatalogueItem(JsonCodec.catalogueItem(c)));
        assertEquals(new CatalogueItem("i1", "c1", true), JsonCodec.parseCatalogueItem(
                "{\"itemId\":\"i1\",\"categoryId\":\"c1\",\"title\":\"  \"}".getBytes(StandardCharsets.UTF_8)));
        assertEquals("catalogue record's title is not a string", catalogueReason("{\"itemId\":\"i\",\"title\":3}"));
        assertEquals("catalogue record's title contains a control character (NUL, ...)",
                catalogueReason("{\"itemId\":\"i\",\"title\":\"a\\u0000\"}"));
    }

    @Test
    void junkOnTheControlTopicsIsRefusedWithAReason() {
        assertTrue(modelUpdateReason("{\"version\":\"v1\",\"version\":\"v2\",\"uri\":\"u\",\"sha256\":\"s\"}")
                .contains("Duplicate field 'version'"));
        assertEquals("model update lacks version (a non-blank string)",
                modelUpdateReason("{\"version\":{\"a\":1},\"uri\":\"u\",\"sha256\":\"s\"}"));
        assertEquals("model update's uri contains a control character (NUL, ...)",
                modelUpdateReason("{\"version\":\"v1\",\"uri\":\"file:/m\\u0000\",\"sha256\":\"s\"}"));
        assertTrue(modelUpdateReason("[1,2]").equals("model update is not a JSON object"));
        assertTrue(catalogueReason("{\"itemId\":\"i\",\"itemId\":\"j\"}").contains("Duplicate field 'itemId'"));
        assertEquals("catalogue record's itemId contains a control character (NUL, ...)",
                catalogueReason("{\"itemId\":\"i\\u0000\"}"));
        assertTrue(catalogueReason("{\"itemId\":" + "[".repeat(1_500)).contains("nesting depth"));
        byte[] notUtf8 = {'{', '"', 'i', 't', 'e', 'm', 'I', 'd', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
        assertTrue(assertThrows(IllegalArgumentException.class, () -> JsonCodec.parseCatalogueItem(notUtf8))
                .getMessage().startsWith("catalogue record is not JSON"));
    }

    @Test
    void aHugeRejectedRecordBecomesABoundedDeadLetter() throws Exception {
        byte[] huge = new byte[10 * 1024 * 1024];
        Arrays.fill(huge, (byte) 'x');
        DeadLetter d = new DeadLetter(new RawRecord(huge, "t", 1, 7, 0), "too big", 1);
        assertEquals(DeadLetter.MAX_RAW_BYTES, d.raw.length);
        assertEquals(huge.length, d.rawLength);
        byte[] envelope = JsonCodec.deadLetter(d);
        assertTrue(envelope.length < 4 * DeadLetter.MAX_RAW_BYTES, envelope.length + " bytes");
        JsonNode n = JsonCodec.mapper().readTree(envelope);
        assertEquals(huge.length, n.get("rawLength").asInt());
        assertTrue(n.get("rawTruncated").asBoolean());

        JsonNode small = JsonCodec.mapper().readTree(JsonCodec.deadLetter(
                new DeadLetter(new RawRecord("abc".getBytes(StandardCharsets.UTF_8), "t", 0, 0, 0), "r", 1)));
        assertEquals(3, small.get("rawLength").asInt());
        assertFalse(small.has("rawTruncated"));
        assertEquals(-1, new DeadLetter(new RawRecord(null, "t", 0, 0, 0), "r", 1).rawLength);
    }
}
