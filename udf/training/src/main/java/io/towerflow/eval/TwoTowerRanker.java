package io.towerflow.eval;

import io.towerflow.model.ServingModel;
import io.towerflow.model.UserQuery;
import io.towerflow.model.UserResult;
import io.towerflow.records.ScoredItem;

import java.util.ArrayList;
import java.util.List;

/** The two-tower model as the job serves it: user tower, one product with the item matrix, top-K. */
public final class TwoTowerRanker implements Ranker {
    /** Users per model call. */
    static final int BATCH = 256;

    private final ServingModel model;

    public TwoTowerRanker(ServingModel model) {
        this.model = model;
    }

    @Override
    public String name() {
        return "twotower";
    }

    @Override
    public List<String[]> rank(List<EvalCase> cases, int k) {
        List<String[]> out = new ArrayList<>(cases.size());
        for (int from = 0; from < cases.size(); from += BATCH) {
            List<UserQuery> queries = new ArrayList<>(BATCH);
            for (EvalCase c : cases.subList(from, Math.min(cases.size(), from + BATCH))) {
                queries.add(c.query());
            }
            for (UserResult r : model.recommend(queries, k)) {
                ScoredItem[] items = r.items();
                String[] ids = new String[items.length];
                for (int i = 0; i < items.length; i++) {
                    ids[i] = items[i].itemId;
                }
                out.add(ids);
            }
        }
        return out;
    }
}
