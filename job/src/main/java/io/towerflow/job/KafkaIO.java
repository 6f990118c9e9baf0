package io.towerflow.job;

import io.towerflow.config.KafkaOptions;
import io.towerflow.records.DeadLetter;
import io.towerflow.records.Feedback;
import io.towerflow.records.JsonCodec;
import io.towerflow.records.RawRecord;
import io.towerflow.records.Recommendation;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/** The job's Kafka source and sinks, built from {@link KafkaOptions}. */
public final class KafkaIO {
    private KafkaIO() {}

    /** Reads the behaviour topic as raw records; parsing happens downstream, so nothing is lost. */
    public static KafkaSource<RawRecord> behaviorSource(ReadableConfig conf) {
        OffsetsInitializer start;
        switch (conf.get(KafkaOptions.START_FROM)) {
            case EARLIEST:
                start = OffsetsInitializer.earliest();
                break;
            case LATEST:
                start = OffsetsInitializer.latest();
                break;
            default:
                start = OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
        }
        KafkaSourceBuilder<RawRecord> builder = KafkaSource.<RawRecord>builder();
        if (conf.get(KafkaOptions.BOUNDED)) {
            builder.setBounded(OffsetsInitializer.latest());
        }
        return builder.setBootstrapServers(bootstrap(conf))
                .setTopics(conf.get(KafkaOptions.BEHAVIOR_TOPIC))
                .setGroupId(conf.get(KafkaOptions.GROUP_ID))
                .setStartingOffsets(start)
                .setDeserializer(new RawRecordDeserializer())
                .setProperty("isolation.level", "read_committed")
                .setProperty("commit.offsets.on.checkpoint", "true")
                .build();
    }

    /**
     * The control topics ({@code model-updates}, {@code item-catalog}), always from the beginning
     * (the highest model version and the latest state of every item are needed); a restored job
     * continues from its checkpointed offsets.
     */
    public static KafkaSource<RawRecord> controlSource(ReadableConfig conf) {
        KafkaSourceBuilder<RawRecord> builder = KafkaSource.<RawRecord>builder();
        if (conf.get(KafkaOptions.BOUNDED)) {
            builder.setBounded(OffsetsInitializer.latest());
        }
        return builder.setBootstrapServers(bootstrap(conf))
                .setTopics(conf.get(KafkaOptions.MODEL_UPDATES_TOPIC), conf.get(KafkaOptions.CATALOG_TOPIC))
                .setGroupId(conf.get(KafkaOptions.GROUP_ID) + "-control")
                .setStartingOffsets(OffsetsInitializer.earliest())
                .setDeserializer(new RawRecordDeserializer())
                .setProperty("isolation.level", "read_committed")
                .build();
    }

    public static KafkaSink<Feedback> feedbackSink(ReadableConfig conf) {
        String topic = conf.get(KafkaOptions.FEEDBACK_TOPIC);
        return exactlyOnce(
                conf,
                "feedback",
                (KafkaRecordSerializationSchema<Feedback>)
                        (f, ctx, ts) ->
                                new ProducerRecord<>(
                                        topic,
                                        null,
                                        ts,
                                        f.userId.getBytes(StandardCharsets.UTF_8),
                                        JsonCodec.feedback(f)));
    }

    public static KafkaSink<Recommendation> recommendationSink(ReadableConfig conf) {
        String topic = conf.get(KafkaOptions.RECOMMENDATIONS_TOPIC);
        return exactlyOnce(
                conf,
                "recs",
                (KafkaRecordSerializationSchema<Recommendation>)
                        (r, ctx, ts) ->
                                new ProducerRecord<>(
                                        topic,
                                        null,
                                        ts,
                                        r.userId.getBytes(StandardCharsets.UTF_8),
                                        JsonCodec.recommendation(r)));
    }

    public static KafkaSink<DeadLetter> deadLetterSink(ReadableConfig conf) {
        String topic = conf.get(KafkaOptions.DLQ_TOPIC);
        return exactlyOnce(
                conf,
                "dlq",
                (KafkaRecordSerializationSchema<DeadLetter>)
                        (d, ctx, ts) ->
                                new ProducerRecord<>(topic, null, ts, null, JsonCodec.deadLetter(d)));
    }

    private static <T> KafkaSink<T> exactlyOnce(
            ReadableConfig conf, String name, KafkaRecordSerializationSchema<T> serializer) {
        return KafkaSink.<T>builder()
                .setBootstrapServers(bootstrap(conf))
                .setRecordSerializer(serializer)
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(
                        conf.get(KafkaOptions.TRANSACTIONAL_ID_PREFIX) + "-" + name)
                .setProperty(
                        "transaction.timeout.ms",
                        Long.toString(conf.get(KafkaOptions.TRANSACTION_TIMEOUT).toMillis()))
                .build();
    }

    private static String bootstrap(ReadableConfig conf) {
        return Objects.requireNonNull(
                conf.get(KafkaOptions.BOOTSTRAP_SERVERS),
                KafkaOptions.BOOTSTRAP_SERVERS.key() + " is required");
    }

    /** Keeps the bytes and their origin (topic, partition, offset) of every record. */
    static final class RawRecordDeserializer implements KafkaRecordDeserializationSchema<RawRecord> {
        private static final long serialVersionUID = 1L;

        @Override
        public void deserialize(ConsumerRecord<byte[], byte[]> r, Collector<RawRecord> out) {
            out.collect(new RawRecord(r.value(), r.topic(), r.partition(), r.offset(), r.timestamp()));
        }

        @Override
        public TypeInformation<RawRecord> getProducedType() {
            return TypeInformation.of(RawRecord.class);
        }
    }
}
