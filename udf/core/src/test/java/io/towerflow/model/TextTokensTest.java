package io.towerflow.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

class TextTokensTest {

    @Test
    void wordsBigramsAndCharacterTrigramsOfNormalisedText() {
        assertEquals(List.of("w:red", "w:running", "w:shoes", "b:red running", "b:running shoes",
                        "c:<re", "c:red", "c:ed>", "c:<ru", "c:run", "c:unn", "c:nni", "c:nin", "c:ing", "c:ng>",
                        "c:<sh", "c:sho", "c:hoe", "c:oes", "c:es>"),
                TextTokens.tokens("Red  Running-Shoes"));
        // NFKC folds full-width forms and the ideographic space; lower case in the root locale
        assertEquals("red shoes", TextTokens.normalise("ＲＥＤ　Ｓｈｏｅｓ"));
        assertEquals(List.of(), TextTokens.tokens("  ,.; "));
        assertEquals(0, TextTokens.buckets(null, 16, 8).length);
    }

    @Test
    void chineseTextNeedsNoSegmenter() {
        // a run of Han characters is one word; its character trigrams carry the parts
        assertEquals(List.of("w:红色", "w:连衣裙", "b:红色 连衣裙", "c:<红色", "c:红色>", "c:<连衣", "c:连衣裙", "c:衣裙>"),
                TextTokens.tokens("红色 连衣裙"));
        List<String> unsegmented = TextTokens.tokens("红色连衣裙");
        assertTrue(unsegmented.contains("c:连衣裙"), "the trigram shared with the segmented text: " + unsegmented);
    }

    @Test
    void bucketsAreFixedAcrossJvmsAndLocales() {
        // murmur3 x86 32 reference values, then fixed bucket ids: a change here breaks every model with text
        assertEquals(0x248bfa47, TextTokens.murmur3("hello".getBytes(StandardCharsets.UTF_8), 0));
        assertEquals(0x2e4ff723, TextTokens.murmur3(
                "The quick brown fox jumps over the lazy dog".getBytes(StandardCharsets.UTF_8), 0));
        assertEquals(0, TextTokens.murmur3(new byte[0], 0));
        assertArrayEquals(new int[] {36400, 17027, 64616, 4743, 64735},
                TextTokens.buckets("Red Running Shoes", 65536, 5));
        assertArrayEquals(new int[] {4624, 13182, 22559, 13982, 54343, 8379},
                TextTokens.buckets("红色连衣裙", 65536, 32));
        Locale before = Locale.getDefault();
        try {
            Locale.setDefault(Locale.forLanguageTag("tr")); // dotless i: "I".toLowerCase() differs
            assertArrayEquals(TextTokens.buckets("RUNNING SHOES", 65536, 32), TextTokens.buckets("running shoes", 65536, 32));
            assertArrayEquals(new int[] {36400, 17027, 64616, 4743, 64735},
                    TextTokens.buckets("RED RUNNING SHOES", 65536, 5));
        } finally {
            Locale.setDefault(before);
        }
    }

    @Test
    void queryWeightsFadeWithNewerQueriesAndLaterActs() {
        float[] fresh = TokenBags.queryWeights(new int[] {0, 0}, 4);
        assertEquals(1 / 3f, fresh[0], 1e-6);
        assertEquals(2 / 3f, fresh[1], 1e-6);
        float[] acted = TokenBags.queryWeights(new int[] {4}, 4);
        assertEquals(0.5f, acted[0], 1e-6);
    }
}
