package io.towerflow.devkit.eval;

import io.towerflow.eval.EvalCase;
import io.towerflow.eval.Ranker;
import io.towerflow.model.ItemCatalogue;
import io.towerflow.synthetic.SyntheticGenerator;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Synthetic data only: ranks by the generator's true generating probabilities given each user's
 * latent state at the split ({@link SyntheticGenerator#oracleTopK}), over the same candidates as
 * every other method (the evaluation's catalogue, minus the case's excluded ids).
 */
public final class OracleRanker implements Ranker {
    private final SyntheticGenerator generator;
    private final Map<String, SyntheticGenerator.UserState> states;
    private final BitSet catalogue = new BitSet();

    /** {@code states}: user id → the user's latent state right after the last training event. */
    public OracleRanker(SyntheticGenerator generator, ItemCatalogue catalogue,
            Map<String, SyntheticGenerator.UserState> states) {
        this.generator = generator;
        this.states = states;
        for (int i = 0; i < catalogue.size(); i++) {
            this.catalogue.set(Integer.parseInt(catalogue.itemId(i)));
        }
    }

    /**
     * The oracle for the cases of a split of the first {@code events} events of {@code generator}:
     * replays the stream (it is seeded, so it is the same stream) to find each case user's latent
     * state right after the user's last event before the split (and any searches that follow it
     * before the split: a search moves the session to the searched category).
     */
    public static OracleRanker atSplit(SyntheticGenerator generator, long events, ItemCatalogue catalogue,
            List<EvalCase> cases) {
        int users = generator.config().users;
        int[] before = new int[users + 1];
        Arrays.fill(before, -1);
        for (EvalCase c : cases) {
            before[Integer.parseInt(c.userId())] = c.eventsBefore();
        }
        int[] seen = new int[users + 1];
        Map<String, SyntheticGenerator.UserState> states = new HashMap<>(cases.size() * 2);
        Iterator<SyntheticGenerator.Labeled> it = generator.labeled(events);
        while (it.hasNext()) {
            SyntheticGenerator.Labeled l = it.next();
            int u = l.state().user();
            if (l.event().itemId == null) { // a search: no example, but it moves the latent state
                if (seen[u] == before[u] && before[u] > 0) {
                    states.put(l.event().userId, l.state());
                }
                continue;
            }
            if (++seen[u] == before[u]) {
                states.put(l.event().userId, l.state());
            }
        }
        return new OracleRanker(generator, catalogue, states);
    }

    @Override
    public String name() {
        return "oracle";
    }

    @Override
    public List<String[]> rank(List<EvalCase> cases, int k) {
        List<String[]> out = new ArrayList<>(cases.size());
        for (EvalCase c : cases) {
            SyntheticGenerator.UserState state = states.get(c.userId());
            if (state == null) {
                throw new IllegalArgumentException("no latent state for user " + c.userId());
            }
            Set<String> exclude = c.query().exclude();
            SyntheticGenerator.Ranking r = generator.oracleTopK(state, c.horizon(), k,
                    item -> catalogue.get(item) && (exclude == null || !exclude.contains(Integer.toString(item))));
            String[] ids = new String[r.items().length];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = Integer.toString(r.items()[i]);
            }
            out.add(ids);
        }
        return out;
    }
}
