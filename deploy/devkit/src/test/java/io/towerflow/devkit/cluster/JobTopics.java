package io.towerflow.devkit.cluster;

import io.towerflow.config.KafkaEndpoint;
import io.towerflow.config.KafkaOptions;
import io.towerflow.config.ModelOptions;
import io.towerflow.devkit.kafka.EmbeddedKafka;
import io.towerflow.model.TestModels;

import org.apache.flink.configuration.Configuration;

import java.util.Map;

/** Job options on topics of their own (names ending in a random suffix) and the topics themselves. */
final class JobTopics {
    private JobTopics() {}

    /**
     * The endpoint's options, the six topics named after {@code suffix}, reading from the
     * earliest offset, transactional ids {@code txPrefix-suffix}, the bootstrap model.
     */
    static Configuration options(KafkaEndpoint endpoint, String suffix, String txPrefix) {
        Configuration c = Configuration.fromMap(endpoint.asOptions());
        c.set(KafkaOptions.BEHAVIOR_TOPIC, "behavior-" + suffix);
        c.set(KafkaOptions.RECOMMENDATIONS_TOPIC, "recs-" + suffix);
        c.set(KafkaOptions.DLQ_TOPIC, "dlq-" + suffix);
        c.set(KafkaOptions.FEEDBACK_TOPIC, "feedback-" + suffix);
        c.set(KafkaOptions.MODEL_UPDATES_TOPIC, "updates-" + suffix);
        c.set(KafkaOptions.CATALOG_TOPIC, "catalog-" + suffix);
        c.set(KafkaOptions.START_FROM, KafkaOptions.StartFrom.EARLIEST);
        c.set(KafkaOptions.TRANSACTIONAL_ID_PREFIX, txPrefix + "-" + suffix);
        c.set(ModelOptions.PATH, TestModels.bootstrapVersionDir().toString());
        return c;
    }

    /** Creates the options' topics: {@code partitions} for events, lists and feedback, one for the rest. */
    static void create(EmbeddedKafka kafka, Configuration options, int partitions) throws Exception {
        kafka.createTopics(Map.of(
                options.get(KafkaOptions.BEHAVIOR_TOPIC), partitions,
                options.get(KafkaOptions.RECOMMENDATIONS_TOPIC), partitions,
                options.get(KafkaOptions.DLQ_TOPIC), 1,
                options.get(KafkaOptions.FEEDBACK_TOPIC), partitions,
                options.get(KafkaOptions.MODEL_UPDATES_TOPIC), 1,
                options.get(KafkaOptions.CATALOG_TOPIC), 1));
    }
}
