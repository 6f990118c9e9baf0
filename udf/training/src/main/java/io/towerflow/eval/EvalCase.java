package io.towerflow.eval;

import io.towerflow.model.UserQuery;

import java.util.Set;

/**
 * One user of a temporal split: what the user did before the split (the query: the latest
 * history, the time of the first held-out event, and the ids no method may return), how many
 * events the user had before it, and the distinct items of the user's next {@code horizon}
 * events (the targets).
 */
public record EvalCase(String userId, UserQuery query, int eventsBefore, Set<String> targets, int horizon) {}
