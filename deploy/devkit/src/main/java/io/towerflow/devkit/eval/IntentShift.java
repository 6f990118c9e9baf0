package io.towerflow.devkit.eval;

import io.towerflow.config.ModelOptions;
import io.towerflow.config.RecommendOptions;
import io.towerflow.eval.EvalCase;
import io.towerflow.job.RecommendationPipeline;
import io.towerflow.model.ServingModel;
import io.towerflow.model.UserQuery;
import io.towerflow.model.UserResult;
import io.towerflow.records.Action;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.JsonCodec;
import io.towerflow.records.RawRecord;
import io.towerflow.records.Recommendation;
import io.towerflow.records.ScoredItem;
import io.towerflow.synthetic.SyntheticGenerator;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * How fast the lists follow a planted intent shift. Each user's real history (the query of an
 * evaluation case) is followed by {@code eventsAfter} views in a category the user has never been
 * interested in; after the k-th of them, does the majority of the top-K lie in the new category?
 * The answer for a user is the first such k (events until majority), or {@code eventsAfter + 1}
 * when it never happens within the replayed events.
 *
 * <ul>
 *   <li><b>realtime</b>: the events go through the real job DAG ({@link
 *       RecommendationPipeline#define}) on a local Flink environment, parallelism 1, with the
 *       evaluated model version: keyed state holds the live history and every event gets the list
 *       the job emits for it;
 *   <li><b>stale</b>: the user vector is the one computed from the history frozen before the
 *       shift (what a system that refreshes user vectors in batch would serve); the lists differ
 *       only by the excluded items, which grow with the new events as in the job.
 * </ul>
 */
public final class IntentShift {
    /** Time between the last history event and the shift, and between events after it. */
    static final long PAUSE_MS = 60_000;
    static final long GAP_MS = 5_000;

    /**
     * @param realtime events until majority per user, live state through the job
     * @param stale the same with the user vector frozen before the shift
     */
    public record Result(int users, int eventsAfter, int topK, int[] realtime, int[] stale) {
        public double realtimeMedian() {
            return median(realtime);
        }

        public double staleMedian() {
            return median(stale);
        }

        /** Share of users whose list reached the majority within the replayed events. */
        public double realtimeReached() {
            return reached(realtime);
        }

        public double staleReached() {
            return reached(stale);
        }

        private double reached(int[] v) {
            return Arrays.stream(v).filter(x -> x <= eventsAfter).count() / (double) Math.max(1, v.length);
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT,
                    "intent shift (%d users, %d events after, top-%d majority): realtime median %s events"
                            + " (reached by %.0f%%), stale median %s events (reached by %.0f%%)",
                    users, eventsAfter, topK, describe(realtimeMedian()), 100 * realtimeReached(),
                    describe(staleMedian()), 100 * staleReached());
        }

        private String describe(double m) {
            return m > eventsAfter ? "> " + eventsAfter : String.format(Locale.ROOT, "%.1f", m);
        }
    }

    private IntentShift() {}

    /**
     * @param versionDir the evaluated version on disk (what the job loads)
     * @param model the same version, loaded here (for the stale side)
     * @param cases users with a real history; the first {@code users} with one are used
     */
    public static Result measure(Path versionDir, ServingModel model, SyntheticGenerator generator,
            List<EvalCase> cases, int users, int eventsAfter, int topK, long seed) throws Exception {
        List<Planted> planted = new ArrayList<>();
        for (EvalCase c : withHistory(cases, users)) {
            planted.add(plant(generator, c, eventsAfter, seed));
        }
        int[] realtime = realtime(versionDir, generator, planted, topK);
        int[] stale = stale(model, generator, planted, topK);
        return new Result(planted.size(), eventsAfter, topK, realtime, stale);
    }

    /** The first {@code users} cases whose user has a history. */
    static List<EvalCase> withHistory(List<EvalCase> cases, int users) {
        return cases.stream().filter(c -> c.query().historySize() > 0).limit(users).toList();
    }

    /**
     * A category the case's user has never been interested in nor acted in: {@code first}, or the
     * next one after it that is (any, when every category is touched).
     */
    static int untouchedCategory(SyntheticGenerator g, EvalCase c, int first) {
        int user = Integer.parseInt(c.userId());
        int categories = g.config().categories;
        Set<Integer> avoid = new HashSet<>();
        for (int n = 0; n < g.config().interestsPerUser; n++) {
            avoid.add(g.interest(user, n));
        }
        for (String cat : c.query().categoryIds()) {
            if (cat != null) {
                avoid.add(Integer.parseInt(cat));
            }
        }
        int category = Math.floorMod(first, categories);
        for (int i = 0; i < categories && avoid.contains(category); i++) {
            category = (category + 1) % categories;
        }
        return category;
    }

    /** One user's history and the planted events after it. */
    private record Planted(EvalCase c, int category, List<BehaviorEvent> after) {}

    private static Planted plant(SyntheticGenerator g, EvalCase c, int eventsAfter, long seed) {
        int user = Integer.parseInt(c.userId());
        int category = untouchedCategory(g, c, user * 7919 + (int) seed);
        long[] ts = c.query().ts();
        long start = ts[ts.length - 1] + PAUSE_MS;
        return new Planted(c, category, g.plantedSession(user, category, eventsAfter, start, GAP_MS, seed ^ user));
    }

    /** Events until majority in the new category, live through the job. */
    private static int[] realtime(Path versionDir, SyntheticGenerator g, List<Planted> planted, int topK)
            throws Exception {
        List<RawRecord> records = new ArrayList<>();
        long offset = 0;
        for (Planted p : planted) {
            for (BehaviorEvent e : historyEvents(p.c().query())) {
                records.add(raw(e, offset++));
            }
            for (BehaviorEvent e : p.after()) {
                records.add(raw(e, offset++));
            }
        }
        Map<String, Recommendation> lists = listsFromJob(versionDir, records, topK, "towerflow-intent-shift");
        int[] until = new int[planted.size()];
        for (int u = 0; u < planted.size(); u++) {
            Planted p = planted.get(u);
            until[u] = p.after().size() + 1;
            for (int k = 0; k < p.after().size(); k++) {
                BehaviorEvent e = p.after().get(k);
                Recommendation r = lists.get(e.userId + "@" + e.ts);
                if (r == null) {
                    throw new IllegalStateException("the job emitted no list for " + e);
                }
                if (majority(g, ids(r.items), p.category(), topK)) {
                    until[u] = k + 1;
                    break;
                }
            }
        }
        return until;
    }

    /** A case's history as the events that made it (its search queries included), in time order. */
    static List<BehaviorEvent> historyEvents(UserQuery q) {
        List<BehaviorEvent> events = new ArrayList<>();
        for (int i = 0; i < q.historySize(); i++) {
            events.add(new BehaviorEvent(q.userId(), q.itemIds()[i], Action.ofCode(q.actions()[i]), q.ts()[i],
                    q.categoryIds()[i]));
        }
        for (int i = 0; q.queries() != null && i < q.queries().length; i++) {
            BehaviorEvent s = new BehaviorEvent(q.userId(), null, Action.SEARCH, q.queryTs()[i], null);
            s.query = q.queries()[i];
            events.add(s);
        }
        events.sort(java.util.Comparator.comparingLong(e -> e.ts));
        return events;
    }

    /**
     * The list the job emits for each of {@code records} (by "userId@eventTs"): the records go
     * through the real job DAG ({@link RecommendationPipeline#define}) on a local environment,
     * parallelism 1, serving the version in {@code versionDir}.
     */
    static Map<String, Recommendation> listsFromJob(Path versionDir, List<RawRecord> records, int topK, String job)
            throws Exception {
        Configuration conf = new Configuration();
        conf.set(ModelOptions.PATH, versionDir.toAbsolutePath().toString());
        conf.set(ModelOptions.DEVICE, ModelOptions.DeviceChoice.CPU);
        conf.set(RecommendOptions.TOP_K, topK);
        // the model's own lists: an exploration slot is not the model's answer to the shift or the search
        conf.set(RecommendOptions.EXPLORE_SLOTS, 0);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(1);
        Map<String, Recommendation> lists = new HashMap<>();
        try (CloseableIterator<Recommendation> out = RecommendationPipeline.define(conf, env.fromData(records))
                .recommendations()
                .executeAndCollect(job)) {
            while (out.hasNext()) {
                Recommendation r = out.next();
                lists.put(r.userId + "@" + r.eventTs, r);
            }
        }
        return lists;
    }

    /** Events until majority with the user vector frozen before the shift. */
    private static int[] stale(ServingModel model, SyntheticGenerator g, List<Planted> planted, int topK) {
        int[] until = new int[planted.size()];
        for (int u = 0; u < planted.size(); u++) {
            Planted p = planted.get(u);
            UserQuery q = p.c().query();
            Set<String> seen = new HashSet<>(Arrays.asList(q.itemIds()));
            List<UserQuery> queries = new ArrayList<>();
            for (BehaviorEvent e : p.after()) {
                seen.add(e.itemId);
                queries.add(new UserQuery(q.userId(), q.itemIds(), q.categoryIds(), q.actions(), q.ts(), e.ts,
                        Set.copyOf(seen)));
            }
            List<UserResult> results = model.recommend(queries, topK);
            until[u] = p.after().size() + 1;
            for (int k = 0; k < results.size(); k++) {
                if (majority(g, ids(results.get(k).items()), p.category(), topK)) {
                    until[u] = k + 1;
                    break;
                }
            }
        }
        return until;
    }

    private static boolean majority(SyntheticGenerator g, String[] ids, int category, int topK) {
        int in = 0;
        for (String id : ids) {
            if (g.categoryOf(Integer.parseInt(id)) == category) {
                in++;
            }
        }
        return in > topK / 2;
    }

    private static String[] ids(ScoredItem[] items) {
        String[] ids = new String[items.length];
        for (int i = 0; i < items.length; i++) {
            ids[i] = items[i].itemId;
        }
        return ids;
    }

    static RawRecord raw(BehaviorEvent e, long offset) {
        return new RawRecord(JsonCodec.behaviorEvent(e), "intent-shift", 0, offset, e.ts);
    }

    static double median(int[] v) {
        if (v.length == 0) {
            return Double.NaN;
        }
        int[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2.0;
    }
}
