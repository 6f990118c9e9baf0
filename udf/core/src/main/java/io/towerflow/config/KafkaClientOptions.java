package io.towerflow.config;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.ReadableConfig;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Arbitrary Kafka client properties by prefix, as Flink SQL's Kafka connector takes
 * {@code properties.*}: {@code towerflow.kafka.properties.security.protocol: SASL_SSL} becomes
 * {@code security.protocol=SASL_SSL} on every client the job and the tools create (sources,
 * sinks, RetrainJob's consumers and producer, topic administration, the demo and the cluster
 * tooling). {@link #properties(ReadableConfig)} is the one place that extracts them.
 */
public final class KafkaClientOptions {

    /** Set by the job or the tool per client; a user value would break delivery guarantees. */
    private static final Set<String> MANAGED =
            Set.of(
                    "bootstrap.servers",
                    "group.id",
                    "transactional.id",
                    "isolation.level",
                    "enable.auto.commit",
                    "enable.idempotence",
                    "key.serializer",
                    "value.serializer",
                    "key.deserializer",
                    "value.deserializer");

    /** The prefix; what follows it is the Kafka client property's name. */
    public static final String PREFIX = "towerflow.kafka.properties.";

    /**
     * Documents the prefix in docs/configuration.md; it is never read as one option (the key
     * holds a placeholder): {@link #properties(ReadableConfig)} reads every key under the prefix.
     */
    public static final ConfigOption<String> PROPERTIES =
            ConfigOptions.key(PREFIX + "<name>")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Any Kafka client property <name>, passed to every Kafka client the "
                                    + "job and the tools create, e.g. "
                                    + "towerflow.kafka.properties.security.protocol: SASL_SSL, "
                                    + "towerflow.kafka.properties.sasl.jaas.config: ... "
                                    + "(docs/operations.md, secured Kafka). Properties the job "
                                    + "manages itself are refused: "
                                    + String.join(", ", new java.util.TreeSet<>(MANAGED))
                                    + ". Flink shows and logs values of keys containing "
                                    + "password, secret, token or jaas.config as ******; "
                                    + "the job refuses a Kafka secret under another key.");

    private KafkaClientOptions() {}

    /**
     * The Kafka client properties under {@link #PREFIX}, prefix stripped, sorted by name.
     *
     * @throws IllegalArgumentException for an empty name or a property the job manages itself
     */
    public static Map<String, String> properties(ReadableConfig conf) {
        Map<String, String> out = new TreeMap<>();
        for (Map.Entry<String, String> e : conf.toMap().entrySet()) {
            if (!e.getKey().startsWith(PREFIX)) {
                continue;
            }
            String name = e.getKey().substring(PREFIX.length());
            if (name.isEmpty()) {
                throw new IllegalArgumentException(PREFIX + " needs a Kafka property name after it");
            }
            if (MANAGED.contains(name)) {
                throw new IllegalArgumentException(
                        e.getKey() + " is set by towerflow itself and cannot be overridden"
                                + (name.equals("bootstrap.servers")
                                        ? "; use " + KafkaOptions.BOOTSTRAP_SERVERS.key()
                                        : ""));
            }
            out.put(name, e.getValue());
        }
        return out;
    }
}
