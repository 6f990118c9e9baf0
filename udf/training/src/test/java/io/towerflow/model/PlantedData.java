package io.towerflow.model;

import io.towerflow.records.Action;
import io.towerflow.records.BehaviorEvent;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A small data set with planted structure: every user is interested in one category and acts
 * mostly on that category's items (a few acts go to random items); within a category some items
 * are more popular than others. Time-ordered, seeded, fixed instants.
 */
final class PlantedData {
    static final long T0 = 1_700_000_000_000L;

    final int users;
    final int items;
    final int categories;
    final List<BehaviorEvent> events;

    private PlantedData(int users, int items, int categories, List<BehaviorEvent> events) {
        this.users = users;
        this.items = items;
        this.categories = categories;
        this.events = events;
    }

    static String item(int i) {
        return "i" + i;
    }

    static String category(int c) {
        return "c" + c;
    }

    static String user(int u) {
        return "u" + u;
    }

    static int categoryOfItem(int i, int categories) {
        return i % categories;
    }

    static int interestOfUser(int u, int categories) {
        return u % categories;
    }

    /**
     * @param eventsPerUser acts per user
     * @param noise share of acts on a random item of any category
     */
    static PlantedData generate(int users, int items, int categories, int eventsPerUser, double noise, long seed) {
        Random r = new Random(seed);
        int perCategory = items / categories;
        // cumulative popularity within a category: weight 1 / sqrt(rank + 1)
        double[] cum = new double[perCategory];
        double s = 0;
        for (int j = 0; j < perCategory; j++) {
            s += 1 / Math.sqrt(j + 1);
            cum[j] = s;
        }
        List<BehaviorEvent> events = new ArrayList<>(users * eventsPerUser);
        long ts = T0;
        Action[] actions = {Action.VIEW, Action.VIEW, Action.VIEW, Action.CLICK, Action.CART, Action.PURCHASE};
        for (int round = 0; round < eventsPerUser; round++) {
            for (int u = 0; u < users; u++) {
                int item;
                if (r.nextDouble() < noise) {
                    item = r.nextInt(items);
                } else {
                    double x = r.nextDouble() * s;
                    int j = 0;
                    while (cum[j] < x) {
                        j++;
                    }
                    item = j * categories + interestOfUser(u, categories);
                }
                ts += 1 + r.nextInt(60_000);
                events.add(new BehaviorEvent(user(u), item(item), actions[r.nextInt(actions.length)], ts,
                        category(categoryOfItem(item, categories))));
            }
        }
        return new PlantedData(users, items, categories, events);
    }

    /** A configuration small enough for fast tests. */
    static ModelConfig testConfig() {
        return ModelConfig.defaults().withBuckets(8192, 256, 2048).withHistoryLength(20);
    }
}
