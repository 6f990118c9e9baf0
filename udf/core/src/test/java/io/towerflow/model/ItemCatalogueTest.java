package io.towerflow.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;

class ItemCatalogueTest {
    @Test
    void roundTripsAwkwardIdsAndMissingCategories() throws IOException {
        ItemCatalogue c = new ItemCatalogue(
                new String[] {"1", "a,b", "say \"hi\"", "line\nbreak", "ünï"},
                new String[] {"7", null, "c,1", "\"", "x"},
                new long[] {3, 0, 1, 2, 99});
        StringWriter w = new StringWriter();
        c.write(w);
        assertTrue(w.toString().startsWith(ItemCatalogue.HEADER + "\n1,7,3\n"));
        ItemCatalogue back = ItemCatalogue.read(new StringReader(w.toString()));
        assertArrayEquals(c.itemIds(), back.itemIds());
        assertArrayEquals(c.categoryIds(), back.categoryIds());
        assertArrayEquals(c.counts(), back.counts());
        assertEquals(105, back.totalCount());
    }

    @Test
    void titlesAreAFourthColumnOnlyWhenAnyItemHasOne() throws IOException {
        ItemCatalogue c = new ItemCatalogue(new String[] {"1", "2", "3"}, new String[] {"7", null, "8"},
                new long[] {3, 0, 1}, new String[] {"red shoes, size 42", null, "红色 连衣裙"});
        StringWriter w = new StringWriter();
        c.write(w);
        assertEquals(ItemCatalogue.HEADER_WITH_TITLES + "\n1,7,3,\"red shoes, size 42\"\n2,,0,\n3,8,1,红色 连衣裙\n", w.toString());
        ItemCatalogue back = ItemCatalogue.read(new StringReader(w.toString()));
        assertEquals("red shoes, size 42", back.title(0));
        assertEquals(null, back.title(1));
        assertEquals("红色 连衣裙", back.plus(new ItemCatalogue(new String[] {"4"}, new String[] {"9"}, new long[] {1})).title(2));
        StringWriter plain = new StringWriter();
        new ItemCatalogue(new String[] {"1"}, new String[] {"7"}, new long[] {3}, new String[] {null}).write(plain);
        assertEquals(ItemCatalogue.HEADER + "\n1,7,3\n", plain.toString(), "no titles: the file of before");
    }

    @Test
    void refusesMalformedFiles() {
        assertThrows(IOException.class, () -> ItemCatalogue.read(new StringReader("")));
        assertThrows(IOException.class, () -> ItemCatalogue.read(new StringReader("id,count\n")));
        assertThrows(IOException.class,
                () -> ItemCatalogue.read(new StringReader(ItemCatalogue.HEADER + "\n1,2\n")));
        assertThrows(IOException.class,
                () -> ItemCatalogue.read(new StringReader(ItemCatalogue.HEADER + "\n1,2,x\n")));
        assertThrows(IOException.class,
                () -> ItemCatalogue.read(new StringReader(ItemCatalogue.HEADER + "\n1,2,3\n1,2,3\n")));
        assertThrows(IOException.class,
                () -> ItemCatalogue.read(new StringReader(ItemCatalogue.HEADER + "\n\"1,2,3\n")));
    }

    @Test
    void plusKeepsTheOrderAddsCountsAndTakesNewerCategories() {
        ItemCatalogue parent = new ItemCatalogue(
                new String[] {"1", "2", "3"}, new String[] {"a", "b", null}, new long[] {10, 20, 30});
        ItemCatalogue window = new ItemCatalogue(
                new String[] {"9", "2", "3"}, new String[] {"z", null, "c"}, new long[] {1, 2, 3});
        ItemCatalogue both = parent.plus(window);
        assertArrayEquals(new String[] {"1", "2", "3", "9"}, both.itemIds());
        assertArrayEquals(new String[] {"a", "b", "c", "z"}, both.categoryIds(),
                "a category from the window wins, an absent one does not erase the parent's");
        assertArrayEquals(new long[] {10, 22, 33, 1}, both.counts());
        assertArrayEquals(new long[] {0, 0, 0, 0}, both.withoutCounts().counts());
        assertArrayEquals(both.itemIds(), both.withoutCounts().itemIds());
    }
}
