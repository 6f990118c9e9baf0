package io.towerflow.job;

import io.towerflow.config.KafkaOptions;
import io.towerflow.operators.FaultInjection;
import io.towerflow.operators.ParseBehaviorFunction;
import io.towerflow.operators.ParseControlFunction;
import io.towerflow.operators.RecommendConfig;
import io.towerflow.operators.RecommendOperator;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.ControlMessage;
import io.towerflow.records.DeadLetter;
import io.towerflow.records.Feedback;
import io.towerflow.records.RawRecord;
import io.towerflow.records.Recommendation;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.util.Collector;

/**
 * The recommendation DAG without its Kafka ends, so that tests run it with bounded sources and
 * collecting sinks: raw behaviour records → parse+validate (bad ones to the DLQ stream) → keyBy
 * userId → {@link RecommendOperator} (with the control records — model versions, catalogue
 * changes — broadcast to it) → lists, plus the feedback side output.
 */
public final class RecommendationPipeline {
    private RecommendationPipeline() {}

    /** The three streams the job writes. */
    public record Outputs(
            DataStream<Recommendation> recommendations,
            DataStream<DeadLetter> deadLetters,
            DataStream<Feedback> feedback) {}

    /** The pipeline without control input: the configured model version serves throughout. */
    public static Outputs define(ReadableConfig conf, DataStream<RawRecord> raw) {
        DataStream<RawRecord> none =
                raw.flatMap((RawRecord r, Collector<RawRecord> out) -> {})
                        .returns(TypeInformation.of(RawRecord.class))
                        .name("no control records");
        return define(conf, raw, none);
    }

    /**
     * @param control raw records of the {@code model-updates} and {@code item-catalog} topics
     */
    public static Outputs define(ReadableConfig conf, DataStream<RawRecord> raw, DataStream<RawRecord> control) {
        // every record and state type is a POJO (SerializationTest); a Kryo fallback fails here.
        // Object reuse: chained operators hand records on without a serializer copy (the copies of
        // each list and feedback record into the two chained sink writers were 1.7 % of the
        // operator thread at saturation, docs/benchmarks.md). Safe here: every operator of the job
        // emits a new object per record and never changes one after emitting it, and the only one
        // that keeps its inputs (the recommend operator's micro-batch) reads them from the network
        // after keyBy, where Flink deserializes a new object per record.
        raw.getExecutionEnvironment().configure(new Configuration()
                .set(PipelineOptions.GENERIC_TYPES, false)
                .set(PipelineOptions.OBJECT_REUSE, true));
        SingleOutputStreamOperator<BehaviorEvent> events =
                raw.process(new ParseBehaviorFunction(FaultInjection.from(conf)))
                        .returns(TypeInformation.of(BehaviorEvent.class))
                        .uid("parse-behavior")
                        .name("parse+validate");

        SingleOutputStreamOperator<ControlMessage> controls =
                control.process(new ParseControlFunction(conf.get(KafkaOptions.MODEL_UPDATES_TOPIC)))
                        .returns(TypeInformation.of(ControlMessage.class))
                        .uid("parse-control")
                        .name("parse model updates + catalogue")
                        .setParallelism(1);

        SingleOutputStreamOperator<Recommendation> lists =
                events.keyBy(e -> e.userId, TypeInformation.of(String.class))
                        .connect(controls.broadcast()) // every subtask sees every control record
                        .transform(
                                "recommend",
                                TypeInformation.of(Recommendation.class),
                                new RecommendOperator(RecommendConfig.from(conf), FaultInjection.from(conf)))
                        .uid("recommend")
                        .name("recommend (two-tower top-K)");

        DataStream<DeadLetter> deadLetters =
                events.getSideOutput(ParseBehaviorFunction.DEAD_LETTERS)
                        .union(controls.getSideOutput(ParseBehaviorFunction.DEAD_LETTERS));
        return new Outputs(lists, deadLetters, lists.getSideOutput(RecommendOperator.FEEDBACK));
    }
}
