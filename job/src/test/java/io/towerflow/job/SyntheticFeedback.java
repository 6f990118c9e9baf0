package io.towerflow.job;

import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.Feedback;
import io.towerflow.synthetic.SyntheticGenerator;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * rec-feedback records the way the recommend operator writes them: each synthetic event becomes
 * one record carrying the user's latest {@code historyLength} events before it (a rolling
 * per-user history, as in keyed state). No list was shown ({@code shown} null).
 */
final class SyntheticFeedback {
    private SyntheticFeedback() {}

    /**
     * Records for events {@code skip} .. {@code skip + count} of the generator; the skipped events
     * still build up the users' histories, as a running job's state would have.
     */
    static List<Feedback> records(SyntheticGenerator.Config cfg, long skip, int count, int historyLength) {
        Iterator<BehaviorEvent> events = new SyntheticGenerator(cfg).events(skip + count);
        Map<String, ArrayDeque<BehaviorEvent>> history = new HashMap<>();
        List<Feedback> out = new ArrayList<>(count);
        for (long i = 0; events.hasNext(); i++) {
            BehaviorEvent e = events.next();
            ArrayDeque<BehaviorEvent> h = history.computeIfAbsent(e.userId, u -> new ArrayDeque<>());
            if (i >= skip) {
                out.add(of(e, h));
            }
            h.addLast(e);
            if (h.size() > historyLength) {
                h.removeFirst();
            }
        }
        return out;
    }

    static Feedback of(BehaviorEvent e, ArrayDeque<BehaviorEvent> history) {
        Feedback f = new Feedback();
        f.userId = e.userId;
        f.itemId = e.itemId;
        f.categoryId = e.categoryId;
        f.action = e.action;
        f.ts = e.ts;
        int n = history.size();
        f.historyItemIds = new String[n];
        f.historyCategoryIds = new String[n];
        f.historyActions = new byte[n];
        f.historyTs = new long[n];
        int i = 0;
        for (BehaviorEvent h : history) {
            f.historyItemIds[i] = h.itemId;
            f.historyCategoryIds[i] = h.categoryId;
            f.historyActions[i] = h.action.code();
            f.historyTs[i] = h.ts;
            i++;
        }
        return f;
    }
}
