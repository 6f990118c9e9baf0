package io.towerflow.records;

import static org.apache.flink.types.PojoTestUtils.assertSerializedAsPojoWithoutKryo;

import io.towerflow.explore.ExploreCount;
import io.towerflow.operators.ShownList;
import io.towerflow.operators.RecentQueries;
import io.towerflow.operators.UserHistory;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every record that crosses an operator boundary and every state type is a Flink POJO: no Kryo,
 * so savepoints survive upgrades. The job also runs with {@code pipeline.generic-types: false}
 * (RecommendationPipeline), so a type that falls back to Kryo fails the job graph, not a restore.
 */
class SerializationTest {

    @ParameterizedTest
    @ValueSource(
            classes = {
                BehaviorEvent.class,
                Recommendation.class,
                ScoredItem.class,
                RawRecord.class,
                DeadLetter.class,
                UserHistory.class,
                RecentQueries.class,
                ShownList.class,
                ExploreCount.class,
                Feedback.class,
                ModelUpdate.class,
                CatalogueItem.class,
                ControlMessage.class
            })
    void serializedAsPojoWithoutKryo(Class<?> type) {
        assertSerializedAsPojoWithoutKryo(type);
    }
}
