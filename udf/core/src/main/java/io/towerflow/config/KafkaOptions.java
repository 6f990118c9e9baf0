package io.towerflow.config;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

import java.time.Duration;

/** Where the job reads and writes: the broker, topics and delivery settings. */
public final class KafkaOptions {

    /** Where a fresh consumer group starts reading the behaviour topic. */
    public enum StartFrom {
        EARLIEST,
        LATEST,
        /** The group's committed offsets, falling back to EARLIEST. */
        COMMITTED
    }

    /**
     * How the exactly-once sinks name their Kafka transactions (the connector's {@code
     * TransactionNamingStrategy}).
     */
    public enum TransactionNaming {
        /**
         * A small pool of transactional ids per sink subtask, reused: the broker keeps state for a
         * handful of ids per job. Needs Kafka 3.0+ and, on a secured broker, WRITE and DESCRIBE on
         * the transactional ids and READ and DESCRIBE on the sinks' topics (open transactions are
         * found through them on recovery; docs/operations.md).
         */
        POOLING,
        /**
         * A new transactional id per checkpoint (the connector's behaviour before 4.0): the broker
         * keeps each for {@code transactional.id.expiration.ms} (7 days by default), e.g. about 60,000
         * per sink subtask a week at a 10-s checkpoint interval. Switching from POOLING back to it
         * is not supported by the connector.
         */
        INCREMENTING
    }

    public static final ConfigOption<String> BOOTSTRAP_SERVERS =
            ConfigOptions.key("towerflow.kafka.bootstrap-servers")
                    .stringType()
                    .noDefaultValue()
                    .withDescription("Kafka bootstrap servers, host:port[,host:port...].");

    public static final ConfigOption<String> GROUP_ID =
            ConfigOptions.key("towerflow.kafka.group-id")
                    .stringType()
                    .defaultValue("towerflow")
                    .withDescription("Consumer group of the behaviour source.");

    public static final ConfigOption<StartFrom> START_FROM =
            ConfigOptions.key("towerflow.kafka.start-from")
                    .enumType(StartFrom.class)
                    .defaultValue(StartFrom.COMMITTED)
                    .withDescription(
                            "Where the source starts when no checkpoint or savepoint is restored.");

    public static final ConfigOption<Boolean> BOUNDED =
            ConfigOptions.key("towerflow.kafka.bounded")
                    .booleanType()
                    .defaultValue(false)
                    .withDescription(
                            "Stop reading at the offsets that are latest when the job starts, "
                                    + "so that the job finishes once it has processed them "
                                    + "(replays and tests).");

    public static final ConfigOption<String> BEHAVIOR_TOPIC =
            ConfigOptions.key("towerflow.topic.behavior")
                    .stringType()
                    .defaultValue("user-behavior")
                    .withDescription("Input topic of behaviour events (key userId).");

    public static final ConfigOption<String> RECOMMENDATIONS_TOPIC =
            ConfigOptions.key("towerflow.topic.recommendations")
                    .stringType()
                    .defaultValue("recommendations")
                    .withDescription("Output topic of top-K lists (key userId), exactly-once.");

    public static final ConfigOption<String> DLQ_TOPIC =
            ConfigOptions.key("towerflow.topic.dlq")
                    .stringType()
                    .defaultValue("user-behavior-dlq")
                    .withDescription(
                            "Dead-letter topic: rejected input records with reason and origin.");

    public static final ConfigOption<String> FEEDBACK_TOPIC =
            ConfigOptions.key("towerflow.topic.feedback")
                    .stringType()
                    .defaultValue("rec-feedback")
                    .withDescription(
                            "Training examples, one per act (key userId), exactly-once; read by "
                                    + "RetrainJob.");

    public static final ConfigOption<String> MODEL_UPDATES_TOPIC =
            ConfigOptions.key("towerflow.topic.model-updates")
                    .stringType()
                    .defaultValue("model-updates")
                    .withDescription(
                            "Model versions to serve: {version, uri, sha256}; the highest valid "
                                    + "version wins.");

    public static final ConfigOption<String> CATALOG_TOPIC =
            ConfigOptions.key("towerflow.topic.item-catalog")
                    .stringType()
                    .defaultValue("item-catalog")
                    .withDescription(
                            "Catalogue upserts {itemId, categoryId, available} (key itemId, "
                                    + "compacted), read from the beginning.");

    public static final ConfigOption<String> TRANSACTIONAL_ID_PREFIX =
            ConfigOptions.key("towerflow.kafka.transactional-id-prefix")
                    .stringType()
                    .defaultValue("towerflow")
                    .withDescription(
                            "Prefix of the exactly-once sinks' transactional ids; unique per job "
                                    + "on a broker.");

    public static final ConfigOption<TransactionNaming> TRANSACTION_NAMING =
            ConfigOptions.key("towerflow.kafka.transaction-naming")
                    .enumType(TransactionNaming.class)
                    .defaultValue(TransactionNaming.POOLING)
                    .withDescription(
                            "How the exactly-once sinks name their transactions: POOLING reuses a "
                                    + "few transactional ids per sink subtask (Kafka 3.0+; the "
                                    + "broker keeps state for those only); INCREMENTING makes a new "
                                    + "one per checkpoint, each kept by the broker for "
                                    + "transactional.id.expiration.ms (7 days by default). A job "
                                    + "may switch from INCREMENTING to POOLING on restore, not back.");

    public static final ConfigOption<Duration> TRANSACTION_TIMEOUT =
            ConfigOptions.key("towerflow.kafka.transaction-timeout")
                    .durationType()
                    .defaultValue(Duration.ofMinutes(10))
                    .withDescription(
                            "transaction.timeout.ms of the exactly-once sinks; must stay below "
                                    + "the broker's transaction.max.timeout.ms (15 min by "
                                    + "default) and above the checkpoint interval.");

    public static final ConfigOption<Duration> WATERMARK_OUT_OF_ORDERNESS =
            ConfigOptions.key("towerflow.watermark.out-of-orderness")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(5))
                    .withDescription("Bounded out-of-orderness of event time at the source.");

    public static final ConfigOption<Duration> WATERMARK_IDLENESS =
            ConfigOptions.key("towerflow.watermark.idleness")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(30))
                    .withDescription("A partition silent this long stops holding back watermarks.");

    private KafkaOptions() {}
}
