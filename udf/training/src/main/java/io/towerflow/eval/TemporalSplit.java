package io.towerflow.eval;

import io.towerflow.model.TrainingExamples;
import io.towerflow.model.UserQuery;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The evaluation's split: per user, the last {@code testEvents} events are the "next
 * interactions" to predict and everything before them trains (users with no more than {@code
 * testEvents} events only train). Every method sees the same training view and is asked about the
 * same cases.
 *
 * @param train the events every method learns from
 * @param cases one per test user (all of them, or a seeded sample of {@code maxTestUsers})
 * @param testUsers how many users had held-out events
 */
public record TemporalSplit(TrainingExamples train, List<EvalCase> cases, int testUsers) {

    /**
     * @param excludeSeen whether a user's history items are excluded from every method's list
     *     (as the job does) or stay candidates (the default: re-consumption counts)
     * @param maxTestUsers at most this many cases, chosen by a seeded hash of the user id
     */
    public static TemporalSplit of(TrainingExamples all, int testEvents, boolean excludeSeen, int maxTestUsers,
            long seed) {
        TrainingExamples.Split split = all.splitLastPerUser(testEvents);
        TrainingExamples held = split.heldOut();
        List<int[]> runs = new ArrayList<>(); // [first example, end] of each user in the held-out view
        for (int from = 0; from < held.size(); ) {
            int to = from + 1;
            while (to < held.size() && held.userIndex(to) == held.userIndex(from)) {
                to++;
            }
            runs.add(new int[] {from, to});
            from = to;
        }
        int testUsers = runs.size();
        if (runs.size() > maxTestUsers) {
            runs.sort(Comparator.comparingLong((int[] r) -> mix(held.userId(r[0]).hashCode() ^ seed))
                    .thenComparing(r -> held.userId(r[0])));
            runs = new ArrayList<>(runs.subList(0, maxTestUsers));
            runs.sort(Comparator.comparingInt(r -> r[0]));
        }
        int[] trainEvents = new int[countUsers(all)];
        TrainingExamples train = split.train();
        for (int i = 0; i < train.size(); i++) {
            trainEvents[train.userIndex(i)]++;
        }
        List<EvalCase> cases = new ArrayList<>(runs.size());
        for (int[] r : runs) {
            TrainingExamples.Example first = held.example(r[0]);
            Set<String> targets = new LinkedHashSet<>();
            for (int i = r[0]; i < r[1]; i++) {
                targets.add(held.targetItemId(i));
            }
            Set<String> exclude = excludeSeen ? Set.copyOf(Arrays.asList(first.historyItemIds())) : Set.of();
            UserQuery q = held.query(r[0], exclude); // the history and the search queries before the first test act
            cases.add(new EvalCase(first.userId(), q, trainEvents[held.userIndex(r[0])], targets, r[1] - r[0]));
        }
        return new TemporalSplit(train, cases, testUsers);
    }

    private static int countUsers(TrainingExamples all) {
        int max = -1;
        for (int i = 0; i < all.size(); i++) {
            max = Math.max(max, all.userIndex(i));
        }
        return max + 1;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
