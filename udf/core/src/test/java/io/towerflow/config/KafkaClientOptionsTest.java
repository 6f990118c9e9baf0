package io.towerflow.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import org.junit.jupiter.api.Test;

import java.util.Map;

class KafkaClientOptionsTest {

    @Test
    void propertiesUnderThePrefixArePassedWithThePrefixStripped() {
        Configuration c = new Configuration();
        c.setString("towerflow.kafka.properties.security.protocol", "SASL_SSL");
        c.setString("towerflow.kafka.properties.sasl.mechanism", "SCRAM-SHA-256");
        c.setString("towerflow.kafka.group-id", "g");
        c.setString("properties.security.protocol", "PLAINTEXT");
        assertEquals(Map.of("security.protocol", "SASL_SSL", "sasl.mechanism", "SCRAM-SHA-256"),
                KafkaClientOptions.properties(c));
        assertEquals(Map.of(), KafkaClientOptions.properties(new Configuration()));
    }

    @Test
    void propertiesTheJobManagesAreRefused() {
        for (String name : new String[] {"bootstrap.servers", "isolation.level", "transactional.id", "group.id"}) {
            Configuration c = new Configuration();
            c.setString(KafkaClientOptions.PREFIX + name, "x");
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> KafkaClientOptions.properties(c));
            assertTrue(e.getMessage().contains(name), e.getMessage());
        }
        Configuration empty = new Configuration();
        empty.setString(KafkaClientOptions.PREFIX, "x");
        assertThrows(IllegalArgumentException.class, () -> KafkaClientOptions.properties(empty));
    }

    /** What Flink masks in its logs and web UI (GlobalConfiguration.isSensitive), checked, not assumed. */
    @Test
    void flinkMasksTheUsualKafkaSecretsUnderThePrefix() {
        for (String name : new String[] {"sasl.jaas.config", "ssl.keystore.password", "ssl.truststore.password",
                "ssl.key.password", "sasl.oauthbearer.client.credentials.client.secret"}) {
            assertTrue(GlobalConfiguration.isSensitive(KafkaClientOptions.PREFIX + name), name);
        }
        // a PEM private key given inline is not masked: KafkaEndpoint refuses it (job module)
        assertFalse(GlobalConfiguration.isSensitive(KafkaClientOptions.PREFIX + "ssl.keystore.key"));
        assertFalse(GlobalConfiguration.isSensitive(KafkaClientOptions.PREFIX + "security.protocol"));
    }
}
