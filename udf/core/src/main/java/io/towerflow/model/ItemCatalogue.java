package io.towerflow.model;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The items a model version knows: id, category (may be null) and how often the item was acted on
 * in the training data (popularity, and the sampling probability of the logQ correction). Stored
 * as {@code items.csv} with header {@code itemId,categoryId,count}; fields holding a comma, quote
 * or line break are quoted as in RFC 4180, an absent category is an empty field. A catalogue whose
 * items have titles (the input of a model with text, see {@link TextConfig}) has a fourth column,
 * {@code itemId,categoryId,count,title}; an absent title is an empty field.
 */
public final class ItemCatalogue {
    public static final String HEADER = "itemId,categoryId,count";
    public static final String HEADER_WITH_TITLES = "itemId,categoryId,count,title";

    private final String[] itemIds;
    private final String[] categoryIds;
    private final long[] counts;
    /** Null when no item has a title. */
    private final String[] titles;

    public ItemCatalogue(String[] itemIds, String[] categoryIds, long[] counts) {
        this(itemIds, categoryIds, counts, null);
    }

    /** A catalogue with item titles ({@code titles} may be null, or hold nulls for items without one). */
    public ItemCatalogue(String[] itemIds, String[] categoryIds, long[] counts, String[] titles) {
        if (itemIds.length != categoryIds.length || itemIds.length != counts.length
                || (titles != null && titles.length != itemIds.length)) {
            throw new IllegalArgumentException("catalogue columns differ in length");
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < itemIds.length; i++) {
            if (itemIds[i] == null || itemIds[i].isEmpty()) {
                throw new IllegalArgumentException("catalogue row " + i + " has no item id");
            }
            if (!seen.add(itemIds[i])) {
                throw new IllegalArgumentException("duplicate item id " + itemIds[i]);
            }
            if (counts[i] < 0) {
                throw new IllegalArgumentException("negative count for item " + itemIds[i]);
            }
        }
        this.itemIds = itemIds.clone();
        this.categoryIds = categoryIds.clone();
        this.counts = counts.clone();
        this.titles = titles == null || Arrays.stream(titles).allMatch(t -> t == null || t.isBlank()) ? null : titles.clone();
    }

    /** The item's title; null when it has none. */
    public String title(int i) {
        return titles == null || titles[i] == null || titles[i].isBlank() ? null : titles[i];
    }

    /** Whether any item has a title. */
    public boolean hasTitles() {
        return titles != null;
    }

    /** The same items with the titles {@code titleOf} gives for their ids (null: none). */
    public ItemCatalogue withTitles(java.util.function.Function<String, String> titleOf) {
        String[] t = new String[itemIds.length];
        for (int i = 0; i < t.length; i++) {
            t[i] = titleOf.apply(itemIds[i]);
        }
        return new ItemCatalogue(itemIds, categoryIds, counts, t);
    }

    public int size() {
        return itemIds.length;
    }

    public String itemId(int i) {
        return itemIds[i];
    }

    /** Null when the item has no category. */
    public String categoryId(int i) {
        return categoryIds[i];
    }

    public long count(int i) {
        return counts[i];
    }

    public String[] itemIds() {
        return itemIds.clone();
    }

    public String[] categoryIds() {
        return categoryIds.clone();
    }

    public long[] counts() {
        return counts.clone();
    }

    public long totalCount() {
        long t = 0;
        for (long c : counts) {
            t += c;
        }
        return t;
    }

    /**
     * This catalogue with {@code more} added: this catalogue's items in their order, then the items
     * only {@code more} holds, in its order. Counts add up; an item's category is {@code more}'s
     * when it has one there (the newer knowledge), else this catalogue's.
     */
    public ItemCatalogue plus(ItemCatalogue more) {
        Map<String, Integer> row = new HashMap<>();
        List<String> ids = new ArrayList<>(List.of(itemIds));
        List<String> cats = new ArrayList<>(Arrays.asList(categoryIds));
        List<Long> cnt = new ArrayList<>(itemIds.length + more.size());
        List<String> tit = new ArrayList<>(itemIds.length + more.size());
        for (int i = 0; i < itemIds.length; i++) {
            row.put(itemIds[i], i);
            cnt.add(counts[i]);
            tit.add(title(i));
        }
        for (int j = 0; j < more.size(); j++) {
            Integer i = row.get(more.itemIds[j]);
            if (i == null) {
                row.put(more.itemIds[j], ids.size());
                ids.add(more.itemIds[j]);
                cats.add(more.categoryIds[j]);
                cnt.add(more.counts[j]);
                tit.add(more.title(j));
            } else {
                cnt.set(i, cnt.get(i) + more.counts[j]);
                if (more.categoryIds[j] != null) {
                    cats.set(i, more.categoryIds[j]);
                }
                if (more.title(j) != null) {
                    tit.set(i, more.title(j));
                }
            }
        }
        return new ItemCatalogue(ids.toArray(new String[0]), cats.toArray(new String[0]),
                cnt.stream().mapToLong(Long::longValue).toArray(), tit.toArray(new String[0]));
    }

    /** The same items, categories and titles with every count 0 (candidates that add no popularity). */
    public ItemCatalogue withoutCounts() {
        return new ItemCatalogue(itemIds, categoryIds, new long[itemIds.length], titles);
    }

    public void write(Path file) throws IOException {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            write(w);
        }
    }

    public void write(Writer out) throws IOException {
        BufferedWriter w = out instanceof BufferedWriter ? (BufferedWriter) out : new BufferedWriter(out);
        w.write(titles == null ? HEADER : HEADER_WITH_TITLES);
        w.write('\n');
        for (int i = 0; i < itemIds.length; i++) {
            w.write(quote(itemIds[i]));
            w.write(',');
            w.write(categoryIds[i] == null ? "" : quote(categoryIds[i]));
            w.write(',');
            w.write(Long.toString(counts[i]));
            if (titles != null) {
                w.write(',');
                w.write(title(i) == null ? "" : quote(title(i)));
            }
            w.write('\n');
        }
        w.flush();
    }

    public static ItemCatalogue read(Path file) throws IOException {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return read(r);
        }
    }

    /** Parses {@code items.csv}; throws {@link IOException} naming the line on any malformation. */
    public static ItemCatalogue read(Reader in) throws IOException {
        BufferedReader r = in instanceof BufferedReader ? (BufferedReader) in : new BufferedReader(in);
        List<String> ids = new ArrayList<>();
        List<String> cats = new ArrayList<>();
        List<Long> counts = new ArrayList<>();
        List<String> titles = new ArrayList<>();
        List<String> fields = new ArrayList<>();
        int record = 0;
        boolean header = true;
        int columns = 3;
        while (readRecord(r, fields)) {
            record++;
            if (header) {
                String h = String.join(",", fields);
                if (!h.equals(HEADER) && !h.equals(HEADER_WITH_TITLES)) {
                    throw new IOException("items.csv: header must be '" + HEADER + "' or '" + HEADER_WITH_TITLES + "'");
                }
                columns = fields.size();
                header = false;
                continue;
            }
            if (fields.size() != columns) {
                throw new IOException("items.csv record " + record + ": expected " + columns + " fields, got " + fields.size());
            }
            titles.add(columns == 4 && !fields.get(3).isEmpty() ? fields.get(3) : null);
            ids.add(fields.get(0));
            cats.add(fields.get(1).isEmpty() ? null : fields.get(1));
            try {
                counts.add(Long.parseLong(fields.get(2)));
            } catch (NumberFormatException e) {
                throw new IOException("items.csv record " + record + ": bad count '" + fields.get(2) + "'");
            }
        }
        if (header) {
            throw new IOException("items.csv is empty (no header)");
        }
        long[] c = new long[counts.size()];
        for (int i = 0; i < c.length; i++) {
            c[i] = counts.get(i);
        }
        try {
            return new ItemCatalogue(ids.toArray(new String[0]), cats.toArray(new String[0]), c,
                    titles.toArray(new String[0]));
        } catch (IllegalArgumentException e) {
            throw new IOException("items.csv: " + e.getMessage());
        }
    }

    static String quote(String s) {
        boolean needs = false;
        for (int i = 0; i < s.length() && !needs; i++) {
            char ch = s.charAt(i);
            needs = ch == ',' || ch == '"' || ch == '\n' || ch == '\r';
        }
        return needs ? '"' + s.replace("\"", "\"\"") + '"' : s;
    }

    /** Reads one CSV record into {@code out}; false at end of input. */
    private static boolean readRecord(BufferedReader r, List<String> out) throws IOException {
        out.clear();
        int ch = r.read();
        if (ch == -1) {
            return false;
        }
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        boolean inQuotes = false;
        while (true) {
            if (inQuotes) {
                if (ch == -1) {
                    throw new IOException("items.csv: unterminated quoted field");
                }
                if (ch == '"') {
                    r.mark(1);
                    int next = r.read();
                    if (next == '"') {
                        field.append('"');
                    } else {
                        inQuotes = false;
                        if (next != -1) {
                            r.reset();
                        }
                    }
                } else {
                    field.append((char) ch);
                }
            } else if (ch == '"' && field.length() == 0 && !quoted) {
                inQuotes = true;
                quoted = true;
            } else if (ch == ',') {
                out.add(field.toString());
                field.setLength(0);
                quoted = false;
            } else if (ch == '\n' || ch == -1) {
                out.add(field.toString());
                return true;
            } else if (ch == '\r') {
                // tolerate CRLF
            } else {
                field.append((char) ch);
            }
            ch = r.read();
        }
    }
}
