package io.towerflow.job;

import io.towerflow.operators.ParseBehaviorFunction;
import io.towerflow.operators.RecommendConfig;
import io.towerflow.operators.RecommendOperator;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.DeadLetter;
import io.towerflow.records.RawRecord;
import io.towerflow.records.Recommendation;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

/**
 * The recommendation DAG without its Kafka ends, so that tests run it with bounded sources and
 * collecting sinks: raw records → parse+validate (bad ones to the DLQ stream) → keyBy userId →
 * {@link RecommendOperator} → lists.
 */
public final class RecommendationPipeline {
    private RecommendationPipeline() {}

    /** The two streams the job writes. */
    public record Outputs(DataStream<Recommendation> recommendations, DataStream<DeadLetter> deadLetters) {}

    public static Outputs define(ReadableConfig conf, DataStream<RawRecord> raw) {
        SingleOutputStreamOperator<BehaviorEvent> events =
                raw.process(new ParseBehaviorFunction())
                        .returns(TypeInformation.of(BehaviorEvent.class))
                        .uid("parse-behavior")
                        .name("parse+validate");

        DataStream<Recommendation> lists =
                events.keyBy(e -> e.userId, TypeInformation.of(String.class))
                        .transform(
                                "recommend",
                                TypeInformation.of(Recommendation.class),
                                new RecommendOperator(RecommendConfig.from(conf)))
                        .uid("recommend")
                        .name("recommend (two-tower top-K)");

        return new Outputs(lists, events.getSideOutput(ParseBehaviorFunction.DEAD_LETTERS));
    }
}
