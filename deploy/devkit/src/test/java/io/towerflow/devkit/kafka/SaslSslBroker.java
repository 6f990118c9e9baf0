package io.towerflow.devkit.kafka;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * An {@link EmbeddedKafka} whose client listener speaks SASL_SSL: TLS with a self-signed
 * certificate for localhost (key store and trust store made here with the JDK's {@code keytool},
 * PKCS12), SASL/PLAIN with two users, {@code admin} (the broker's own inter-broker identity) and
 * {@code towerflow}. The controller listener stays PLAINTEXT (it is not reachable by clients).
 */
public final class SaslSslBroker {
    public static final String USER = "towerflow";
    /** Made of fixed words so that a test can search logs for it. */
    public static final String PASSWORD = "tf-s3cret-Pw-0451";
    private static final String ADMIN_PASSWORD = "adm-s3cret-Pw-0451";
    private static final String STORE_PASSWORD = "store-s3cret-Pw-0451";

    private SaslSslBroker() {}

    /** The secrets a log or a configuration view must never show. */
    public static List<String> secrets() {
        return List.of(PASSWORD, ADMIN_PASSWORD, STORE_PASSWORD);
    }

    /** Starts the broker; its TLS material lives in {@code dir}. */
    public static EmbeddedKafka start(Path dir) throws Exception {
        Files.createDirectories(dir);
        Path keyStore = dir.resolve("broker.p12");
        Path trustStore = dir.resolve("truststore.p12");
        makeStores(dir, keyStore, trustStore);
        Map<String, String> broker = new LinkedHashMap<>();
        broker.put("listener.security.protocol.map", "EXTERNAL:SASL_SSL,CONTROLLER:PLAINTEXT");
        broker.put("sasl.enabled.mechanisms", "PLAIN");
        broker.put("sasl.mechanism.inter.broker.protocol", "PLAIN");
        broker.put("listener.name.external.sasl.enabled.mechanisms", "PLAIN");
        broker.put("listener.name.external.plain.sasl.jaas.config",
                "org.apache.kafka.common.security.plain.PlainLoginModule required"
                        + " username=\"admin\" password=\"" + ADMIN_PASSWORD + "\""
                        + " user_admin=\"" + ADMIN_PASSWORD + "\""
                        + " user_" + USER + "=\"" + PASSWORD + "\";");
        broker.put("ssl.keystore.type", "PKCS12");
        broker.put("ssl.keystore.location", keyStore.toString());
        broker.put("ssl.keystore.password", STORE_PASSWORD);
        broker.put("ssl.key.password", STORE_PASSWORD);
        broker.put("ssl.truststore.type", "PKCS12");
        broker.put("ssl.truststore.location", trustStore.toString());
        broker.put("ssl.truststore.password", STORE_PASSWORD);
        return EmbeddedKafka.start(dir.resolve("kafka"), broker, clientProperties(trustStore, USER, PASSWORD));
    }

    /** What a client of this broker sets (all under towerflow.kafka.properties. in the job). */
    public static Map<String, String> clientProperties(Path trustStore, String user, String password) {
        Map<String, String> c = new LinkedHashMap<>();
        c.put("security.protocol", "SASL_SSL");
        c.put("sasl.mechanism", "PLAIN");
        c.put("sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required"
                + " username=\"" + user + "\" password=\"" + password + "\";");
        c.put("ssl.truststore.type", "PKCS12");
        c.put("ssl.truststore.location", trustStore.toString());
        c.put("ssl.truststore.password", STORE_PASSWORD);
        return c;
    }

    /** A self-signed key pair for localhost in a PKCS12 key store, its certificate in a trust store. */
    private static void makeStores(Path dir, Path keyStore, Path trustStore) throws IOException, InterruptedException {
        Path cert = dir.resolve("broker.pem");
        keytool("-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1",
                "-keystore", keyStore.toString(), "-storetype", "PKCS12",
                "-storepass", STORE_PASSWORD, "-keypass", STORE_PASSWORD);
        keytool("-exportcert", "-rfc", "-alias", "broker", "-keystore", keyStore.toString(),
                "-storepass", STORE_PASSWORD, "-file", cert.toString());
        keytool("-importcert", "-noprompt", "-alias", "broker", "-file", cert.toString(),
                "-keystore", trustStore.toString(), "-storetype", "PKCS12", "-storepass", STORE_PASSWORD);
    }

    private static void keytool(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Paths.get(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("keytool " + args[0] + " failed: " + out);
        }
    }
}
