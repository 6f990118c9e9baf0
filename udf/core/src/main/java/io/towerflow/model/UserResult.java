package io.towerflow.model;

import io.towerflow.records.ScoredItem;

/**
 * The answer for one {@link UserQuery}: up to k items, best first (score = cosine of user and item
 * vector), and the user vector they were scored with.
 */
public record UserResult(ScoredItem[] items, float[] userVector) {}
