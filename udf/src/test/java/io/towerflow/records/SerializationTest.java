package io.towerflow.records;

import static org.apache.flink.types.PojoTestUtils.assertSerializedAsPojoWithoutKryo;

import io.towerflow.operators.ShownList;
import io.towerflow.operators.UserHistory;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Events, lists and state types are Flink POJOs: no Kryo, so savepoints survive upgrades. */
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
                ShownList.class,
                Feedback.class,
                ModelUpdate.class
            })
    void serializedAsPojoWithoutKryo(Class<?> type) {
        assertSerializedAsPojoWithoutKryo(type);
    }
}
