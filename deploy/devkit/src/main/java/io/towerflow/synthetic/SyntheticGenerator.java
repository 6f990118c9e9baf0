package io.towerflow.synthetic;

import io.towerflow.records.Action;
import io.towerflow.records.BehaviorEvent;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.IntPredicate;
import java.util.function.IntUnaryOperator;

/**
 * A seeded stream of behaviour events with a planted structure, and the oracle that knows it, so
 * that quality can be measured against ground truth:
 *
 * <ul>
 *   <li>item {@code i} (1-based id) belongs to category {@code (i - 1) % categories} and has rank
 *       {@code (i - 1) / categories} in it; popularity falls with rank as a power law;
 *   <li>within a category, items fall into {@link Config#tastesPerCategory} taste groups (rank
 *       modulo the number of groups); every user prefers one group in every category;
 *   <li>each user has a few interest categories; interests and tastes are derived from the seed
 *       and the user id (no per-user memory, so it scales to millions of users and items);
 *   <li>users act in sessions, at most one open session per user; a session follows one of the
 *       user's interests and, with {@link Config#shiftProbability}, shifts half-way to another,
 *       random category (the intent shift);
 *   <li>an event's item is, with probability {@link Config#noise}, a globally popular item;
 *       otherwise an item of the session's category: from the user's taste group with probability
 *       {@link Config#tasteStrength}, from the whole category else, by popularity either way;
 *   <li>sessions of many users interleave, and event time advances monotonically;
 *   <li>with {@link Config#driftEvery} &gt; 0 the population drifts: every that many events an
 *       epoch passes, every user's interest categories are drawn anew, and the popularity order
 *       within each category rotates (per taste group, by a seeded offset per category and epoch),
 *       so that the items that trend in a new epoch are ones that were rarely acted on before.
 *       Item ids, categories and taste groups stay; an open session keeps its category.
 * </ul>
 *
 * {@link #labeled} yields each event with the user's latent state after it ({@link UserState}),
 * and {@link #oracleTopK} ranks items by their true generating probability given such a state.
 * Memory is bounded by the number of concurrently open sessions.
 */
public final class SyntheticGenerator {

    /** Generator parameters; the defaults make a small demo catalogue. */
    public static final class Config {
        public int users = 10_000;
        public int items = 20_000;
        public int categories = 100;
        public int interestsPerUser = 2;
        /** Taste groups per category (rank modulo this); each user prefers one in each category. */
        public int tastesPerCategory = 4;
        /** Share of in-category acts that go to the user's taste group. */
        public double tasteStrength = 0.5;
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
        /**
         * Population drift: every this many events an epoch passes (interests are drawn anew,
         * popularity within categories rotates); 0 = none, the stationary world.
         */
        public long driftEvery = 0;
        /**
         * Share of events that are searches (0: none, the stream of before): the session jumps to
         * a random category, the search carries a query from that category's vocabulary (see
         * {@link #query}) and no item, and the session's next acts follow that category.
         */
        public double searchRate = 0;
    }

    /** Exponent of the global popularity of noise items. */
    private static final double GLOBAL_SKEW = 3.0;
    /** Exponent of how often users are active (user 1 most). */
    private static final double USER_SKEW = 1.3;

    /**
     * A user's latent state after one of the user's events: the category the open session
     * follows, how many events it has left ({@code remaining = 0}: none open; the user's next event
     * starts a new session), at which {@code remaining} count it shifts (-1: no shift pending), and
     * the drift epoch the world was in (0 without drift), which decides the user's interests and
     * the popularity order of items.
     */
    public record UserState(int user, int category, int remaining, int shiftAt, int epoch) {
        /** A state in epoch 0 (the world without drift). */
        public UserState(int user, int category, int remaining, int shiftAt) {
            this(user, category, remaining, shiftAt, 0);
        }

        /** A user with no open session. */
        public static UserState idle(int user) {
            return idle(user, 0);
        }

        /** A user with no open session in a drift epoch. */
        public static UserState idle(int user, int epoch) {
            return new UserState(user, -1, 0, -1, epoch);
        }
    }

    /** An event and the latent state of its user right after it. */
    public record Labeled(BehaviorEvent event, UserState state) {}

    /** Items best first with their oracle scores. */
    public record Ranking(int[] items, double[] scores) {}

    private final Config cfg;
    private final int tastes;

    public SyntheticGenerator(Config cfg) {
        if (cfg.items < cfg.categories || cfg.categories < 2 || cfg.users < 1) {
            throw new IllegalArgumentException(
                    "need users >= 1, categories >= 2 and items >= categories");
        }
        if (cfg.interestsPerUser < 1 || cfg.tastesPerCategory < 1) {
            throw new IllegalArgumentException("need interestsPerUser >= 1 and tastesPerCategory >= 1");
        }
        if (!(cfg.meanSessionLength >= 1)) {
            throw new IllegalArgumentException("need meanSessionLength >= 1");
        }
        if (cfg.driftEvery < 0) {
            throw new IllegalArgumentException("need driftEvery >= 0");
        }
        this.cfg = cfg;
        // every category must have at least one item in each group
        this.tastes = Math.min(cfg.tastesPerCategory, cfg.items / cfg.categories);
    }

    public Config config() {
        return cfg;
    }

    /** The category id of an item id made by this generator. */
    public String categoryOf(String itemId) {
        return Integer.toString(categoryOf(Integer.parseInt(itemId)));
    }

    public int categoryOf(int item) {
        return (item - 1) % cfg.categories;
    }

    /**
     * Base rank of an item within its category: its popularity rank in epoch 0 (0 = most
     * popular); its taste group is this rank modulo the number of groups, in every epoch.
     */
    public int rankOf(int item) {
        return (item - 1) / cfg.categories;
    }

    /** The item of a category and base rank. */
    public int item(int category, int rank) {
        return 1 + category + rank * cfg.categories;
    }

    /**
     * Popularity rank of an item within its category in a drift epoch (0 = most popular; in epoch
     * 0 its base rank). Drift rotates the order within each taste group, so the rank keeps the
     * item's group: rank = group + groups · ((index in group − offset) mod group size).
     */
    public int popularityRank(int item, int epoch) {
        int r = rankOf(item);
        if (epoch == 0) {
            return r;
        }
        int c = categoryOf(item);
        int g = r % tastes;
        int n = perGroup(c, g);
        return g + tastes * (int) Math.floorMod(r / tastes - trendOffset(c, epoch), (long) n);
    }

    /** The item of a category at a popularity rank in a drift epoch (inverse of {@link #popularityRank}). */
    public int itemAt(int category, int rank, int epoch) {
        if (epoch == 0) {
            return item(category, rank);
        }
        int g = rank % tastes;
        int n = perGroup(category, g);
        return item(category, g + tastes * (int) Math.floorMod(rank / tastes + trendOffset(category, epoch), (long) n));
    }

    /** How far the popularity order of a category has rotated in an epoch (0 in epoch 0). */
    private long trendOffset(int category, int epoch) {
        return epoch == 0 ? 0 : mix(cfg.seed * 0xC2B2AE3D27D4EB4FL + category * 0x165667B19E3779F9L + epoch) >>> 1;
    }

    /** The drift epoch of the {@code n}-th event of the stream (0-based); 0 without drift. */
    public int epochOf(long n) {
        return cfg.driftEvery <= 0 ? 0 : (int) (n / cfg.driftEvery);
    }

    /** The {@code n}-th interest category of a user (0 <= n < interestsPerUser) in epoch 0. */
    public int interest(int user, int n) {
        return interest(user, n, 0);
    }

    /** The {@code n}-th interest category of a user in a drift epoch. */
    public int interest(int user, int n, int epoch) {
        long h = mix(cfg.seed * 0x9E3779B97F4A7C15L + user * 31L + n
                + (epoch == 0 ? 0 : mix(epoch * 0x632BE59BD9B4E019L)));
        return (int) Math.floorMod(h, (long) cfg.categories);
    }

    /** The taste group a user prefers in a category (0 <= group < the number of groups). */
    public int taste(int user, int category) {
        long h = mix(cfg.seed * 0xD6E8FEB86659FD93L + user * 0x9E3779B97F4A7C15L + category);
        return (int) Math.floorMod(h, (long) tastes);
    }

    /** A time-ordered stream of {@code count} events. */
    public Iterator<BehaviorEvent> events(long count) {
        Iterator<Labeled> labeled = labeled(count);
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return labeled.hasNext();
            }

            @Override
            public BehaviorEvent next() {
                return labeled.next().event();
            }
        };
    }

    /** The same stream as {@link #events}, each event with its user's latent state after it. */
    public Iterator<Labeled> labeled(long count) {
        return new EventIterator(count);
    }

    /**
     * A planted intent: {@code length} events of {@code user} in {@code category}, one every
     * {@code gapMs} from {@code startTs}, drawn as the generator draws in-category acts (taste
     * and popularity, no noise), all views. Seeded by {@code seed}.
     */
    public List<BehaviorEvent> plantedSession(int user, int category, int length, long startTs, long gapMs, long seed) {
        SplittableRandom rnd = new SplittableRandom(mix(seed ^ cfg.seed));
        List<BehaviorEvent> out = new ArrayList<>(length);
        for (int i = 0; i < length; i++) {
            int item = itemIn(user, category, 0, rnd);
            out.add(new BehaviorEvent(Integer.toString(user), Integer.toString(item), Action.VIEW,
                    startTs + i * gapMs, Integer.toString(category)));
        }
        return out;
    }

    // ------------------------------------------------------------------ the generating process

    private int perCategory(int category) {
        return (cfg.items - 1 - category) / cfg.categories + 1;
    }

    private int perGroup(int category, int group) {
        return (perCategory(category) - 1 - group) / tastes + 1;
    }

    /** floor(u^exponent · n) for u uniform in [0, 1): a value in [0, n) concentrated near 0. */
    private static int skewedIndex(SplittableRandom rnd, double exponent, int n) {
        return (int) Math.min(n - 1, Math.floor(Math.pow(rnd.nextDouble(), exponent) * n));
    }

    /** P(skewedIndex(exponent, n) = j). */
    private static double skewedProbability(int j, double exponent, int n) {
        return Math.pow((j + 1) / (double) n, 1 / exponent) - Math.pow(j / (double) n, 1 / exponent);
    }

    private int itemIn(int user, int category, int epoch, SplittableRandom rnd) {
        int rank;
        if (rnd.nextDouble() < cfg.tasteStrength) {
            int g = taste(user, category);
            rank = g + tastes * skewedIndex(rnd, cfg.popularitySkew, perGroup(category, g));
        } else {
            rank = skewedIndex(rnd, cfg.popularitySkew, perCategory(category));
        }
        return itemAt(category, rank, epoch);
    }

    private int popularItem(SplittableRandom rnd) {
        return 1 + skewedIndex(rnd, GLOBAL_SKEW, cfg.items);
    }

    /** Probability that an in-category act of {@code user} in the item's category picks the item (epoch 0). */
    public double inCategoryProbability(int user, int item) {
        return inCategoryProbability(user, item, 0);
    }

    /** Probability that an in-category act of {@code user} in a drift epoch picks the item. */
    public double inCategoryProbability(int user, int item, int epoch) {
        int c = categoryOf(item);
        int r = popularityRank(item, epoch);
        double p = (1 - cfg.tasteStrength) * skewedProbability(r, cfg.popularitySkew, perCategory(c));
        int g = taste(user, c);
        if (r % tastes == g) {
            p += cfg.tasteStrength * skewedProbability(r / tastes, cfg.popularitySkew, perGroup(c, g));
        }
        return p;
    }

    /** Probability that a noise act picks the item. */
    public double popularProbability(int item) {
        return skewedProbability(item - 1, GLOBAL_SKEW, cfg.items);
    }

    // ------------------------------------------------------------------ text

    /** Words of a category's vocabulary; every fifth category speaks Chinese (two Han characters a word). */
    static final int WORDS_PER_CATEGORY = 4;
    private static final String[] SYLLABLES = {"ka", "lo", "mi", "ten", "ru", "sa", "vo", "ne", "pi", "dor",
        "ga", "lu", "zen", "fa", "ri", "mo", "ta", "ke", "shi", "bel", "an", "ox", "qu", "wy"};

    /** The {@code k}-th word of category {@code c} ({@code k >= WORDS_PER_CATEGORY}: its taste words). */
    public String word(int category, int k) {
        long h = mix(cfg.seed * 0x2545F4914F6CDD1DL + category * 1_000_003L + k);
        StringBuilder w = new StringBuilder();
        if (category % 5 == 0) {
            for (int i = 0; i < 2; i++, h >>>= 16) {
                w.appendCodePoint(0x4E00 + (int) Math.floorMod(h, 20_000L));
            }
        } else {
            for (int i = 0; i < 3; i++, h >>>= 8) {
                w.append(SYLLABLES[(int) Math.floorMod(h, (long) SYLLABLES.length)]);
            }
        }
        return w.toString();
    }

    /** The word of a taste group in a category. */
    public String tasteWord(int category, int group) {
        return word(category, WORDS_PER_CATEGORY + group);
    }

    /** An item's title: two words of its category and the word of its taste group. */
    public String title(int item) {
        int c = categoryOf(item);
        int r = rankOf(item);
        int a = (int) Math.floorMod(mix(item * 0x9E3779B97F4A7C15L + cfg.seed), (long) WORDS_PER_CATEGORY);
        return word(c, a) + " " + word(c, (a + 1 + r % (WORDS_PER_CATEGORY - 1)) % WORDS_PER_CATEGORY)
                + " " + tasteWord(c, r % tastes);
    }

    /**
     * A title for an item added to category {@code category} later (not one of the generator's
     * items): two words of the category and the word of a random taste group, as {@link #title(int)}.
     */
    public String newTitle(int category, SplittableRandom rnd) {
        int a = rnd.nextInt(WORDS_PER_CATEGORY);
        return word(category, a) + " " + word(category, (a + 1 + rnd.nextInt(WORDS_PER_CATEGORY - 1)) % WORDS_PER_CATEGORY)
                + " " + tasteWord(category, rnd.nextInt(tastes));
    }

    /** Categories of this world. */
    public int categories() {
        return cfg.categories;
    }

    /** The title of an item id made by this generator. */
    public String title(String itemId) {
        return title(Integer.parseInt(itemId));
    }

    /**
     * A search for {@code category}: one or two of its words, half the time the word of the
     * user's taste group there; with probability 0.15 a typo (two neighbouring characters of one
     * word swapped), with 0.1 a word of another category mixed in (a mixed intent).
     */
    public String query(int user, int category, SplittableRandom rnd) {
        List<String> words = new ArrayList<>();
        words.add(word(category, rnd.nextInt(WORDS_PER_CATEGORY)));
        if (rnd.nextBoolean()) {
            words.add(word(category, rnd.nextInt(WORDS_PER_CATEGORY)));
        }
        if (rnd.nextBoolean()) {
            words.add(tasteWord(category, taste(user, category)));
        }
        if (rnd.nextDouble() < 0.1) {
            words.add(word((category + 1 + rnd.nextInt(cfg.categories - 1)) % cfg.categories, rnd.nextInt(WORDS_PER_CATEGORY)));
        }
        if (rnd.nextDouble() < 0.15) {
            int i = rnd.nextInt(words.size());
            String w = words.get(i);
            int j = rnd.nextInt(w.length() - 1);
            words.set(i, w.substring(0, j) + w.charAt(j + 1) + w.charAt(j) + w.substring(j + 2));
        }
        return String.join(" ", words);
    }

    // ------------------------------------------------------------------ the oracle

    /**
     * Expected share of the user's next {@code horizon} events that follow each category, given
     * the state: the open session's category for as many events as it has left before it ends or
     * shifts, then new sessions, which pick one of the user's interests (each new session shifts
     * away half-way with {@link Config#shiftProbability}). Shares that a shift spreads over
     * unknown random categories are left out: no ranking can use them.
     */
    public Map<Integer, Double> categoryShares(UserState s, int horizon) {
        Map<Integer, Double> shares = new LinkedHashMap<>();
        int h = Math.max(1, horizon);
        int stay = 0;
        if (s.remaining() > 0) {
            stay = Math.min(h, s.shiftAt() > 0 ? s.remaining() - s.shiftAt() : s.remaining());
            if (stay > 0) {
                shares.merge(s.category(), stay / (double) h, Double::sum);
            }
        }
        int rest = s.remaining() > 0 ? h - Math.min(h, s.remaining()) : h;
        if (rest > 0) {
            double perInterest = rest / (double) h * (1 - cfg.shiftProbability / 2) / cfg.interestsPerUser;
            for (int n = 0; n < cfg.interestsPerUser; n++) {
                shares.merge(interest(s.user(), n, s.epoch()), perInterest, Double::sum);
            }
        }
        return shares;
    }

    /**
     * The oracle's score of an item: its expected share of the user's next {@code horizon} events,
     * (1 − noise) · share of its category · in-category probability + noise · popular
     * probability (see {@link #categoryShares}).
     */
    public double oracleScore(UserState s, int horizon, int item) {
        return score(categoryShares(s, horizon), s, item);
    }

    private double score(Map<Integer, Double> shares, UserState s, int item) {
        double share = shares.getOrDefault(categoryOf(item), 0.0);
        double p = cfg.noise * popularProbability(item);
        return share == 0 ? p : p + (1 - cfg.noise) * share * inCategoryProbability(s.user(), item, s.epoch());
    }

    /**
     * The {@code k} items with the highest {@link #oracleScore} among those {@code allowed}, best
     * first (ties by item id), over the whole catalogue without scoring all of it: within a
     * category both terms of the score fall with rank, and within a taste group too, so the top
     * {@code k} allowed items of each weighted category, of the user's taste group in it and of
     * the global popularity order hold the answer. After a drift the in-category term follows the
     * epoch's popularity order and the noise term still the base order, so every item of the
     * weighted categories is scored instead (a category's size each).
     */
    public Ranking oracleTopK(UserState s, int horizon, int k, IntPredicate allowed) {
        Map<Integer, Double> shares = categoryShares(s, horizon);
        Set<Integer> candidates = new HashSet<>();
        for (int c : shares.keySet()) {
            int per = perCategory(c);
            if (s.epoch() != 0) {
                take(per, allowed, candidates, per, r -> item(c, r));
                continue;
            }
            take(k, allowed, candidates, per, r -> item(c, r));
            int g = taste(s.user(), c);
            take(k, allowed, candidates, perGroup(c, g), j -> item(c, g + j * tastes));
        }
        take(k, allowed, candidates, cfg.items, j -> j + 1);
        Integer[] items = candidates.toArray(new Integer[0]);
        Map<Integer, Double> scores = new HashMap<>();
        for (int item : items) {
            scores.put(item, score(shares, s, item));
        }
        Arrays.sort(items, (a, b) -> {
            int c = Double.compare(scores.get(b), scores.get(a));
            return c != 0 ? c : Integer.compare(a, b);
        });
        int n = Math.min(k, items.length);
        int[] top = new int[n];
        double[] topScores = new double[n];
        for (int i = 0; i < n; i++) {
            top[i] = items[i];
            topScores[i] = scores.get(items[i]);
        }
        return new Ranking(top, topScores);
    }

    /** Adds the first {@code k} allowed of {@code itemAt(0 .. length-1)} to {@code out}. */
    private static void take(int k, IntPredicate allowed, Set<Integer> out, int length,
            IntUnaryOperator itemAt) {
        int found = 0;
        for (int j = 0; j < length && found < k; j++) {
            int item = itemAt.applyAsInt(j);
            if (allowed.test(item)) {
                out.add(item);
                found++;
            }
        }
    }

    // ------------------------------------------------------------------ the stream

    private final class EventIterator implements Iterator<Labeled> {
        private final long count;
        private final SplittableRandom rnd = new SplittableRandom(cfg.seed);
        private final Session[] sessions = new Session[Math.max(1, Math.min(cfg.concurrentSessions, cfg.users / 2))];
        private final Set<Integer> open = new HashSet<>();
        private long emitted;
        private long clock = cfg.startTs;

        EventIterator(long count) {
            this.count = count;
            for (int i = 0; i < sessions.length; i++) {
                sessions[i] = newSession(0);
            }
        }

        @Override
        public boolean hasNext() {
            return emitted < count;
        }

        @Override
        public Labeled next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            int epoch = epochOf(emitted);
            int slot = rnd.nextInt(sessions.length);
            Session s = sessions[slot];
            if (s.remaining == s.shiftAt) {
                s.category = otherCategory(s.category);
                s.shiftAt = -1;
            }
            if (cfg.searchRate > 0 && rnd.nextDouble() < cfg.searchRate) {
                return search(s, slot, epoch);
            }
            BehaviorEvent e = new BehaviorEvent();
            e.userId = Integer.toString(s.user);
            int item = rnd.nextDouble() < cfg.noise ? popularItem(rnd) : itemIn(s.user, s.category, epoch, rnd);
            e.itemId = Integer.toString(item);
            e.categoryId = Integer.toString(categoryOf(item));
            e.action = action();
            clock += 1 + (long) (-Math.log(1 - rnd.nextDouble()) * cfg.meanGapMs);
            e.ts = clock;
            e.sessionId = e.userId + "-" + s.id;
            s.remaining--;
            UserState state = s.remaining > 0
                    ? new UserState(s.user, s.category, s.remaining, s.shiftAt, epoch)
                    : UserState.idle(s.user, epoch);
            if (s.remaining <= 0) {
                open.remove(s.user);
                sessions[slot] = newSession(epochOf(emitted + 1));
            }
            emitted++;
            return new Labeled(e, state);
        }

        /** A query-only search that moves the session to a random category for at least 3 more acts. */
        private Labeled search(Session s, int slot, int epoch) {
            s.category = otherCategory(s.category);
            s.shiftAt = -1;
            s.remaining = Math.max(s.remaining, 4);
            BehaviorEvent e = new BehaviorEvent();
            e.userId = Integer.toString(s.user);
            e.action = Action.SEARCH;
            e.query = query(s.user, s.category, rnd);
            clock += 1 + (long) (-Math.log(1 - rnd.nextDouble()) * cfg.meanGapMs);
            e.ts = clock;
            e.sessionId = e.userId + "-" + s.id;
            s.remaining--;
            emitted++;
            return new Labeled(e, new UserState(s.user, s.category, s.remaining, s.shiftAt, epoch));
        }

        private Session newSession(int epoch) {
            Session s = new Session();
            do {
                s.user = 1 + skewedIndex(rnd, USER_SKEW, cfg.users);
            } while (!open.add(s.user));
            s.id = rnd.nextInt(1 << 30);
            s.category = interest(s.user, rnd.nextInt(cfg.interestsPerUser), epoch);
            s.remaining = 1 + (int) (-Math.log(1 - rnd.nextDouble()) * (cfg.meanSessionLength - 1));
            s.shiftAt = rnd.nextDouble() < cfg.shiftProbability && s.remaining > 2
                    ? s.remaining / 2
                    : -1;
            return s;
        }

        private int otherCategory(int current) {
            return (current + 1 + rnd.nextInt(cfg.categories - 1)) % cfg.categories;
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
