package io.towerflow.records;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

/** The exploration marks in the output JSON; records written before them still parse. */
class ExploreJsonTest {

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void anExploredItemIsMarkedAndTheOthersCarryNoMark() {
        Recommendation r = new Recommendation("u", 1, 2, "v1",
                new ScoredItem[] {new ScoredItem("a", 0.5f), new ScoredItem("b", 0.25f, true)});
        String json = new String(JsonCodec.recommendation(r), StandardCharsets.UTF_8);
        assertThat(json).contains("{\"itemId\":\"a\",\"score\":0.5}")
                .contains("{\"itemId\":\"b\",\"score\":0.25,\"explore\":true}");
        Recommendation back = JsonCodec.parseRecommendation(utf8(json));
        assertThat(back.items).containsExactly(r.items);
        assertThat(back.items[1].explore).isTrue();
    }

    @Test
    void listsWrittenBeforeExplorationParseAsExploitedOnly() {
        Recommendation old = JsonCodec.parseRecommendation(utf8(
                "{\"userId\":\"u\",\"eventTs\":1,\"emittedTs\":2,\"modelVersion\":\"v1\","
                        + "\"items\":[{\"itemId\":\"a\",\"score\":0.5}]}"));
        assertThat(old.items[0].explore).isFalse();
    }

    @Test
    void feedbackOnAnExploredSlotRoundTripsAndOldFeedbackParsesAsNotExplored() {
        Feedback f = new Feedback();
        f.userId = "u";
        f.itemId = "b";
        f.action = Action.CLICK;
        f.ts = 5;
        f.shownModelVersion = "v1";
        f.shownTs = 3;
        f.shownSize = 20;
        f.shownRank = 20;
        f.shownExplore = true;
        byte[] json = JsonCodec.feedback(f);
        assertThat(new String(json, StandardCharsets.UTF_8))
                .contains("\"shown\":{\"modelVersion\":\"v1\",\"emittedTs\":3,\"size\":20,\"rank\":20,\"explore\":true}");
        assertThat(JsonCodec.parseFeedback(json).shownExplore).isTrue();
        assertThat(JsonCodec.parseFeedbackShown(json).shownExplore).isTrue();
        assertThat(JsonCodec.parseFeedback(json).exploitedHitAt(20)).isFalse();
        assertThat(JsonCodec.parseFeedback(json).hitAt(20)).isTrue();

        f.shownExplore = false;
        assertThat(new String(JsonCodec.feedback(f), StandardCharsets.UTF_8)).doesNotContain("explore");

        byte[] old = utf8("{\"userId\":\"u\",\"itemId\":\"b\",\"categoryId\":null,\"action\":\"click\",\"ts\":5,"
                + "\"history\":[],\"shown\":{\"modelVersion\":\"v1\",\"emittedTs\":3,\"size\":20,\"rank\":4}}");
        for (Feedback parsed : new Feedback[] {JsonCodec.parseFeedback(old), JsonCodec.parseFeedbackShown(old)}) {
            assertThat(parsed.shownRank).isEqualTo(4);
            assertThat(parsed.shownExplore).isFalse();
            assertThat(parsed.exploitedHitAt(20)).isTrue();
        }
    }
}
