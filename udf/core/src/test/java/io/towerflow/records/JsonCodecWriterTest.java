package io.towerflow.records;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

/**
 * The output records are written straight to a generator; their bytes must stay those of the
 * tree encoding they replaced (the contract consumers and RetrainJob read), field order included.
 */
class JsonCodecWriterTest {
    private static final ObjectMapper M = new ObjectMapper();

    @Test
    void recommendationBytesAreThoseOfTheTreeEncoding() throws Exception {
        Recommendation r = new Recommendation("u42", 1764547212345L, 1764547212361L, "v1",
                new ScoredItem[] {new ScoredItem("1307", 0.83f), new ScoredItem("é\"7", -1.25e-7f)});
        ObjectNode n = M.createObjectNode();
        n.put("userId", r.userId);
        n.put("eventTs", r.eventTs);
        n.put("emittedTs", r.emittedTs);
        n.put("modelVersion", r.modelVersion);
        ArrayNode items = n.putArray("items");
        for (ScoredItem it : r.items) {
            items.addObject().put("itemId", it.itemId).put("score", it.score);
        }
        assertThat(text(JsonCodec.recommendation(r))).isEqualTo(text(M.writeValueAsBytes(n)));
        assertThat(JsonCodec.parseRecommendation(JsonCodec.recommendation(r)).items[1].score).isEqualTo(-1.25e-7f);
    }

    @Test
    void theBriefListParserReadsTheEventTimeInAnyFieldOrder() throws Exception {
        Recommendation r = new Recommendation("u42", 1764547212345L, 1764547212361L, "v1",
                new ScoredItem[] {new ScoredItem("1307", 0.83f)});
        assertThat(JsonCodec.parseRecommendationEventTs(JsonCodec.recommendation(r))).isEqualTo(1764547212345L);
        ObjectNode reordered = M.createObjectNode();
        reordered.putArray("items").addObject().put("itemId", "1307").put("eventTs", 1L);
        reordered.put("userId", "u42");
        reordered.put("eventTs", 1764547212345L);
        assertThat(JsonCodec.parseRecommendationEventTs(M.writeValueAsBytes(reordered))).isEqualTo(1764547212345L);
        assertThatThrownBy(() -> JsonCodec.parseRecommendationEventTs("{\"userId\":\"u42\"}".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void feedbackBytesAreThoseOfTheTreeEncodingAndRoundTrip() throws Exception {
        for (boolean shown : new boolean[] {true, false}) {
            Feedback f = new Feedback();
            f.userId = "u1";
            f.itemId = "i9";
            f.categoryId = null;
            f.action = Action.CART;
            f.ts = 1764547215000L;
            f.historyItemIds = new String[] {"i1", "i2"};
            f.historyCategoryIds = new String[] {"c1", null};
            f.historyActions = new byte[] {Action.VIEW.code(), Action.PURCHASE.code()};
            f.historyTs = new long[] {1L, 2L};
            if (shown) {
                f.shownModelVersion = "v1";
                f.shownTs = 1764547212361L;
                f.shownSize = 20;
                f.shownRank = 3;
            }
            ObjectNode n = M.createObjectNode();
            n.put("userId", f.userId);
            n.put("itemId", f.itemId);
            n.put("categoryId", f.categoryId);
            n.put("action", f.action.wireName());
            n.put("ts", f.ts);
            if (f.wasShown()) {
                n.putObject("shown").put("modelVersion", f.shownModelVersion).put("emittedTs", f.shownTs)
                        .put("size", f.shownSize).put("rank", f.shownRank);
            } else {
                n.putNull("shown");
            }
            ArrayNode h = n.putArray("history");
            for (int i = 0; i < f.historyItemIds.length; i++) {
                h.addObject().put("itemId", f.historyItemIds[i]).put("categoryId", f.historyCategoryIds[i])
                        .put("action", Action.ofCode(f.historyActions[i]).wireName()).put("ts", f.historyTs[i]);
            }
            byte[] json = JsonCodec.feedback(f);
            assertThat(text(json)).isEqualTo(text(M.writeValueAsBytes(n)));
            // records of earlier versions carry "shown" after the history: both parsers read them the same
            ObjectNode older = n.deepCopy();
            older.set("shown", older.remove("shown"));
            Feedback backOld = JsonCodec.parseFeedbackShown(M.writeValueAsBytes(older));
            assertThat(text(M.writeValueAsBytes(older))).endsWith(shown ? "}}" : "null}");
            assertThat(backOld.wasShown()).isEqualTo(shown);
            assertThat(backOld.shownRank).isEqualTo(f.shownRank);
            assertThat(JsonCodec.parseFeedback(M.writeValueAsBytes(older)).historyItemIds).containsExactly("i1", "i2");
            Feedback back = JsonCodec.parseFeedback(json);
            assertThat(back.historyItemIds).containsExactly("i1", "i2");
            assertThat(back.wasShown()).isEqualTo(shown);
            Feedback brief = JsonCodec.parseFeedbackShown(json);
            assertThat(brief.wasShown()).isEqualTo(shown);
            assertThat(brief.shownModelVersion).isEqualTo(back.shownModelVersion);
            assertThat(brief.shownTs).isEqualTo(back.shownTs);
            assertThat(brief.shownRank).isEqualTo(back.shownRank);
            assertThat(brief.shownSize).isEqualTo(back.shownSize);
            assertThat(brief.ts).isEqualTo(f.ts);
            assertThat(brief.historyItemIds).isEmpty();
        }
    }

    @Test
    void feedbackCarriesTheUsersQueriesOnlyWhenThereAreAny() {
        Feedback f = new Feedback();
        f.userId = "u1";
        f.itemId = "i9";
        f.action = Action.CLICK;
        f.ts = 30;
        assertThat(text(JsonCodec.feedback(f))).doesNotContain("queries");
        assertThat(JsonCodec.parseFeedback(JsonCodec.feedback(f)).queryTexts).isEmpty();
        f.queryTexts = new String[] {"red shoes", "红色 连衣裙"};
        f.queryTs = new long[] {10, 20};
        byte[] json = JsonCodec.feedback(f);
        assertThat(text(json)).contains("\"queries\":[{\"query\":\"red shoes\",\"ts\":10}");
        Feedback back = JsonCodec.parseFeedback(json);
        assertThat(back.queryTexts).containsExactly("red shoes", "红色 连衣裙");
        assertThat(back.queryTs).containsExactly(10L, 20L);
        assertThat(JsonCodec.parseFeedbackShown(json).itemId).isEqualTo("i9");
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
