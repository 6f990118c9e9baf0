package io.towerflow.model;

import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The tokeniser of search queries and item titles, shared by both: text is normalised (Unicode
 * NFKC, lower case in the root locale), split into words at every character that is neither a
 * letter nor a digit, and turned into word unigrams ({@code w:red}), word bigrams ({@code b:red
 * shoes}) and character trigrams of each word with boundary marks ({@code c:<re}, {@code c:red},
 * {@code c:ed>}). A run of CJK characters is one "word", and its trigrams are what carries it, so
 * Chinese or Japanese text works without a word segmenter. A token's bucket is murmur3 (x86,
 * 32-bit, seed 0) of its UTF-8 bytes modulo the bucket count: the same in every JVM, locale and
 * version, unlike {@link String#hashCode} of locale-lowered text.
 */
public final class TextTokens {
    private TextTokens() {}

    /** NFKC, lower case (root locale), words joined by single spaces; "" for null or no words. */
    public static String normalise(String text) {
        return String.join(" ", words(text));
    }

    /** The words of the normalised text. */
    static List<String> words(String text) {
        List<String> out = new ArrayList<>();
        if (text == null) {
            return out;
        }
        String s = Normalizer.normalize(text, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT);
        int start = -1;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            boolean inWord = Character.isLetterOrDigit(cp);
            if (inWord && start < 0) {
                start = i;
            } else if (!inWord && start >= 0) {
                out.add(s.substring(start, i));
                start = -1;
            }
            i += Character.charCount(cp);
        }
        if (start >= 0) {
            out.add(s.substring(start));
        }
        return out;
    }

    /** Every token of {@code text}: unigrams, then bigrams, then each word's character trigrams. */
    public static List<String> tokens(String text) {
        List<String> words = words(text);
        List<String> out = new ArrayList<>();
        for (String w : words) {
            out.add("w:" + w);
        }
        for (int i = 0; i + 1 < words.size(); i++) {
            out.add("b:" + words.get(i) + " " + words.get(i + 1));
        }
        for (String w : words) {
            int[] cps = ("<" + w + ">").codePoints().toArray();
            for (int i = 0; i + 3 <= cps.length; i++) {
                out.add("c:" + new String(cps, i, 3));
            }
        }
        return out;
    }

    /**
     * The buckets of the first {@code maxTokens} tokens of {@code text} in a table of {@code
     * buckets} rows; an empty array for null or blank text.
     */
    public static int[] buckets(String text, int buckets, int maxTokens) {
        List<String> tokens = tokens(text);
        int n = Math.min(tokens.size(), maxTokens);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = bucket(tokens.get(i), buckets);
        }
        return out;
    }

    /** The row of one token in a table of {@code buckets} rows. */
    public static int bucket(String token, int buckets) {
        return Math.floorMod(murmur3(token.getBytes(StandardCharsets.UTF_8), 0), buckets);
    }

    /** MurmurHash3 x86 32-bit of {@code data} (Austin Appleby's reference algorithm). */
    static int murmur3(byte[] data, int seed) {
        final int c1 = 0xcc9e2d51;
        final int c2 = 0x1b873593;
        int h = seed;
        int blocks = data.length / 4;
        for (int i = 0; i < blocks; i++) {
            int j = i * 4;
            int k = (data[j] & 0xff) | (data[j + 1] & 0xff) << 8 | (data[j + 2] & 0xff) << 16 | (data[j + 3] & 0xff) << 24;
            k *= c1;
            k = Integer.rotateLeft(k, 15);
            k *= c2;
            h ^= k;
            h = Integer.rotateLeft(h, 13);
            h = h * 5 + 0xe6546b64;
        }
        int k = 0;
        int tail = blocks * 4;
        switch (data.length & 3) {
            case 3:
                k ^= (data[tail + 2] & 0xff) << 16;
                // fall through
            case 2:
                k ^= (data[tail + 1] & 0xff) << 8;
                // fall through
            case 1:
                k ^= data[tail] & 0xff;
                k *= c1;
                k = Integer.rotateLeft(k, 15);
                k *= c2;
                h ^= k;
                break;
            default:
                break;
        }
        h ^= data.length;
        return IdHashing.mix32(h);
    }
}
