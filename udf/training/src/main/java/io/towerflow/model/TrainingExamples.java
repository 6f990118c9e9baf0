package io.towerflow.model;

import io.towerflow.records.Action;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.Feedback;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntPredicate;

/**
 * Training examples built from behaviour events: every event (user u acts on item i at t) is an
 * example whose input is u's history before t — the latest {@code historyLength} (item,
 * category, action, ts) of u — and whose target is i with its category. An event without history
 * is kept: it still trains the user-id embedding and the item tower.
 *
 * <p>Events are grouped per user and kept in time order (ties in arrival order), so the input
 * need not be globally time-ordered. Storage is columnar (about 25 bytes an event); a history is a
 * range of its user's events, not a copy. Instances are views: {@link #splitLastPerUser()} gives a
 * training and a held-out view over the same events, {@link #splitAt(long)} one by event time.
 *
 * <p>{@link #fromFeedback} builds examples from {@code rec-feedback} records instead, each of which
 * carries its own history (see {@link FeedbackBuilder}).
 */
public final class TrainingExamples {
    final int historyLength;
    final String[] userIds;
    final String[] itemIds;
    /** Dense category index → id; an absent category has index -1. */
    final String[] categoryIds;
    /** Events of user u are [userStart[u], userStart[u+1]), oldest first. */
    final int[] userStart;
    final int[] eventUser;
    final int[] eventItem;
    final int[] eventCategory;
    final byte[] eventAction;
    final long[] eventTs;
    /** The events that are examples in this view. */
    final int[] positions;
    /** The search queries: the queries of user u are [queryStart[u], queryStart[u+1]), oldest first. */
    final Queries queries;
    /** Title of each dense item (null entries: none); null when no item has one. */
    final String[] itemTitles;

    /**
     * Search queries beside the events (a search may carry a query and no item): the distinct
     * texts, and per query its text, time and the first event position it precedes (it is part of
     * the input of every example from there on).
     */
    record Queries(String[] texts, int[] userStart, int[] text, long[] ts, int[] visibleFrom) {
        static Queries none(int users) {
            return new Queries(new String[0], new int[users + 1], new int[0], new long[0], new int[0]);
        }
    }

    private TrainingExamples(
            int historyLength,
            String[] userIds,
            String[] itemIds,
            String[] categoryIds,
            int[] userStart,
            int[] eventUser,
            int[] eventItem,
            int[] eventCategory,
            byte[] eventAction,
            long[] eventTs,
            int[] positions,
            Queries queries,
            String[] itemTitles) {
        this.queries = queries;
        this.itemTitles = itemTitles;
        this.historyLength = historyLength;
        this.userIds = userIds;
        this.itemIds = itemIds;
        this.categoryIds = categoryIds;
        this.userStart = userStart;
        this.eventUser = eventUser;
        this.eventItem = eventItem;
        this.eventCategory = eventCategory;
        this.eventAction = eventAction;
        this.eventTs = eventTs;
        this.positions = positions;
    }

    private TrainingExamples view(int[] newPositions) {
        return new TrainingExamples(historyLength, userIds, itemIds, categoryIds, userStart,
                eventUser, eventItem, eventCategory, eventAction, eventTs, newPositions, queries, itemTitles);
    }

    /**
     * These examples with item titles ({@code titleOf}: item id → title, or null), which the item
     * tower of a model with text reads; the catalogue carries them too.
     */
    public TrainingExamples withTitles(java.util.function.Function<String, String> titleOf) {
        String[] titles = new String[itemIds.length];
        for (int i = 0; i < titles.length; i++) {
            titles[i] = titleOf.apply(itemIds[i]);
        }
        return new TrainingExamples(historyLength, userIds, itemIds, categoryIds, userStart,
                eventUser, eventItem, eventCategory, eventAction, eventTs, positions, queries, titles);
    }

    /** Whether any event carried a search query. */
    public boolean hasQueries() {
        return queries.text.length > 0;
    }

    /**
     * The indices (into {@link Queries}) of the latest at most {@code max} queries before the event
     * at {@code position}, oldest first, into {@code out}; returns how many.
     */
    int queriesBefore(int position, int max, int[] out) {
        int u = eventUser[position];
        int from = queries.userStart[u];
        int to = queries.userStart[u + 1];
        int lo = from;
        int hi = to; // first query not yet visible
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (queries.visibleFrom[mid] <= position) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        int n = Math.min(max, lo - from);
        for (int k = 0; k < n; k++) {
            out[k] = lo - n + k;
        }
        return n;
    }

    /**
     * Builds examples from events (time-ordered per user is expected; out-of-order events of a
     * user are put in time order). Events without user, item or action are skipped.
     */
    public static TrainingExamples fromEvents(Iterable<BehaviorEvent> events, int historyLength) {
        if (historyLength <= 0) {
            throw new IllegalArgumentException("historyLength must be > 0");
        }
        Map<String, Integer> users = new HashMap<>();
        Map<String, Integer> items = new HashMap<>();
        Map<String, Integer> cats = new HashMap<>();
        List<String> userList = new ArrayList<>();
        List<String> itemList = new ArrayList<>();
        List<String> catList = new ArrayList<>();
        IntList user = new IntList();
        IntList item = new IntList();
        IntList cat = new IntList();
        ByteList action = new ByteList();
        LongList ts = new LongList();
        IntList seq = new IntList();
        Map<String, Integer> texts = new HashMap<>();
        List<String> textList = new ArrayList<>();
        IntList qUser = new IntList();
        IntList qText = new IntList();
        IntList qSeq = new IntList();
        LongList qTs = new LongList();
        int arrival = 0;
        for (BehaviorEvent e : events) {
            if (e == null || e.userId == null || e.action == null) {
                continue;
            }
            arrival++;
            if (e.action == Action.SEARCH && e.query != null && !e.query.isBlank()) {
                qUser.add(intern(users, userList, e.userId));
                qText.add(intern(texts, textList, e.query));
                qSeq.add(arrival);
                qTs.add(e.ts);
            }
            if (e.itemId == null) {
                continue;
            }
            seq.add(arrival);
            user.add(intern(users, userList, e.userId));
            item.add(intern(items, itemList, e.itemId));
            cat.add(e.categoryId == null ? -1 : intern(cats, catList, e.categoryId));
            action.add(e.action.code());
            ts.add(e.ts);
        }
        int n = user.size;
        int nu = userList.size();
        // stable counting sort by user, then time order inside each user
        int[] start = new int[nu + 1];
        for (int i = 0; i < n; i++) {
            start[user.data[i] + 1]++;
        }
        for (int u = 0; u < nu; u++) {
            start[u + 1] += start[u];
        }
        int[] fill = Arrays.copyOf(start, nu);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[fill[user.data[i]]++] = i;
        }
        long[] tsArr = ts.data;
        for (int u = 0; u < nu; u++) {
            boolean sorted = true;
            for (int p = start[u] + 1; p < start[u + 1] && sorted; p++) {
                sorted = tsArr[order[p - 1]] <= tsArr[order[p]];
            }
            if (!sorted) {
                Integer[] seg = new Integer[start[u + 1] - start[u]];
                for (int p = 0; p < seg.length; p++) {
                    seg[p] = order[start[u] + p];
                }
                Arrays.sort(seg, (a, b) -> a.equals(b) ? 0
                        : tsArr[a] != tsArr[b] ? Long.compare(tsArr[a], tsArr[b]) : Integer.compare(a, b));
                for (int p = 0; p < seg.length; p++) {
                    order[start[u] + p] = seg[p];
                }
            }
        }
        int[] eUser = new int[n];
        int[] eItem = new int[n];
        int[] eCat = new int[n];
        byte[] eAction = new byte[n];
        long[] eTs = new long[n];
        for (int p = 0; p < n; p++) {
            int i = order[p];
            eUser[p] = user.data[i];
            eItem[p] = item.data[i];
            eCat[p] = cat.data[i];
            eAction[p] = action.data[i];
            eTs[p] = tsArr[i];
        }
        int[] positions = new int[n];
        for (int p = 0; p < n; p++) {
            positions[p] = p;
        }
        int[] eSeq = new int[n];
        for (int p = 0; p < n; p++) {
            eSeq[p] = seq.data[order[p]];
        }
        Queries queries = queries(nu, start, eTs, eSeq, textList, qUser, qText, qSeq, qTs);
        return new TrainingExamples(historyLength, userList.toArray(new String[0]),
                itemList.toArray(new String[0]), catList.toArray(new String[0]), start, eUser,
                eItem, eCat, eAction, eTs, positions, queries, null);
    }

    /**
     * The queries per user in (time, arrival) order, each with the first event position of its
     * user that comes after it in that order.
     */
    private static Queries queries(int users, int[] start, long[] eTs, int[] eSeq, List<String> texts,
            IntList qUser, IntList qText, IntList qSeq, LongList qTs) {
        int m = qUser.size;
        Integer[] order = new Integer[m];
        for (int i = 0; i < m; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.<Integer>comparingInt(i -> qUser.data[i])
                .thenComparingLong(i -> qTs.data[i]).thenComparingInt(i -> qSeq.data[i]));
        int[] userStart = new int[users + 1];
        int[] text = new int[m];
        long[] ts = new long[m];
        int[] visibleFrom = new int[m];
        for (int i = 0; i < m; i++) {
            userStart[qUser.data[i] + 1]++;
        }
        for (int u = 0; u < users; u++) {
            userStart[u + 1] += userStart[u];
        }
        int p = 0;
        for (int k = 0; k < m; k++) {
            int i = order[k];
            int u = qUser.data[i];
            text[k] = qText.data[i];
            ts[k] = qTs.data[i];
            if (k == userStart[u]) {
                p = start[u];
            }
            while (p < start[u + 1] && (eTs[p] < ts[k] || (eTs[p] == ts[k] && eSeq[p] < qSeq.data[i]))) {
                p++;
            }
            visibleFrom[k] = p;
        }
        return new Queries(texts.toArray(new String[0]), userStart, text, ts, visibleFrom);
    }

    private static int intern(Map<String, Integer> map, List<String> list, String id) {
        Integer i = map.get(id);
        if (i == null) {
            i = list.size();
            map.put(id, i);
            list.add(id);
        }
        return i;
    }

    /**
     * Builds examples from feedback records ({@code rec-feedback}), one example per record: the
     * history the record carries (its latest {@code historyLength} entries) → the item acted on.
     * Records without user, item or action, or with history arrays of different lengths, are
     * skipped.
     */
    public static TrainingExamples fromFeedback(Iterable<Feedback> records, int historyLength) {
        FeedbackBuilder b = new FeedbackBuilder(historyLength);
        for (Feedback f : records) {
            b.add(f);
        }
        return b.build();
    }

    /**
     * Collects feedback records one at a time into the columnar form, without keeping the records.
     *
     * <p>The operator emits a user's records in order, and each record's history is the previous
     * record's history plus the previous act, so storing every history in full would repeat it
     * {@code historyLength} times. Instead a user's records form a <em>segment</em> of events:
     * when a record's history is exactly what the user's current segment already ends with (the
     * same entries, and as many of them up to {@code historyLength}), only its act is appended;
     * otherwise (first record of the user, a gap, state that expired, out-of-order records) a new
     * segment starts with that history. Either way every example's history is the one its record
     * carries. A segment plays the part of a user in the built examples ({@link
     * #splitLastPerUser()} would treat it as one); {@link #userId(int)} is the record's user.
     */
    public static final class FeedbackBuilder {
        private final int historyLength;
        private final Map<String, Integer> items = new HashMap<>();
        private final Map<String, Integer> cats = new HashMap<>();
        private final List<String> itemList = new ArrayList<>();
        private final List<String> catList = new ArrayList<>();
        // every event appended, in arrival order; segments refer to them by index
        private final IntList item = new IntList();
        private final IntList cat = new IntList();
        private final ByteList action = new ByteList();
        private final LongList ts = new LongList();
        private final BitSet isExample = new BitSet();
        private final List<Segment> segments = new ArrayList<>();
        private final Map<String, Segment> latestSegment = new HashMap<>();
        private int examples;
        private long skipped;

        public FeedbackBuilder(int historyLength) {
            if (historyLength <= 0) {
                throw new IllegalArgumentException("historyLength must be > 0");
            }
            this.historyLength = historyLength;
        }

        /** Adds one record as an example; false (and counted as skipped) when it is unusable. */
        public boolean add(Feedback f) {
            if (f == null || f.userId == null || f.itemId == null || f.action == null
                    || f.historyItemIds == null || f.historyCategoryIds == null
                    || f.historyActions == null || f.historyTs == null
                    || f.historyCategoryIds.length != f.historyItemIds.length
                    || f.historyActions.length != f.historyItemIds.length
                    || f.historyTs.length != f.historyItemIds.length) {
                skipped++;
                return false;
            }
            int m = Math.min(f.historyItemIds.length, historyLength);
            int off = f.historyItemIds.length - m;
            Segment s = latestSegment.get(f.userId);
            if (s == null || Math.min(s.size, historyLength) != m || !endsWith(s, f, off, m)) {
                s = new Segment(f.userId);
                segments.add(s);
                latestSegment.put(f.userId, s);
                for (int j = off; j < f.historyItemIds.length; j++) {
                    s.add(append(f.historyItemIds[j], f.historyCategoryIds[j], f.historyActions[j], f.historyTs[j]));
                }
            }
            if (f.queryTexts != null && f.queryTs != null && f.queryTexts.length == f.queryTs.length) {
                for (int j = 0; j < f.queryTexts.length; j++) {
                    if (f.queryTexts[j] != null) {
                        s.addQuery(f.queryTexts[j], f.queryTs[j]);
                    }
                }
            }
            int e = append(f.itemId, f.categoryId, f.action.code(), f.ts);
            isExample.set(e);
            s.add(e);
            examples++;
            return true;
        }

        /** Whether segment {@code s} ends with the history entries [off, off + m) of {@code f}. */
        private boolean endsWith(Segment s, Feedback f, int off, int m) {
            for (int j = 0; j < m; j++) {
                int e = s.events[s.size - m + j];
                Integer it = items.get(f.historyItemIds[off + j]);
                String c = f.historyCategoryIds[off + j];
                Integer ct = c == null ? Integer.valueOf(-1) : cats.get(c);
                if (it == null || it != item.data[e] || ct == null || ct != cat.data[e]
                        || action.data[e] != f.historyActions[off + j] || ts.data[e] != f.historyTs[off + j]) {
                    return false;
                }
            }
            return true;
        }

        private int append(String itemId, String categoryId, byte actionCode, long eventTs) {
            item.add(intern(items, itemList, itemId));
            cat.add(categoryId == null ? -1 : intern(cats, catList, categoryId));
            action.add(actionCode);
            ts.add(eventTs);
            return ts.size - 1;
        }

        /** Records added as examples so far. */
        public int examples() {
            return examples;
        }

        /** Records refused by {@link #add} so far. */
        public long skipped() {
            return skipped;
        }

        /** Events stored so far (examples plus the history entries of segment starts). */
        public int events() {
            return ts.size;
        }

        /**
         * The examples, segment after segment, ordered by user id (a user's segments in the order
         * they came): the same records give the same examples however the partitions of the topic
         * interleaved while reading, so training is reproducible. The builder should not be used
         * afterwards.
         */
        public TrainingExamples build() {
            int n = ts.size;
            List<Segment> ordered = new ArrayList<>(segments);
            ordered.sort(Comparator.comparing(seg -> seg.userId)); // stable
            int ns = ordered.size();
            String[] segmentUser = new String[ns];
            int[] start = new int[ns + 1];
            int[] eUser = new int[n];
            int[] eItem = new int[n];
            int[] eCat = new int[n];
            byte[] eAction = new byte[n];
            long[] eTs = new long[n];
            int[] positions = new int[examples];
            int p = 0;
            int x = 0;
            for (int u = 0; u < ns; u++) {
                Segment s = ordered.get(u);
                segmentUser[u] = s.userId;
                start[u] = p;
                for (int j = 0; j < s.size; j++, p++) {
                    int e = s.events[j];
                    eUser[p] = u;
                    eItem[p] = item.data[e];
                    eCat[p] = cat.data[e];
                    eAction[p] = action.data[e];
                    eTs[p] = ts.data[e];
                    if (isExample.get(e)) {
                        positions[x++] = p;
                    }
                }
            }
            start[ns] = p;
            return new TrainingExamples(historyLength, segmentUser, itemList.toArray(new String[0]),
                    catList.toArray(new String[0]), start, eUser, eItem, eCat, eAction, eTs, positions,
                    segmentQueries(ordered, start, eTs), null);
        }

        /**
         * The queries the records carried, per segment in time order, each visible from the first
         * event of its segment later than it (as serving counts the acts after a query).
         */
        private static Queries segmentQueries(List<Segment> ordered, int[] start, long[] eTs) {
            int ns = ordered.size();
            int[] userStart = new int[ns + 1];
            for (int u = 0; u < ns; u++) {
                userStart[u + 1] = userStart[u] + ordered.get(u).queries.size();
            }
            int m = userStart[ns];
            if (m == 0) {
                return Queries.none(ns);
            }
            Map<String, Integer> textIndex = new HashMap<>();
            List<String> texts = new ArrayList<>();
            int[] text = new int[m];
            long[] ts = new long[m];
            int[] visibleFrom = new int[m];
            for (int u = 0; u < ns; u++) {
                List<Map.Entry<Long, String>> qs = new ArrayList<>(ordered.get(u).queries);
                qs.sort(Map.Entry.comparingByKey()); // stable: same-time queries keep their order
                int p = start[u];
                for (int k = 0; k < qs.size(); k++) {
                    int at = userStart[u] + k;
                    ts[at] = qs.get(k).getKey();
                    text[at] = intern(textIndex, texts, qs.get(k).getValue());
                    while (p < start[u + 1] && eTs[p] <= ts[at]) {
                        p++;
                    }
                    visibleFrom[at] = p;
                }
            }
            return new Queries(texts.toArray(new String[0]), userStart, text, ts, visibleFrom);
        }

        private static final class Segment {
            final String userId;
            int[] events = new int[4];
            int size;
            /** The distinct (time, text) queries the segment's records carried, in arrival order. */
            final Set<Map.Entry<Long, String>> queries = new LinkedHashSet<>();

            Segment(String userId) {
                this.userId = userId;
            }

            void addQuery(String text, long ts) {
                queries.add(Map.entry(ts, text));
            }

            void add(int e) {
                if (size == events.length) {
                    events = Arrays.copyOf(events, size * 2);
                }
                events[size++] = e;
            }
        }
    }

    /** A training view and a held-out view over the same events. */
    public record Split(TrainingExamples train, TrainingExamples heldOut) {}

    /**
     * Splits this view: for each user, the user's last example in this view is held out when the
     * user has at least one earlier event; everything else trains.
     */
    public Split splitLastPerUser() {
        boolean[] lastOfUser = new boolean[positions.length];
        int[] lastPos = new int[userIds.length];
        Arrays.fill(lastPos, -1);
        for (int i = 0; i < positions.length; i++) {
            int p = positions[i];
            int u = eventUser[p];
            if (lastPos[u] < 0 || positions[lastPos[u]] < p) {
                lastPos[u] = i;
            }
        }
        int held = 0;
        for (int u = 0; u < userIds.length; u++) {
            int i = lastPos[u];
            if (i >= 0 && positions[i] > userStart[u]) {
                lastOfUser[i] = true;
                held++;
            }
        }
        int[] train = new int[positions.length - held];
        int[] heldOut = new int[held];
        int t = 0;
        int h = 0;
        for (int i = 0; i < positions.length; i++) {
            if (lastOfUser[i]) {
                heldOut[h++] = positions[i];
            } else {
                train[t++] = positions[i];
            }
        }
        return new Split(view(train), view(heldOut));
    }

    /**
     * Temporal split per user: of every user with more than {@code testEvents} events in this
     * view, the last {@code testEvents} are held out (the user's "next interactions"); all other
     * events train. Users with fewer events train on all of them.
     */
    public Split splitLastPerUser(int testEvents) {
        return splitLastPerUser(testEvents, user -> true);
    }

    /**
     * As {@link #splitLastPerUser(int)}, for the users {@code users} accepts (by {@link
     * #userIndex}) only; the other users' events all train.
     */
    public Split splitLastPerUser(int testEvents, IntPredicate users) {
        if (testEvents < 1) {
            throw new IllegalArgumentException("testEvents must be >= 1");
        }
        // positions are ascending, so a user's events in this view are one run, oldest first
        boolean[] held = new boolean[positions.length];
        int heldCount = 0;
        for (int from = 0; from < positions.length; ) {
            int u = eventUser[positions[from]];
            int to = from + 1;
            while (to < positions.length && eventUser[positions[to]] == u) {
                to++;
            }
            if (to - from > testEvents && users.test(u)) {
                for (int i = to - testEvents; i < to; i++) {
                    held[i] = true;
                }
                heldCount += testEvents;
            }
            from = to;
        }
        int[] train = new int[positions.length - heldCount];
        int[] heldOut = new int[heldCount];
        int t = 0;
        int h = 0;
        for (int i = 0; i < positions.length; i++) {
            if (held[i]) {
                heldOut[h++] = positions[i];
            } else {
                train[t++] = positions[i];
            }
        }
        return new Split(view(train), view(heldOut));
    }

    /**
     * The event time from which the newest {@code fraction} of this view's examples lie: the
     * smallest cut such that at least {@code ceil(fraction × size)} examples have {@code ts >= cut}
     * (all examples at the cut's time go to the newer side), while at least one example stays
     * older. {@link Long#MAX_VALUE} when no cut leaves both sides non-empty (fewer than two
     * examples, or all at one time).
     */
    public long newestCut(double fraction) {
        if (!(fraction > 0 && fraction < 1)) {
            throw new IllegalArgumentException("fraction must be in (0, 1), got " + fraction);
        }
        int n = positions.length;
        if (n < 2) {
            return Long.MAX_VALUE;
        }
        long[] sorted = new long[n];
        for (int i = 0; i < n; i++) {
            sorted[i] = eventTs[positions[i]];
        }
        Arrays.sort(sorted);
        int newer = (int) Math.min(n - 1, Math.max(1, Math.ceil(n * fraction)));
        long cut = sorted[n - newer];
        if (cut > sorted[0]) {
            return cut;
        }
        // the oldest time reaches the cut: hold out less, from the next later time on, if any
        for (int i = n - newer + 1; i < n; i++) {
            if (sorted[i] > sorted[0]) {
                return sorted[i];
            }
        }
        return Long.MAX_VALUE;
    }

    /** Splits this view by event time: examples before {@code cutTs} train, the rest are held out. */
    public Split splitAt(long cutTs) {
        int held = 0;
        for (int p : positions) {
            if (eventTs[p] >= cutTs) {
                held++;
            }
        }
        int[] train = new int[positions.length - held];
        int[] heldOut = new int[held];
        int t = 0;
        int h = 0;
        for (int p : positions) {
            if (eventTs[p] >= cutTs) {
                heldOut[h++] = p;
            } else {
                train[t++] = p;
            }
        }
        return new Split(view(train), view(heldOut));
    }

    /** Number of examples in this view. */
    public int size() {
        return positions.length;
    }

    public int historyLength() {
        return historyLength;
    }

    public String userId(int example) {
        return userIds[eventUser[positions[example]]];
    }

    /**
     * Dense index of the example's user, the same in every view of these events. A view's examples
     * are ordered by user, then time, so a user's examples are one run.
     */
    public int userIndex(int example) {
        return eventUser[positions[example]];
    }

    /** Dense index of the example's target item, the same in every view of these events. */
    public int itemIndex(int example) {
        return eventItem[positions[example]];
    }

    /** Number of distinct users among all events (every view), the range of {@link #userIndex}. */
    public int userCount() {
        return userIds.length;
    }

    /** Number of distinct items among all events (every view), the range of {@link #itemIndex}. */
    public int itemCount() {
        return itemIds.length;
    }

    /** The item id of a dense item index. */
    public String itemIdOf(int itemIndex) {
        return itemIds[itemIndex];
    }

    public String targetItemId(int example) {
        return itemIds[eventItem[positions[example]]];
    }

    /** Null when the event had no category. */
    public String targetCategoryId(int example) {
        int c = eventCategory[positions[example]];
        return c < 0 ? null : categoryIds[c];
    }

    public long ts(int example) {
        return eventTs[positions[example]];
    }

    /** First event position of the example's history (inclusive). */
    int historyFrom(int position) {
        return Math.max(userStart[eventUser[position]], position - historyLength);
    }

    /** One example with its history spelt out (oldest first). */
    public record Example(
            String userId,
            String[] historyItemIds,
            String[] historyCategoryIds,
            byte[] historyActions,
            long[] historyTs,
            String itemId,
            String categoryId,
            long ts) {}

    public Example example(int i) {
        int p = positions[i];
        int from = historyFrom(p);
        int len = p - from;
        String[] hi = new String[len];
        String[] hc = new String[len];
        byte[] ha = new byte[len];
        long[] ht = new long[len];
        for (int j = 0; j < len; j++) {
            int q = from + j;
            hi[j] = itemIds[eventItem[q]];
            hc[j] = eventCategory[q] < 0 ? null : categoryIds[eventCategory[q]];
            ha[j] = eventAction[q];
            ht[j] = eventTs[q];
        }
        return new Example(userId(i), hi, hc, ha, ht, targetItemId(i), targetCategoryId(i), ts(i));
    }

    /**
     * The example as a serving query: its history and the search queries before it (as many as
     * the user's state keeps), {@code now} = the event's time.
     */
    public UserQuery query(int i, Set<String> exclude) {
        Example e = example(i);
        UserQuery q = new UserQuery(e.userId(), e.historyItemIds(), e.historyCategoryIds(),
                e.historyActions(), e.historyTs(), e.ts(), exclude);
        int[] idx = new int[MAX_QUERIES];
        int n = queriesBefore(positions[i], MAX_QUERIES, idx);
        if (n == 0) {
            return q;
        }
        String[] texts = new String[n];
        long[] times = new long[n];
        for (int k = 0; k < n; k++) {
            texts[k] = queries.texts[queries.text[idx[k]]];
            times[k] = queries.ts[idx[k]];
        }
        return q.withQueries(texts, times);
    }

    /** How many of a user's latest queries a serving query carries (what the job's state keeps). */
    static final int MAX_QUERIES = 10;

    /**
     * Each item's category (index + 1, 0 = none) in its latest event of the whole data, history-only
     * events included (the catalogue counts targets only), by dense item.
     */
    int[] latestCategories() {
        int[] cat = new int[itemIds.length];
        long[] ts = new long[itemIds.length];
        Arrays.fill(ts, Long.MIN_VALUE);
        for (int p = 0; p < eventItem.length; p++) {
            int it = eventItem[p];
            if (eventTs[p] >= ts[it]) {
                ts[it] = eventTs[p];
                cat[it] = eventCategory[p] + 1;
            }
        }
        return cat;
    }

    /**
     * The catalogue of this view: every target item, its category (of its latest event here) and
     * its number of examples; ordered by first appearance.
     */
    public ItemCatalogue catalogue() {
        long[] count = new long[itemIds.length];
        int[] cat = new int[itemIds.length];
        long[] catTs = new long[itemIds.length];
        Arrays.fill(catTs, Long.MIN_VALUE);
        int[] firstSeen = new int[itemIds.length];
        Arrays.fill(firstSeen, Integer.MAX_VALUE);
        for (int p : positions) {
            int it = eventItem[p];
            count[it]++;
            if (eventTs[p] >= catTs[it]) {
                catTs[it] = eventTs[p];
                cat[it] = eventCategory[p];
            }
            firstSeen[it] = Math.min(firstSeen[it], p);
        }
        Integer[] present = java.util.stream.IntStream.range(0, itemIds.length)
                .filter(i -> count[i] > 0)
                .boxed()
                .toArray(Integer[]::new);
        Arrays.sort(present, (a, b) -> Integer.compare(firstSeen[a], firstSeen[b]));
        String[] ids = new String[present.length];
        String[] cats = new String[present.length];
        long[] counts = new long[present.length];
        String[] titles = new String[present.length];
        for (int j = 0; j < present.length; j++) {
            int it = present[j];
            ids[j] = itemIds[it];
            cats[j] = cat[it] < 0 ? null : categoryIds[cat[it]];
            counts[j] = count[it];
            titles[j] = itemTitles == null ? null : itemTitles[it];
        }
        return new ItemCatalogue(ids, cats, counts, titles);
    }

    /** Event-time range and number of examples of this view. */
    public ModelManifest.TrainingWindow window() {
        long from = Long.MAX_VALUE;
        long to = Long.MIN_VALUE;
        for (int p : positions) {
            from = Math.min(from, eventTs[p]);
            to = Math.max(to, eventTs[p]);
        }
        if (positions.length == 0) {
            from = 0;
            to = 0;
        }
        return new ModelManifest.TrainingWindow(from, to, positions.length);
    }

    // small growable primitive lists, to keep millions of events compact
    private static final class IntList {
        int[] data = new int[1024];
        int size;

        void add(int v) {
            if (size == data.length) {
                data = Arrays.copyOf(data, size * 2);
            }
            data[size++] = v;
        }
    }

    private static final class LongList {
        long[] data = new long[1024];
        int size;

        void add(long v) {
            if (size == data.length) {
                data = Arrays.copyOf(data, size * 2);
            }
            data[size++] = v;
        }
    }

    private static final class ByteList {
        byte[] data = new byte[1024];
        int size;

        void add(byte v) {
            if (size == data.length) {
                data = Arrays.copyOf(data, size * 2);
            }
            data[size++] = v;
        }
    }
}
