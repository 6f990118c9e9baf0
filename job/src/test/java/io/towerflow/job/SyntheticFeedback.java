package io.towerflow.job;

import io.towerflow.operators.UserHistory;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.Feedback;
import io.towerflow.synthetic.SyntheticGenerator;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * rec-feedback records the way the recommend operator writes them: each synthetic event becomes
 * one record carrying the user's history before it, kept as the operator keeps it in keyed state
 * ({@link UserHistory#append}, the newest {@code historyLength}). No list was shown ({@code shown}
 * null).
 */
final class SyntheticFeedback {
    private SyntheticFeedback() {}

    /**
     * Records for events {@code skip} .. {@code skip + count} of the generator; the skipped events
     * still build up the users' histories, as a running job's state would have.
     */
    static List<Feedback> records(SyntheticGenerator.Config cfg, long skip, int count, int historyLength) {
        Iterator<BehaviorEvent> events = new SyntheticGenerator(cfg).events(skip + count);
        Map<String, UserHistory> history = new HashMap<>();
        List<Feedback> out = new ArrayList<>(count);
        for (long i = 0; events.hasNext(); i++) {
            BehaviorEvent e = events.next();
            UserHistory before = history.getOrDefault(e.userId, new UserHistory());
            if (i >= skip) {
                out.add(before.feedbackFor(e, null));
            }
            history.put(e.userId, before.append(e, historyLength));
        }
        return out;
    }
}
