package io.towerflow.job;


import io.towerflow.config.KafkaEndpoint;
import io.towerflow.config.KafkaOptions;
import io.towerflow.operators.FaultInjection;
import io.towerflow.records.DeadLetter;
import io.towerflow.records.Feedback;
import io.towerflow.records.JsonCodec;
import io.towerflow.records.RawRecord;
import io.towerflow.records.Recommendation;

import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.lineage.DefaultKafkaDatasetFacet;
import org.apache.flink.connector.kafka.lineage.DefaultKafkaDatasetIdentifier;
import org.apache.flink.connector.kafka.lineage.KafkaDatasetFacet;
import org.apache.flink.connector.kafka.lineage.KafkaDatasetFacetProvider;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.sink.TransactionNamingStrategy;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

/**
 * The job's Kafka source and sinks, built from {@link KafkaOptions} and the client properties of
 * {@link KafkaEndpoint} (set first, so that what the job manages wins).
 */
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
        return rawSource(conf, conf.get(KafkaOptions.GROUP_ID), start, conf.get(KafkaOptions.BEHAVIOR_TOPIC));
    }

    /**
     * The control topics ({@code model-updates}, {@code item-catalog}), always from the beginning
     * (the highest model version and the latest state of every item are needed); a restored job
     * continues from its checkpointed offsets.
     */
    public static KafkaSource<RawRecord> controlSource(ReadableConfig conf) {
        return rawSource(
                conf,
                conf.get(KafkaOptions.GROUP_ID) + "-control",
                OffsetsInitializer.earliest(),
                conf.get(KafkaOptions.MODEL_UPDATES_TOPIC),
                conf.get(KafkaOptions.CATALOG_TOPIC));
    }

    /** Raw records of committed transactions only; offsets are committed on checkpoints. */
    private static KafkaSource<RawRecord> rawSource(
            ReadableConfig conf, String groupId, OffsetsInitializer start, String... topics) {
        KafkaSourceBuilder<RawRecord> builder = KafkaSource.<RawRecord>builder();
        if (conf.get(KafkaOptions.BOUNDED)) {
            builder.setBounded(OffsetsInitializer.latest());
        }
        KafkaEndpoint kafka = KafkaEndpoint.of(conf);
        return builder.setProperties(kafka.properties())
                .setBootstrapServers(kafka.bootstrapServers())
                .setTopics(topics)
                .setGroupId(groupId)
                .setStartingOffsets(start)
                .setDeserializer(new RawRecordDeserializer())
                .setProperty("isolation.level", "read_committed")
                .setProperty("commit.offsets.on.checkpoint", "true")
                .build();
    }

    public static KafkaSink<Feedback> feedbackSink(ReadableConfig conf) {
        String topic = conf.get(KafkaOptions.FEEDBACK_TOPIC);
        return exactlyOnce(conf, "feedback", topic, (f, ctx, ts) -> keyedByUser(topic, ts, f.userId, JsonCodec.feedback(f)));
    }

    public static KafkaSink<Recommendation> recommendationSink(ReadableConfig conf) {
        String topic = conf.get(KafkaOptions.RECOMMENDATIONS_TOPIC);
        KafkaRecordSerializationSchema<Recommendation> serializer =
                (r, ctx, ts) -> keyedByUser(topic, ts, r.userId, JsonCodec.recommendation(r));
        FaultInjection fault = FaultInjection.from(conf);
        return exactlyOnce(conf, "recs", topic,
                fault.toString().equals("none") ? serializer : new FaultySerializer<>(serializer, fault));
    }

    private static ProducerRecord<byte[], byte[]> keyedByUser(String topic, Long ts, String userId, byte[] value) {
        return new ProducerRecord<>(topic, null, ts, userId.getBytes(StandardCharsets.UTF_8), value);
    }

    public static KafkaSink<DeadLetter> deadLetterSink(ReadableConfig conf) {
        String topic = conf.get(KafkaOptions.DLQ_TOPIC);
        return exactlyOnce(conf, "dlq", topic, (d, ctx, ts) -> new ProducerRecord<>(topic, null, ts, null, JsonCodec.deadLetter(d)));
    }

    /**
     * The sinks' producer batch size unless {@code towerflow.kafka.properties.batch.size} sets one:
     * a feedback record carries the whole history (~3.7 KB of JSON at 50 items), so Kafka's default
     * 16 KiB batch held four of them and the in-process broker handled a produce request per few
     * events; 256 KiB batches what a linger period brings.
     */
    static final String SINK_BATCH_SIZE = Integer.toString(256 * 1024);

    /**
     * An exactly-once sink writing {@code serializer}'s records to {@code topic}, its transactions
     * named by {@link KafkaOptions#TRANSACTION_NAMING}.
     */
    private static <T> KafkaSink<T> exactlyOnce(
            ReadableConfig conf, String name, String topic, KafkaRecordSerializationSchema<T> serializer) {
        KafkaEndpoint kafka = KafkaEndpoint.of(conf);
        Properties producer = kafka.properties();
        producer.putIfAbsent("batch.size", SINK_BATCH_SIZE);
        return KafkaSink.<T>builder()
                .setKafkaProducerConfig(producer)
                .setBootstrapServers(kafka.bootstrapServers())
                .setRecordSerializer(new KnownTopic<>(topic, serializer))
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionNamingStrategy(transactionNaming(conf.get(KafkaOptions.TRANSACTION_NAMING)))
                .setTransactionalIdPrefix(
                        conf.get(KafkaOptions.TRANSACTIONAL_ID_PREFIX) + "-" + name)
                .setProperty(
                        "transaction.timeout.ms",
                        Long.toString(conf.get(KafkaOptions.TRANSACTION_TIMEOUT).toMillis()))
                .build();
    }

    static TransactionNamingStrategy transactionNaming(KafkaOptions.TransactionNaming naming) {
        return naming == KafkaOptions.TransactionNaming.POOLING
                ? TransactionNamingStrategy.POOLING
                : TransactionNamingStrategy.INCREMENTING;
    }

    /**
     * A serializer that names the one topic it writes: the pooling transaction naming needs the
     * sink's topics (it lists their open transactions when a job recovers).
     */
    static final class KnownTopic<T> implements KafkaRecordSerializationSchema<T>, KafkaDatasetFacetProvider {
        private static final long serialVersionUID = 1L;
        private final String topic;
        private final KafkaRecordSerializationSchema<T> inner;

        KnownTopic(String topic, KafkaRecordSerializationSchema<T> inner) {
            this.topic = topic;
            this.inner = inner;
        }

        @Override
        public void open(SerializationSchema.InitializationContext context, KafkaSinkContext sinkContext) throws Exception {
            inner.open(context, sinkContext);
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(T element, KafkaSinkContext context, Long timestamp) {
            return inner.serialize(element, context, timestamp);
        }

        @Override
        public Optional<KafkaDatasetFacet> getKafkaDatasetFacet() {
            return Optional.of(new DefaultKafkaDatasetFacet(DefaultKafkaDatasetIdentifier.ofTopics(List.of(topic))));
        }
    }

    /**
     * The recommendations sink's serializer with the test-only fault of {@code
     * towerflow.testing.fail-at sink:<n>}: it runs inside the sink writer, so the fault fails the
     * sink with a transaction open. The attempt number comes from the writer's metric scope.
     */
    static final class FaultySerializer<T> implements KafkaRecordSerializationSchema<T> {
        private static final long serialVersionUID = 1L;
        private final KafkaRecordSerializationSchema<T> inner;
        private final FaultInjection fault;
        private transient boolean armed;
        private transient long seen;

        FaultySerializer(KafkaRecordSerializationSchema<T> inner, FaultInjection fault) {
            this.inner = inner;
            this.fault = fault;
        }

        @Override
        public void open(SerializationSchema.InitializationContext context, KafkaSinkContext sinkContext) throws Exception {
            inner.open(context, sinkContext);
            String attempt = context.getMetricGroup().getAllVariables().getOrDefault("<task_attempt_num>", "0");
            armed = fault.armed(FaultInjection.Point.SINK, sinkContext.getParallelInstanceId(), Integer.parseInt(attempt));
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(T element, KafkaSinkContext context, Long timestamp) {
            if (armed) {
                fault.check(FaultInjection.Point.SINK, ++seen);
            }
            return inner.serialize(element, context, timestamp);
        }
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
