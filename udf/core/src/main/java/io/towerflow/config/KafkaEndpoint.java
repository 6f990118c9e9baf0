package io.towerflow.config;

import org.apache.flink.configuration.ConfigurationUtils;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Where and how every Kafka client of the job and the tools connects: the bootstrap servers and
 * the client properties given under {@code towerflow.kafka.properties.} (security protocol,
 * SASL, TLS, timeouts, ...). Each client starts from {@link #properties()} and then sets what it
 * manages itself (group id, isolation level, serializers, ...).
 *
 * <p>{@link #toString()} masks secrets as Flink does, and {@link #of(ReadableConfig)} refuses a
 * Kafka secret (a property of Kafka's PASSWORD type) under a key that Flink would not mask in its
 * logs and web UI, e.g. {@code ssl.keystore.key}: put such a value in a file or behind a Kafka
 * config provider instead.
 */
public record KafkaEndpoint(String bootstrapServers, Map<String, String> clientProperties) {

    private static final List<ConfigDef> CLIENT_CONFIGS =
            List.of(ProducerConfig.configDef(), ConsumerConfig.configDef(), AdminClientConfig.configDef());

    public KafkaEndpoint {
        Objects.requireNonNull(bootstrapServers, KafkaOptions.BOOTSTRAP_SERVERS.key() + " is required");
        clientProperties = Map.copyOf(clientProperties);
    }

    /** The bootstrap servers and client properties of a job's or tool's configuration. */
    public static KafkaEndpoint of(ReadableConfig conf) {
        Map<String, String> props = KafkaClientOptions.properties(conf);
        for (String name : props.keySet()) {
            if (isKafkaSecret(name) && !GlobalConfiguration.isSensitive(KafkaClientOptions.PREFIX + name)) {
                throw new IllegalArgumentException(
                        KafkaClientOptions.PREFIX + name + " holds a secret that Flink would show in its "
                                + "logs and web UI; give it in a file (e.g. ssl.keystore.location) or "
                                + "through a Kafka config provider (config.providers)");
            }
        }
        return new KafkaEndpoint(conf.get(KafkaOptions.BOOTSTRAP_SERVERS), props);
    }

    /** A broker that needs no client properties (the embedded demo broker, a local cluster's). */
    public static KafkaEndpoint plain(String bootstrapServers) {
        return new KafkaEndpoint(bootstrapServers, Map.of());
    }

    /** The same client properties for another broker address. */
    public KafkaEndpoint withBootstrapServers(String servers) {
        return new KafkaEndpoint(servers, clientProperties);
    }

    /** A fresh, mutable set of the client properties plus {@code bootstrap.servers}. */
    public Properties properties() {
        Properties p = new Properties();
        p.putAll(clientProperties);
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return p;
    }

    /** As {@link #properties()}, as a map (for clients built from one). */
    public Map<String, Object> map() {
        Map<String, Object> m = new LinkedHashMap<>(clientProperties);
        m.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return m;
    }

    /**
     * The options that recreate this endpoint, e.g. for a tool started from here: {@code
     * towerflow.kafka.bootstrap-servers} and every {@code towerflow.kafka.properties.<name>}.
     */
    public Map<String, String> asOptions() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(KafkaOptions.BOOTSTRAP_SERVERS.key(), bootstrapServers);
        clientProperties.forEach((k, v) -> m.put(KafkaClientOptions.PREFIX + k, v));
        return m;
    }

    /** Whether Kafka types {@code name} as a password (shown as [hidden] in its own logs). */
    static boolean isKafkaSecret(String name) {
        for (ConfigDef def : CLIENT_CONFIGS) {
            ConfigDef.ConfigKey key = def.configKeys().get(name);
            if (key != null && key.type == ConfigDef.Type.PASSWORD) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        Map<String, String> shown = new TreeMap<>(ConfigurationUtils.hideSensitiveValues(asOptions()));
        return "KafkaEndpoint" + shown;
    }
}
