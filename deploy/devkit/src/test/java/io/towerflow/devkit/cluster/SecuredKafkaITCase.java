package io.towerflow.devkit.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.config.KafkaClientOptions;
import io.towerflow.config.KafkaEndpoint;
import io.towerflow.config.KafkaOptions;
import io.towerflow.config.ModelUpdateOptions;
import io.towerflow.config.RecommendOptions;
import io.towerflow.devkit.kafka.EmbeddedKafka;
import io.towerflow.devkit.kafka.LogCapture;
import io.towerflow.devkit.kafka.SaslSslBroker;
import io.towerflow.job.RecommendationJob;
import io.towerflow.kafka.Topics;
import io.towerflow.model.TestModels;
import io.towerflow.operators.ModelStore;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.retrain.ModelUpdates;
import io.towerflow.retrain.ProgressLog;
import io.towerflow.retrain.RetrainJob;
import io.towerflow.synthetic.SyntheticGenerator;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ConfigurationUtils;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.ExceptionUtils;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The job, RetrainJob and the tools against a broker that only speaks SASL_SSL (TLS with a
 * certificate made by the test, SASL/PLAIN users), configured only through
 * {@code towerflow.kafka.properties.*}: every valid event gets exactly one committed list and
 * every malformed one a dead letter; wrong credentials fail fast with the broker's reason; no
 * secret appears in the logs or in the configuration Flink shows.
 */
class SecuredKafkaITCase {
    private static final int HISTORY = 12;
    private static final String MODEL_SECRET = "model-signing-secret-of-the-test";

    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setConfiguration(clusterConfigurationWithSecrets())
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(2)
                            .build());

    @TempDir static Path tmp;
    static Path models;
    static EmbeddedKafka kafka;

    @BeforeAll
    static void startKafka() throws Exception {
        models = Files.createDirectories(tmp.resolve("models"));
        kafka = SaslSslBroker.start(tmp);
    }

    @AfterAll
    static void stopKafka() {
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void pipelineAndRetrainJobThroughSaslSslWithExactlyOnceAccountingAndNoSecretInLogs(@InjectMiniCluster MiniCluster mini)
            throws Exception {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        Configuration options = jobOptions(suffix, kafka.endpoint());
        JobTopics.create(kafka, options, 2);

        SyntheticGenerator.Config cfg = new SyntheticGenerator.Config() /* the bootstrap version's world */;
        cfg.users = 30;
        cfg.seed = 31;
        List<EventFeeder.Item> items = EventFeeder.synthetic(cfg, 600, 50);
        List<BehaviorEvent> valid = items.stream().map(EventFeeder.Item::event)
                .filter(e -> e != null).collect(Collectors.toList());
        long malformed = items.size() - valid.size();

        JobClient job = null;
        try (LogCapture logs = LogCapture.open();
                EventFeeder feeder = new EventFeeder(kafka.endpoint(), options.get(KafkaOptions.BEHAVIOR_TOPIC));
                OutputLedger ledger = new OutputLedger(kafka.endpoint(),
                        options.get(KafkaOptions.RECOMMENDATIONS_TOPIC), options.get(KafkaOptions.DLQ_TOPIC))) {
            job = start(options);
            feeder.send(items, 0);
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (ledger.lists() < valid.size() || ledger.deadLetters() < malformed) {
                assertTrue(System.nanoTime() < deadline,
                        "only " + ledger.lists() + " lists, " + ledger.deadLetters() + " dead letters committed");
                ledger.poll(Duration.ofMillis(200));
            }

            // RetrainJob's producer, consumer and admin client, with only the job's options: a
            // rollback writes a signed copy of the bootstrap as a new version, which the job takes
            List<String> args = new ArrayList<>();
            kafka.endpoint().asOptions().forEach((k, v) -> {
                args.add("--" + k);
                args.add(v);
            });
            args.addAll(List.of("--towerflow.topic.model-updates", options.get(KafkaOptions.MODEL_UPDATES_TOPIC),
                    "--" + ModelUpdateOptions.SIGNING_SECRET.key(), MODEL_SECRET,
                    "--rollback-to", TestModels.bootstrapVersionDir().toString(), "--model-root", models.toString()));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            assertEquals(0, RetrainJob.run(args.toArray(new String[0]), new PrintStream(out), new PrintStream(out)),
                    out.toString(StandardCharsets.UTF_8));
            List<ModelUpdates.Published> published = ModelUpdates.readAll(kafka.endpoint(),
                    options.get(KafkaOptions.MODEL_UPDATES_TOPIC), Duration.ofSeconds(30),
                    new ProgressLog(new PrintStream(out), new PrintStream(out), Clock.systemUTC()));
            assertEquals(1, published.size(), "the published update read back through SASL_SSL");
            new ModelStore(List.of(models.toString()), MODEL_SECRET).verify(published.get(0).update()); // signed

            // the configuration views of the web UI: the cluster's (where config.yaml's towerflow
            // options are), the job's; the job registers no global job parameters
            String ui = get(mini, "/jobmanager/config") + get(mini, "/jobs/" + job.getJobID() + "/jobmanager/config")
                    + get(mini, "/jobs/" + job.getJobID() + "/config");
            assertTrue(ui.contains(KafkaClientOptions.PREFIX + "sasl.jaas.config") && ui.contains("******"), ui);
            for (String secret : SaslSslBroker.secrets()) {
                assertFalse(ui.contains(secret), "a secret in the web UI's configuration view: " + ui);
            }

            ledger.readToEnd(Duration.ofSeconds(60));
            OutputLedger.Verdict v = ledger.verify(valid, malformed, HISTORY);
            assertTrue(v.exact(), "one list per valid event, one dead letter per malformed one: " + v);

            String text = logs.text() + "\n" + out.toString(StandardCharsets.UTF_8);
            assertTrue(text.contains("sasl.jaas.config"), "the clients logged their configuration: "
                    + logs.lineCount() + " lines captured");
            for (String secret : secretsAndModelKey()) {
                assertFalse(text.contains(secret), "a secret in the logs:\n" + linesWith(text, secret));
            }
        } finally {
            if (job != null) {
                job.cancel().get(60, TimeUnit.SECONDS);
            }
        }
        // what Flink's web UI shows of a configuration (JobConfigInfo, ConfigurationInfo) is masked
        String shown = ConfigurationUtils.hideSensitiveValues(options.toMap()).toString();
        for (String secret : SaslSslBroker.secrets()) {
            assertFalse(shown.contains(secret), "a secret in the configuration Flink shows: " + shown);
        }
        assertFalse(kafka.endpoint().toString().contains(SaslSslBroker.PASSWORD));
    }

    @Test
    void wrongCredentialsFailFastWithTheBrokersReason() throws Exception {
        KafkaEndpoint wrong = withPassword(kafka.endpoint(), "not-the-password");
        long t0 = System.nanoTime();
        ExecutionException e = assertThrows(ExecutionException.class, () -> Topics.ensureTopics(
                wrong, Map.of("never-" + UUID.randomUUID(), 1), Map.of(), Duration.ofMinutes(2)));
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(e.getCause() instanceof SaslAuthenticationException, String.valueOf(e.getCause()));
        assertTrue(e.getCause().getMessage().contains("Invalid username or password"), e.getCause().getMessage());
        assertTrue(seconds < 30, "failed after " + seconds + " s, not at once");

        // the job: fails (no restarts here) with the same reason instead of waiting for a broker
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        kafka.createTopics(Map.of("behavior-" + suffix, 1, "updates-" + suffix, 1, "catalog-" + suffix, 1));
        Configuration options = jobOptions(suffix, wrong);
        t0 = System.nanoTime();
        JobClient job = start(options);
        Throwable failure = assertThrows(ExecutionException.class,
                () -> job.getJobExecutionResult().get(2, TimeUnit.MINUTES));
        seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(ExceptionUtils.findThrowable(failure, SaslAuthenticationException.class).isPresent(),
                ExceptionUtils.stringifyException(failure));
        System.out.printf("wrong credentials: admin client failed in < 30 s, the job in %.1f s%n", seconds);
    }

    /**
     * The commonest mistake, no security.protocol: the broker drops the plaintext connection, which
     * a Kafka client retries until its timeout. The job's clients fail within the timeouts given
     * under towerflow.kafka.properties.* (Kafka's defaults: 60 s), not never.
     */
    @Test
    void withoutTlsTheJobFailsWithinTheClientTimeouts() throws Exception {
        Map<String, String> plain = new HashMap<>();
        plain.put("default.api.timeout.ms", "3000");
        plain.put("request.timeout.ms", "2000");
        plain.put("max.block.ms", "3000");
        KafkaEndpoint noTls = new KafkaEndpoint(kafka.bootstrapServers(), plain);
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        kafka.createTopics(Map.of("behavior-" + suffix, 1, "updates-" + suffix, 1, "catalog-" + suffix, 1));
        long t0 = System.nanoTime();
        JobClient job = start(jobOptions(suffix, noTls));
        Throwable failure = assertThrows(ExecutionException.class,
                () -> job.getJobExecutionResult().get(2, TimeUnit.MINUTES));
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("no TLS: the job failed after %.1f s: %s%n", seconds,
                ExceptionUtils.stringifyException(failure).lines()
                        .filter(l -> l.contains("Exception")).reduce((a, b) -> b).orElse(""));
        assertTrue(seconds < 60, "failed after " + seconds + " s");
    }

    /**
     * The password need not be in Flink's configuration at all: a Kafka config provider reads it
     * from a file on the TaskManager, and the configuration holds only a reference.
     */
    @Test
    void theSecretCanComeFromAFileThroughAKafkaConfigProvider() throws Exception {
        Path secrets = tmp.resolve("client-secrets.properties");
        String jaas = kafka.endpoint().clientProperties().get("sasl.jaas.config");
        Files.writeString(secrets, "jaas=" + jaas.replace("\\", "\\\\") + "\n");
        Configuration c = Configuration.fromMap(kafka.endpoint().asOptions());
        c.setString(KafkaClientOptions.PREFIX + "config.providers", "file");
        c.setString(KafkaClientOptions.PREFIX + "config.providers.file.class",
                "org.apache.kafka.common.config.provider.FileConfigProvider");
        c.setString(KafkaClientOptions.PREFIX + "sasl.jaas.config", "${file:" + secrets + ":jaas}");
        assertFalse(c.toMap().toString().contains(SaslSslBroker.PASSWORD));
        Topics.ensureTopics(KafkaEndpoint.of(c), Map.of("provided-" + UUID.randomUUID(), 1), Map.of(),
                Duration.ofSeconds(60));
    }

    @Test
    void aSecretUnderAKeyFlinkWouldShowIsRefused() {
        Configuration c = new Configuration();
        c.set(KafkaOptions.BOOTSTRAP_SERVERS, "k:9093");
        c.setString(KafkaClientOptions.PREFIX + "ssl.keystore.key", "-----BEGIN PRIVATE KEY-----...");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KafkaEndpoint.of(c));
        assertTrue(e.getMessage().contains("ssl.keystore.key"), e.getMessage());
    }

    private static KafkaEndpoint withPassword(KafkaEndpoint k, String password) {
        Map<String, String> props = new HashMap<>(k.clientProperties());
        props.put("sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required"
                + " username=\"" + SaslSslBroker.USER + "\" password=\"" + password + "\";");
        return new KafkaEndpoint(k.bootstrapServers(), props);
    }

    private static List<String> secretsAndModelKey() {
        List<String> all = new ArrayList<>(SaslSslBroker.secrets());
        all.add(MODEL_SECRET);
        return all;
    }

    /** As a config.yaml with the Kafka secrets in it would make the cluster's configuration. */
    private static Configuration clusterConfigurationWithSecrets() {
        Configuration c = new Configuration();
        c.setString(KafkaClientOptions.PREFIX + "sasl.jaas.config",
                "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"" + SaslSslBroker.USER
                        + "\" password=\"" + SaslSslBroker.PASSWORD + "\";");
        c.setString(KafkaClientOptions.PREFIX + "ssl.truststore.password", SaslSslBroker.secrets().get(2));
        return c;
    }

    private static String get(MiniCluster mini, String path) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(mini.getRestAddress().get().resolve(path)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), path + ": " + r.body());
        return r.body();
    }

    private static String linesWith(String text, String s) {
        return text.lines().filter(l -> l.contains(s)).limit(5).collect(Collectors.joining("\n"));
    }

    private static Configuration jobOptions(String suffix, KafkaEndpoint endpoint) {
        Configuration c = JobTopics.options(endpoint, suffix, "secured");
        c.set(ModelUpdateOptions.ALLOWED_ROOTS, List.of(models.toString()));
        c.set(ModelUpdateOptions.SIGNING_SECRET, MODEL_SECRET);
        c.set(RecommendOptions.HISTORY_LENGTH, HISTORY);
        c.set(RecommendOptions.BATCH_MAX_SIZE, 32);
        return c;
    }

    private static JobClient start(Configuration options) throws Exception {
        Configuration flink = new Configuration(options); // as RecommendationJob.main: options in the job's configuration
        flink.setString("execution.checkpointing.interval", "300 ms");
        flink.setString("restart-strategy.type", "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
        env.setParallelism(2);
        RecommendationJob.define(env, options);
        return env.executeAsync("towerflow-secured");
    }
}
