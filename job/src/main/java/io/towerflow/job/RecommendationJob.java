package io.towerflow.job;

import io.towerflow.config.KafkaOptions;
import io.towerflow.records.RawRecord;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.ParameterTool;

/**
 * The cluster entry point: {@code flink run -c io.towerflow.job.RecommendationJob towerflow-job.jar
 * --towerflow.kafka.bootstrap-servers host:9092 --towerflow.model.path /models/v1}. Options come
 * from the arguments ({@code --key value}) over the Flink configuration; state backend,
 * checkpointing and restart strategy come from the cluster's configuration.
 */
public final class RecommendationJob {
    private RecommendationJob() {}

    public static void main(String[] args) throws Exception {
        Configuration options = Configuration.fromMap(ParameterTool.fromArgs(args).toMap());
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(options);
        define(env, options);
        env.execute("towerflow-recommendations");
    }

    /** Wires the Kafka source and sinks around {@link RecommendationPipeline}. */
    public static void define(StreamExecutionEnvironment env, Configuration options) {
        Configuration conf = effectiveOptions(env, options);
        sinks(conf, RecommendationPipeline.define(conf, source(env, conf), controlSource(env, conf)));
    }

    /** The Flink configuration of the environment, overridden by the job's own options. */
    public static Configuration effectiveOptions(StreamExecutionEnvironment env, Configuration options) {
        Configuration conf = new Configuration();
        conf.addAll(Configuration.fromMap(env.getConfiguration().toMap()));
        conf.addAll(options);
        return conf;
    }

    /** The behaviour topic as raw records, with per-partition watermarks. */
    public static DataStream<RawRecord> source(StreamExecutionEnvironment env, Configuration conf) {
        return env.fromSource(
                        KafkaIO.behaviorSource(conf),
                        WatermarkStrategy.<RawRecord>forBoundedOutOfOrderness(
                                        conf.get(KafkaOptions.WATERMARK_OUT_OF_ORDERNESS))
                                .withIdleness(conf.get(KafkaOptions.WATERMARK_IDLENESS)),
                        "user-behavior")
                .uid("behavior-source");
    }

    /** Model updates and catalogue changes, read from the beginning, parallelism 1. */
    public static DataStream<RawRecord> controlSource(StreamExecutionEnvironment env, Configuration conf) {
        return env.fromSource(KafkaIO.controlSource(conf), WatermarkStrategy.noWatermarks(), "control")
                .uid("control-source")
                .setParallelism(1);
    }

    /** The exactly-once Kafka sinks of the lists, the dead letters and the feedback. */
    public static void sinks(Configuration conf, RecommendationPipeline.Outputs out) {
        out.recommendations()
                .sinkTo(KafkaIO.recommendationSink(conf))
                .uid("recommendations-sink")
                .name("recommendations");
        out.deadLetters()
                .sinkTo(KafkaIO.deadLetterSink(conf))
                .uid("dlq-sink")
                .name("user-behavior-dlq");
        out.feedback()
                .sinkTo(KafkaIO.feedbackSink(conf))
                .uid("feedback-sink")
                .name("rec-feedback");
    }
}
