package io.towerflow.records;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;

class BehaviorEventParserTest {
    private final BehaviorEventParser parser = new BehaviorEventParser();

    private BehaviorEvent parse(String s) throws InvalidEventException {
        return parser.parse(s.getBytes(StandardCharsets.UTF_8));
    }

    private String reason(String s) {
        return assertThrows(InvalidEventException.class, () -> parse(s)).getMessage();
    }

    @Test
    void parsesJsonWithOptionalFields() throws Exception {
        BehaviorEvent e =
                parse("{\"userId\":\"u1\",\"itemId\":42,\"action\":\"cart\",\"ts\":1700000000000,"
                        + "\"categoryId\":\"c9\",\"sessionId\":\"s1\"}");
        assertEquals("u1", e.userId);
        assertEquals("42", e.itemId);
        assertEquals(Action.CART, e.action);
        assertEquals(1_700_000_000_000L, e.ts);
        assertEquals("c9", e.categoryId);
        assertEquals("s1", e.sessionId);
        assertNull(e.query);
    }

    @Test
    void parsesSearchWithQuery() throws Exception {
        BehaviorEvent e =
                parse("{\"userId\":\"u1\",\"itemId\":\"i\",\"action\":\"search\",\"ts\":1700000000000,\"query\":\"red shoes\"}");
        assertEquals(Action.SEARCH, e.action);
        assertEquals("red shoes", e.query);
    }

    @Test
    void aSearchMayCarryItsQueryAlone() throws Exception {
        BehaviorEvent e = parse("{\"userId\":\"u1\",\"action\":\"search\",\"ts\":1700000000000,\"query\":\" 红色 连衣裙 \"}");
        assertEquals(Action.SEARCH, e.action);
        assertNull(e.itemId);
        assertEquals("红色 连衣裙", e.query);
        // through the codec and back: a null itemId stays absent
        assertEquals(e, parse(new String(JsonCodec.behaviorEvent(e), java.nio.charset.StandardCharsets.UTF_8)));
    }

    @Test
    void mapsTaobaoCsv() throws Exception {
        BehaviorEvent e = parse("1,2268318,2520377,pv,1511544070");
        assertEquals("1", e.userId);
        assertEquals("2268318", e.itemId);
        assertEquals("2520377", e.categoryId);
        assertEquals(Action.VIEW, e.action);
        assertEquals(1_511_544_070_000L, e.ts);
        assertEquals(Action.PURCHASE, parse("1,2,3,buy,1511544070").action);
        assertEquals(Action.CART, parse("1,2,3,cart,1511544070").action);
        assertEquals(Action.FAV, parse("1,2,3,fav,1511544070").action);
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "{\"userId\":\"u1\",                     | malformed JSON",
                "[1,2,3]                                 | JSON is not an object",
                "{\"itemId\":\"i\",\"action\":\"view\",\"ts\":1700000000000} | missing userId",
                "{\"userId\":\"  \",\"itemId\":\"i\",\"action\":\"view\",\"ts\":1700000000000} | blank userId",
                "{\"userId\":\"u\",\"itemId\":\"i\",\"action\":\"like\",\"ts\":1700000000000} | unknown action 'like'",
                "{\"userId\":\"u\",\"itemId\":\"i\",\"action\":\"view\"} | missing ts",
                "{\"userId\":\"u\",\"itemId\":\"i\",\"action\":\"view\",\"ts\":\"soon\"} | ts is not an integer",
                "{\"userId\":\"u\",\"itemId\":\"i\",\"action\":\"view\",\"ts\":12} | ts 12 out of range",
                "{\"userId\":{\"a\":1},\"itemId\":\"i\",\"action\":\"view\",\"ts\":1700000000000} | userId must be a string",
                "1,2,3,pv                                | Taobao CSV needs 5 fields",
                "1,2,3,click,1511544070                  | unknown Taobao behavior 'click'",
                "1,2,3,pv,15                             | ts 15000 out of range",
                "1,2,3,pv,abc                            | Taobao ts is not an integer",
                ",2,3,pv,1511544070                      | blank userId",
                "{\"userId\":\"u\",\"action\":\"view\",\"ts\":1700000000000} | missing itemId",
                "{\"userId\":\"u\",\"action\":\"search\",\"ts\":1700000000000} | search without query or itemId",
                "{\"userId\":\"u\",\"action\":\"search\",\"ts\":1700000000000,\"query\":\"  \"} | search without query or itemId",
            })
    void rejectsWithReason(String input, String expectedReasonPrefix) {
        String reason = reason(input);
        assertTrue(
                reason.startsWith(expectedReasonPrefix.strip()),
                () -> "reason was: " + reason);
    }

    @Test
    void truncatedLastLineOfTheTaobaoSliceIsRejected() {
        // the shared stream slice ends with a line cut off after "pv,15"
        assertTrue(reason("100,200,300,pv,15").contains("out of range"));
    }

    @Test
    void rejectsEmptyOversizedAndNonUtf8() {
        assertEquals(
                "empty record",
                assertThrows(InvalidEventException.class, () -> parser.parse(new byte[0])).getMessage());
        assertEquals(
                "empty record",
                assertThrows(InvalidEventException.class, () -> parser.parse(null)).getMessage());
        assertEquals("blank record", reason("   "));
        byte[] big = new byte[BehaviorEventParser.MAX_RECORD_BYTES + 1];
        assertTrue(
                assertThrows(InvalidEventException.class, () -> parser.parse(big))
                        .getMessage()
                        .contains("exceeds"));
        assertEquals(
                "not valid UTF-8",
                assertThrows(
                                InvalidEventException.class,
                                () -> parser.parse(new byte[] {'{', (byte) 0xC3, (byte) 0x28}))
                        .getMessage());
        String longId = "x".repeat(BehaviorEventParser.MAX_ID_LENGTH + 1);
        assertTrue(
                reason("{\"userId\":\"" + longId + "\",\"itemId\":\"i\",\"action\":\"view\",\"ts\":1700000000000}")
                        .startsWith("userId of 129 chars exceeds"));
    }

    @Test
    void jsonRoundTripThroughCodec() throws Exception {
        BehaviorEvent e = new BehaviorEvent("u7", "i9", Action.FAV, 1_700_000_000_123L, "c1");
        e.sessionId = "s";
        assertEquals(e, parser.parse(JsonCodec.behaviorEvent(e)));
    }

    // found by the fuzzing run (issue #13, item 4): each was accepted before

    @Test
    void rejectsDuplicateKeys() {
        String r = reason("{\"userId\":\"u1\",\"userId\":\"u2\",\"itemId\":\"i\",\"action\":\"view\",\"ts\":1700000000000}");
        assertTrue(r.startsWith("malformed JSON: Duplicate field 'userId'"), r);
    }

    @Test
    void rejectsNulAndOtherControlCharactersInIds() {
        assertEquals("userId contains a control character (NUL, ...)",
                reason("{\"userId\":\"u\\u0000\",\"itemId\":\"i\",\"action\":\"view\",\"ts\":1700000000000}"));
        assertEquals("itemId contains a control character (NUL, ...)", reason("1,2\u00003,4,pv,1511544070"));
        assertEquals("query contains a control character (NUL, ...)",
                reason("{\"userId\":\"u\",\"itemId\":\"i\",\"action\":\"search\",\"ts\":1700000000000,\"query\":\"a\\u0007b\"}"));
        // a raw NUL inside a JSON string is not JSON at all
        assertTrue(reason("{\"userId\":\"u\u0000\",\"itemId\":\"i\",\"action\":\"view\",\"ts\":1700000000000}")
                .startsWith("malformed JSON"));
    }

    @Test
    void rejectsNestingDeeperThanJacksonsLimit() {
        String deep = "{\"userId\":\"u\",\"x\":" + "[".repeat(1_500) + "]".repeat(1_500)
                + ",\"itemId\":\"i\",\"action\":\"view\",\"ts\":1700000000000}";
        assertTrue(reason(deep).startsWith("malformed JSON: Document nesting depth"), reason(deep));
    }
}
