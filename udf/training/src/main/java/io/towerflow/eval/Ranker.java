package io.towerflow.eval;

import java.util.List;

/** A method under evaluation: ranks the catalogue for each case. */
public interface Ranker {
    /** The method's name in the table and the summary ("twotower", "popularity", …). */
    String name();

    /**
     * The top {@code k} item ids for each case, best first, without the ids the case's query
     * excludes and only from the evaluation's catalogue; fewer when the catalogue runs out.
     */
    List<String[]> rank(List<EvalCase> cases, int k);
}
