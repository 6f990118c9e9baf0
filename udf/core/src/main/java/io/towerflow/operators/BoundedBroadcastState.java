package io.towerflow.operators;

import org.apache.flink.api.common.state.BroadcastState;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Keeps a broadcast state map to its {@code n} highest keys. Every subtask sees the same elements
 * (in any order) and the n highest of a set do not depend on the order they came in, so the
 * subtasks' copies stay equal, as broadcast state must.
 */
final class BoundedBroadcastState {
    private BoundedBroadcastState() {}

    /** Removes all but the {@code n} highest keys (string order); returns how many it removed. */
    static <V> int keepHighest(BroadcastState<String, V> state, int n) throws Exception {
        List<String> keys = new ArrayList<>();
        for (Map.Entry<String, V> e : state.entries()) {
            keys.add(e.getKey());
        }
        if (keys.size() <= n) {
            return 0;
        }
        keys.sort(Comparator.reverseOrder());
        for (String k : keys.subList(n, keys.size())) {
            state.remove(k);
        }
        return keys.size() - n;
    }
}
