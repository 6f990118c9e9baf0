package io.towerflow.devkit.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.records.Action;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.JsonCodec;
import io.towerflow.synthetic.SyntheticGenerator;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;

import org.junit.jupiter.api.Test;

/** {@code --act-on-shown}: simulated users who click what they were shown. */
class EventFeedTest {
    private static BehaviorEvent view(String user, String item) {
        BehaviorEvent e = new BehaviorEvent();
        e.userId = user;
        e.itemId = item;
        e.categoryId = "7";
        e.action = Action.VIEW;
        e.ts = 1_000;
        return e;
    }

    @Test
    void aUserWithAVisibleListClicksOneOfItsItems() {
        String[] shown = {"a", "b", "c", "d"};
        UnaryOperator<BehaviorEvent> react = EventFeed.actOnShown(1.0, Map.of("u1", shown)::get, 3);
        Set<String> clicked = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            BehaviorEvent e = react.apply(view("u1", "x"));
            assertEquals(Action.CLICK, e.action);
            assertTrue(List.of(shown).contains(e.itemId), e.itemId);
            assertNull(e.categoryId, "the feed does not know a shown item's category");
            assertEquals("u1", e.userId);
            assertEquals(1_000, e.ts);
            clicked.add(e.itemId);
        }
        assertEquals(Set.of(shown), clicked, "every slot gets clicked");
    }

    @Test
    void usersWithoutAListAndTheOthersActAsGenerated() {
        UnaryOperator<BehaviorEvent> react = EventFeed.actOnShown(1.0, Map.<String, String[]>of()::get, 3);
        BehaviorEvent e = view("u2", "x");
        assertSame(e, react.apply(e));
        assertEquals("x", e.itemId);
        UnaryOperator<BehaviorEvent> never = EventFeed.actOnShown(0.0, Map.of("u1", new String[] {"a"})::get, 3);
        assertEquals("x", never.apply(view("u1", "x")).itemId);
        // the share follows p
        UnaryOperator<BehaviorEvent> some = EventFeed.actOnShown(0.3, Map.of("u1", new String[] {"a"})::get, 3);
        int clicks = 0;
        for (int i = 0; i < 10_000; i++) {
            clicks += some.apply(view("u1", "x")).action == Action.CLICK ? 1 : 0;
        }
        assertEquals(0.3, clicks / 10_000.0, 0.02);
    }

    @Test
    void newItemsAreTitledFromTheirCategorysVocabulary() {
        SyntheticGenerator.Config cfg = new SyntheticGenerator.Config();
        cfg.categories = 10;
        cfg.items = 200;
        cfg.users = 50;
        SyntheticGenerator g = new SyntheticGenerator(cfg);
        Set<String> vocabulary = new HashSet<>();
        for (int k = 0; k < 100; k++) { // its words and every taste word
            vocabulary.add(g.word(3, k));
        }
        String title = g.newTitle(3, new SplittableRandom(1));
        String[] words = title.split(" ");
        assertEquals(3, words.length, title);
        for (String w : words) {
            assertTrue(vocabulary.contains(w), w + " of " + title);
        }
        // and a valid catalogue record
        assertTrue(new String(JsonCodec.catalogueItem(new io.towerflow.records.CatalogueItem("n1", "3", true, title)),
                java.nio.charset.StandardCharsets.UTF_8).contains(title));
    }
}
