package io.towerflow.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

import java.util.Properties;

class KafkaEndpointTest {
    private static final String JAAS =
            "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"u\" password=\"pw-123\";";

    private static Configuration secured() {
        Configuration c = new Configuration();
        c.set(KafkaOptions.BOOTSTRAP_SERVERS, "k1:9093,k2:9093");
        c.setString(KafkaClientOptions.PREFIX + "security.protocol", "SASL_SSL");
        c.setString(KafkaClientOptions.PREFIX + "sasl.mechanism", "SCRAM-SHA-256");
        c.setString(KafkaClientOptions.PREFIX + "sasl.jaas.config", JAAS);
        c.setString(KafkaClientOptions.PREFIX + "ssl.truststore.password", "ts-pw-456");
        return c;
    }

    @Test
    void everyClientGetsTheBootstrapServersAndTheClientProperties() {
        KafkaEndpoint k = KafkaEndpoint.of(secured());
        Properties p = k.properties();
        assertEquals("k1:9093,k2:9093", p.get("bootstrap.servers"));
        assertEquals("SASL_SSL", p.get("security.protocol"));
        assertEquals(JAAS, p.get("sasl.jaas.config"));
        p.put("group.id", "mine");
        assertFalse(k.properties().containsKey("group.id"), "each client gets a fresh copy");
        assertEquals(k, KafkaEndpoint.of(Configuration.fromMap(k.asOptions())), "options recreate the endpoint");
    }

    @Test
    void itsStringMasksSecretsAsFlinkDoes() {
        String s = KafkaEndpoint.of(secured()).toString();
        assertFalse(s.contains("pw-123") || s.contains("ts-pw-456"), s);
        assertTrue(s.contains("security.protocol=SASL_SSL") && s.contains("******"), s);
    }

    @Test
    void kafkaSecretsAreKnownByTheirType() {
        assertTrue(KafkaEndpoint.isKafkaSecret("sasl.jaas.config"));
        assertTrue(KafkaEndpoint.isKafkaSecret("ssl.keystore.key"));
        assertFalse(KafkaEndpoint.isKafkaSecret("security.protocol"));
        Configuration c = secured();
        c.setString(KafkaClientOptions.PREFIX + "ssl.keystore.key", "-----BEGIN PRIVATE KEY-----");
        assertThrows(IllegalArgumentException.class, () -> KafkaEndpoint.of(c));
        Configuration none = new Configuration();
        assertThrows(NullPointerException.class, () -> KafkaEndpoint.of(none), "bootstrap servers are required");
    }
}
