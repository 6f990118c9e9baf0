package io.towerflow.synthetic;

import io.towerflow.records.Action;
import io.towerflow.records.BehaviorEvent;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

/**
 * A seeded stream of behaviour events with a planted structure, so that quality can be measured
 * against ground truth:
 *
 * <ul>
 *   <li>item {@code i} (1-based id) belongs to category {@code (i - 1) % categories}; within a
 *       category, popularity follows a power law (low ranks are popular);
 *   <li>each user has a few interest categories, derived from the seed and the user id (no
 *       per-user memory, so it scales to millions of users);
 *   <li>users act in sessions; a session follows one interest and, with {@link
 *       Config#shiftProbability}, shifts mid-session to another category;
 *   <li>sessions of many users interleave, and event time advances monotonically.
 * </ul>
 *
 * Memory is bounded by the number of concurrently open sessions.
 */
public final class SyntheticGenerator {

    /** Generator parameters; the defaults make a small demo catalogue. */
    public static final class Config {
        public int users = 10_000;
        public int items = 20_000;
        public int categories = 100;
        public int interestsPerUser = 2;
        /** Probability that a session's intent shifts to another category half-way. */
        public double shiftProbability = 0.3;
        /** Share of events that go to a globally popular item instead of the session's category. */
        public double noise = 0.1;
        public double meanSessionLength = 8;
        public int concurrentSessions = 64;
        /** Power-law exponent of item popularity within a category (greater is more skewed). */
        public double popularitySkew = 2.0;
        public long startTs = 1_764_547_200_000L; // 2025-12-01T00:00:00Z
        public long meanGapMs = 20;
        public long seed = 42;
    }

    private final Config cfg;

    public SyntheticGenerator(Config cfg) {
        if (cfg.items < cfg.categories || cfg.categories < 2 || cfg.users < 1) {
            throw new IllegalArgumentException(
                    "need users >= 1, categories >= 2 and items >= categories");
        }
        this.cfg = cfg;
    }

    public Config config() {
        return cfg;
    }

    /** The category id of an item id made by this generator. */
    public String categoryOf(String itemId) {
        return Integer.toString((Integer.parseInt(itemId) - 1) % cfg.categories);
    }

    /** The {@code n}-th interest category of a user (0 <= n < interestsPerUser). */
    public int interest(int user, int n) {
        long h = mix(cfg.seed * 0x9E3779B97F4A7C15L + user * 31L + n);
        return (int) Math.floorMod(h, (long) cfg.categories);
    }

    /** A time-ordered stream of {@code count} events. */
    public Iterator<BehaviorEvent> events(long count) {
        return new EventIterator(count);
    }

    private final class EventIterator implements Iterator<BehaviorEvent> {
        private final long count;
        private final SplittableRandom rnd = new SplittableRandom(cfg.seed);
        private final Session[] sessions = new Session[Math.max(1, cfg.concurrentSessions)];
        private long emitted;
        private long clock = cfg.startTs;

        EventIterator(long count) {
            this.count = count;
            for (int i = 0; i < sessions.length; i++) {
                sessions[i] = newSession();
            }
        }

        @Override
        public boolean hasNext() {
            return emitted < count;
        }

        @Override
        public BehaviorEvent next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            int slot = rnd.nextInt(sessions.length);
            Session s = sessions[slot];
            if (s.remaining == s.shiftAt) {
                s.category = otherCategory(s.category);
            }
            BehaviorEvent e = new BehaviorEvent();
            e.userId = Integer.toString(s.user);
            int item = rnd.nextDouble() < cfg.noise ? popularItem() : itemIn(s.category);
            e.itemId = Integer.toString(item);
            e.categoryId = Integer.toString((item - 1) % cfg.categories);
            e.action = action();
            clock += 1 + (long) (-Math.log(1 - rnd.nextDouble()) * cfg.meanGapMs);
            e.ts = clock;
            e.sessionId = e.userId + "-" + s.id;
            if (--s.remaining <= 0) {
                sessions[slot] = newSession();
            }
            emitted++;
            return e;
        }

        private Session newSession() {
            Session s = new Session();
            s.user = 1 + (int) Math.min(cfg.users - 1, Math.floor(skewed(1.3) * cfg.users));
            s.id = rnd.nextInt(1 << 30);
            s.category = interest(s.user, rnd.nextInt(cfg.interestsPerUser));
            s.remaining = 1 + (int) (-Math.log(1 - rnd.nextDouble()) * (cfg.meanSessionLength - 1));
            s.shiftAt = rnd.nextDouble() < cfg.shiftProbability && s.remaining > 2
                    ? s.remaining / 2
                    : -1;
            return s;
        }

        private int otherCategory(int current) {
            return (current + 1 + rnd.nextInt(cfg.categories - 1)) % cfg.categories;
        }

        /** A value in [0, 1), concentrated near 0 for exponent > 1. */
        private double skewed(double exponent) {
            return Math.pow(rnd.nextDouble(), exponent);
        }

        private int itemIn(int category) {
            int perCategory = (cfg.items - 1 - category) / cfg.categories + 1;
            int rank = (int) Math.min(perCategory - 1, Math.floor(skewed(cfg.popularitySkew) * perCategory));
            return 1 + category + rank * cfg.categories;
        }

        private int popularItem() {
            return 1 + (int) Math.min(cfg.items - 1, Math.floor(skewed(3.0) * cfg.items));
        }

        private Action action() {
            double u = rnd.nextDouble();
            if (u < 0.80) {
                return Action.VIEW;
            } else if (u < 0.90) {
                return Action.CLICK;
            } else if (u < 0.95) {
                return Action.CART;
            } else if (u < 0.98) {
                return Action.FAV;
            }
            return Action.PURCHASE;
        }
    }

    private static final class Session {
        int user;
        int id;
        int category;
        int remaining;
        int shiftAt;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
