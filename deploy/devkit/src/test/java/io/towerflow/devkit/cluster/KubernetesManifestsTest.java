package io.towerflow.devkit.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.config.KafkaOptions;
import io.towerflow.config.ModelOptions;
import io.towerflow.config.RetrainOptions;
import io.towerflow.job.RecommendationJob;
import io.towerflow.model.TestModels;
import io.towerflow.retrain.RetrainJob;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import javax.xml.parsers.DocumentBuilderFactory;

/**
 * deploy/kubernetes must agree with the code and the build: the image tag and versions with the
 * poms, the jar path and entry class with the job, every option name with the option classes and
 * Flink, GPU limits with the configuration, the model path with the mounted volume, the topics with
 * the options' defaults.
 */
class KubernetesManifestsTest {
    private static final Path DIR = TestModels.repoRoot().resolve("deploy/kubernetes");
    private static final YAMLMapper YAML = new YAMLMapper();

    private static List<JsonNode> documents(String file) throws Exception {
        List<JsonNode> docs = new ArrayList<>();
        YAML.readerFor(JsonNode.class).readValues(DIR.resolve(file).toFile()).forEachRemaining(d -> docs.add((JsonNode) d));
        return docs;
    }

    private static JsonNode kind(String file, String kind) throws Exception {
        return documents(file).stream().filter(d -> kind.equals(d.path("kind").asText())).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " in " + file));
    }

    /** A property of the root pom (or the project version). */
    private static String pom(String name) throws Exception {
        Document d = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(TestModels.repoRoot().resolve("pom.xml").toFile());
        String xpath = name.equals("version") ? "/project/version" : "/project/properties/" + name;
        return javax.xml.xpath.XPathFactory.newInstance().newXPath().evaluate(xpath, d).trim();
    }

    /** ARG defaults, ENV values and COPY destinations of the Dockerfile (continuation lines joined). */
    private static final class Dockerfile {
        final Map<String, String> args = new HashMap<>();
        final Map<String, String> env = new HashMap<>();
        final Map<String, String> copies = new LinkedHashMap<>();
        final Map<String, String> labels = new HashMap<>();

        Dockerfile() throws Exception {
            String text = Files.readString(DIR.resolve("Dockerfile")).replace("\\\n", " ");
            for (String line : text.split("\n")) {
                String l = line.trim();
                if (l.startsWith("ARG ") && l.contains("=")) {
                    String[] kv = l.substring(4).split("=", 2);
                    assertTrue(args.getOrDefault(kv[0], kv[1]).equals(kv[1]), "ARG " + kv[0] + " has two defaults");
                    args.put(kv[0], kv[1]);
                } else if (l.startsWith("ENV ") || l.startsWith("LABEL ")) {
                    Matcher m = Pattern.compile("([\\w.]+)=(\"[^\"]*\"|\\S+)").matcher(l);
                    while (m.find()) {
                        (l.startsWith("ENV") ? env : labels).put(m.group(1), m.group(2).replace("\"", ""));
                    }
                } else if (l.startsWith("COPY ")) {
                    String[] w = Stream.of(l.split("\\s+")).filter(s -> !s.startsWith("--")).toArray(String[]::new);
                    copies.put(w[w.length - 2], w[w.length - 1]);
                }
            }
        }
    }

    /** Program arguments {@code --key value} as a map. */
    private static Map<String, String> pairs(JsonNode args) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.size(); i += 2) {
            assertTrue(args.get(i).asText().startsWith("--"), "argument " + i + ": " + args.get(i));
            m.put(args.get(i).asText().substring(2), args.get(i + 1).asText());
        }
        assertEquals(0, args.size() % 2, "arguments come in --key value pairs: " + args);
        return m;
    }

    /** Every towerflow option, by key, from the option classes beside KafkaOptions. */
    private static Map<String, ConfigOption<?>> towerflowOptions() throws Exception {
        Map<String, ConfigOption<?>> all = new HashMap<>();
        // the options of the core (job) and of training (RetrainJob): two modules, one package
        List<String> names = new ArrayList<>();
        for (Class<?> anchor : List.of(KafkaOptions.class, RetrainOptions.class)) {
            Path dir = Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (Files.isDirectory(dir)) {
                try (Stream<Path> s = Files.list(dir.resolve("io/towerflow/config"))) {
                    s.map(p -> p.getFileName().toString()).forEach(names::add);
                }
            } else {
                try (java.util.zip.ZipFile z = new java.util.zip.ZipFile(dir.toFile())) {
                    z.stream().map(java.util.zip.ZipEntry::getName).filter(n -> n.startsWith("io/towerflow/config/"))
                            .map(n -> n.substring("io/towerflow/config/".length())).forEach(names::add);
                }
            }
        }
        for (String n : names) {
            if (n.endsWith("Options.class") && !n.contains("$")) {
                for (Field f : Class.forName("io.towerflow.config." + n.replace(".class", "")).getFields()) {
                    if (Modifier.isStatic(f.getModifiers()) && f.getType() == ConfigOption.class) {
                        ConfigOption<?> o = (ConfigOption<?>) f.get(null);
                        all.put(o.key(), o);
                    }
                }
            }
        }
        assertTrue(all.containsKey(KafkaOptions.BOOTSTRAP_SERVERS.key()), "option classes found: " + all.keySet());
        return all;
    }

    private static void assertTowerflowArgs(Map<String, String> args, String where) throws Exception {
        Map<String, ConfigOption<?>> known = towerflowOptions();
        for (Map.Entry<String, String> a : args.entrySet()) {
            ConfigOption<?> o = known.get(a.getKey());
            assertNotNull(o, where + ": --" + a.getKey() + " is not a towerflow option");
            Configuration.fromMap(Map.of(a.getKey(), a.getValue())).get(o); // the value parses
        }
    }

    private static final String IMAGE_SUFFIX = "-cu118";

    @Test
    void imageTagAndVersionsAgreeWithThePoms() throws Exception {
        Dockerfile df = new Dockerfile();
        String version = pom("version");
        assertEquals("flink:" + pom("flink.version") + "-scala_2.12-java17", df.args.get("FLINK_IMAGE"));
        assertEquals(pom("pytorch.version"), df.args.get("PYTORCH_VERSION"));
        assertEquals(version, df.labels.get("org.opencontainers.image.version"));
        String image = "towerflow:" + version + IMAGE_SUFFIX;
        assertEquals(image, kind("flink-deployment.yaml", "FlinkDeployment").path("spec").path("image").asText());
        assertEquals(image, cronContainer().path("image").asText());
        String[] flink = pom("flink.version").split("\\.");
        assertEquals("v" + flink[0] + "_" + flink[1],
                kind("flink-deployment.yaml", "FlinkDeployment").path("spec").path("flinkVersion").asText());
    }

    @Test
    void imageHasCudaCudnnAndLibtorchWhereDjlLooks() throws Exception {
        Dockerfile df = new Dockerfile();
        assertTrue(df.args.get("CUDA_IMAGE").matches("nvidia/cuda:11\\.8\\.\\d+-cudnn8-runtime-.*"), df.args.get("CUDA_IMAGE"));
        assertEquals("cu118", df.env.get("PYTORCH_FLAVOR"));
        assertEquals("${PYTORCH_VERSION}", df.env.get("PYTORCH_VERSION"));
        String libtorch = df.env.get("PYTORCH_LIBRARY_PATH");
        assertTrue(df.copies.containsValue(libtorch + "/"), "libtorch copied to " + libtorch + ": " + df.copies);
        assertTrue(df.env.get("LD_LIBRARY_PATH").contains("/usr/local/cuda-11.8/lib64"));
        assertTrue(df.copies.keySet().stream().anyMatch(k -> k.contains("libcudnn")), "cuDNN copied: " + df.copies);
        assertEquals("job/target/flink-lib/", df.copies.entrySet().stream()
                .filter(e -> e.getKey().contains("flink-lib")).findFirst().orElseThrow().getKey());
    }

    @Test
    void flinkDeploymentRunsTheJobJarOfTheImage() throws Exception {
        JsonNode job = kind("flink-deployment.yaml", "FlinkDeployment").path("spec").path("job");
        Dockerfile df = new Dockerfile();
        String jarInImage = df.copies.get("job/target/towerflow-job-*-cluster.jar");
        assertNotNull(jarInImage, "the Dockerfile copies the cluster jar: " + df.copies);
        assertEquals(URI.create("local://" + jarInImage), URI.create(job.path("jarURI").asText()));
        assertEquals(RecommendationJob.class.getName(), job.path("entryClass").asText());
        RecommendationJob.class.getMethod("main", String[].class);
        String shade = Files.readString(TestModels.repoRoot().resolve("job/pom.xml"));
        assertTrue(shade.contains("<mainClass>" + RecommendationJob.class.getName() + "</mainClass>"));
        assertEquals("savepoint", job.path("upgradeMode").asText());

        Map<String, String> args = pairs(job.path("args"));
        assertTowerflowArgs(args, "FlinkDeployment");
        assertTrue(args.containsKey(KafkaOptions.BOOTSTRAP_SERVERS.key()));
        assertTrue(args.containsKey(ModelOptions.PATH.key()));
    }

    @Test
    void flinkConfigurationIsCurrentFlinkWithDjlParentFirst() throws Exception {
        JsonNode conf = kind("flink-deployment.yaml", "FlinkDeployment").path("spec").path("flinkConfiguration");
        List<String> problems = new ArrayList<>();
        conf.fields().forEachRemaining(e -> {
            String p = FlinkOptionKeys.problem(e.getKey(), e.getValue().asText());
            if (p != null) {
                problems.add(p);
            }
        });
        assertTrue(problems.isEmpty(), String.join("\n", problems));
        assertTrue(conf.path("classloader.parent-first-patterns.additional").asText().contains("ai.djl."));
        String tmOpts = conf.path("env.java.opts.taskmanager").asText();
        assertTrue(tmOpts.contains("-Doffline=true"), tmOpts);
        assertTrue(tmOpts.contains("--add-modules=jdk.incubator.vector"), "the fused kernel needs the Vector API: " + tmOpts);
        assertTrue(tmOpts.contains("-DDJL_CACHE_DIR=" + new Dockerfile().env.get("DJL_CACHE_DIR")), tmOpts);
    }

    @Test
    void everyTaskManagerSlotHasItsGpu() throws Exception {
        JsonNode spec = kind("flink-deployment.yaml", "FlinkDeployment").path("spec");
        JsonNode conf = spec.path("flinkConfiguration");
        int gpus = conf.path("external-resource.gpu.amount").asInt();
        assertEquals("gpu", conf.path("external-resources").asText());
        assertEquals("nvidia.com/gpu", conf.path("external-resource.gpu.kubernetes.config-key").asText());
        JsonNode main = mainContainer(spec.path("taskManager").path("podTemplate"));
        assertEquals(gpus, main.path("resources").path("limits").path("nvidia.com/gpu").asInt(), "pod limit = Flink's request");
        assertTrue(gpus >= 1);
        assertEquals(gpus, conf.path("taskmanager.numberOfTaskSlots").asInt(), "one GPU per slot");
        assertEquals("GPU", pairs(spec.path("job").path("args")).get(ModelOptions.DEVICE.key()));
    }

    @Test
    void modelVersionsLieOnOneVolumeAtOnePath() throws Exception {
        JsonNode spec = kind("flink-deployment.yaml", "FlinkDeployment").path("spec");
        JsonNode pod = spec.path("taskManager").path("podTemplate");
        String claim = kind("flink-deployment.yaml", "PersistentVolumeClaim").path("metadata").path("name").asText();
        String served = pairs(spec.path("job").path("args")).get(ModelOptions.PATH.key());
        String tmMount = mountOf(claim, mainContainer(pod), pod.path("spec"));
        assertTrue(served.startsWith(tmMount + "/"), served + " is on the models volume " + tmMount);

        // RetrainJob writes versions under its model root and publishes their paths on
        // model-updates: the TaskManagers must see that volume at the same path
        JsonNode cronPod = kind("retrain-cronjob.yaml", "CronJob").path("spec").path("jobTemplate").path("spec").path("template");
        String root = pairs(cronContainer().path("args")).get(RetrainOptions.MODEL_ROOT.key());
        assertEquals(tmMount, root);
        assertEquals(tmMount, mountOf(claim, cronContainer(), cronPod.path("spec")));
    }

    /** Where {@code container} mounts the volume of {@code claim}. */
    private static String mountOf(String claim, JsonNode container, JsonNode podSpec) {
        for (JsonNode v : podSpec.path("volumes")) {
            if (claim.equals(v.path("persistentVolumeClaim").path("claimName").asText())) {
                for (JsonNode m : container.path("volumeMounts")) {
                    if (m.path("name").asText().equals(v.path("name").asText())) {
                        return m.path("mountPath").asText();
                    }
                }
            }
        }
        throw new AssertionError(container.path("name").asText() + " does not mount claim " + claim);
    }

    @Test
    void retrainCronJobRunsTheImagesLauncher() throws Exception {
        JsonNode c = cronContainer();
        Dockerfile df = new Dockerfile();
        assertEquals(df.copies.get("deploy/kubernetes/towerflow-java"), c.path("command").get(0).asText());
        assertTrue(Files.isExecutable(DIR.resolve("towerflow-java")));
        assertEquals(RetrainJob.class.getName(), c.path("command").get(1).asText());
        RetrainJob.class.getMethod("main", String[].class);
        // the launcher's classpath holds the training module's runnable jar, as the image has it
        String retrainJar = df.copies.get("udf/training/target/towerflow-training-*-retrain.jar");
        assertNotNull(retrainJar, "the Dockerfile copies the retraining jar: " + df.copies);
        assertTrue(Files.readString(DIR.resolve("towerflow-java")).contains(retrainJar));
        String shade = Files.readString(TestModels.repoRoot().resolve("udf/training/pom.xml"));
        assertTrue(shade.contains("<mainClass>" + RetrainJob.class.getName() + "</mainClass>"));
        assertTowerflowArgs(pairs(c.path("args")), "CronJob");
    }


    @Test
    void everyTopicOfTheOptionsIsDefinedAndPartitionedForTheJob() throws Exception {
        Map<String, JsonNode> topics = new HashMap<>();
        String cluster = null;
        for (JsonNode d : documents("topics.yaml")) {
            assertEquals("KafkaTopic", d.path("kind").asText());
            topics.put(d.path("spec").path("topicName").asText(), d.path("spec"));
            String c = d.path("metadata").path("labels").path("strimzi.io/cluster").asText();
            assertTrue(cluster == null || cluster.equals(c), "one Kafka cluster");
            cluster = c;
            assertTrue(d.path("spec").path("config").path("min.insync.replicas").asInt() < d.path("spec").path("replicas").asInt());
        }
        for (ConfigOption<?> o : towerflowOptions().values()) {
            if (o.key().startsWith("towerflow.topic.") && o.hasDefaultValue()) {
                assertTrue(topics.containsKey(o.defaultValue().toString()), "no KafkaTopic for " + o.key() + " = " + o.defaultValue());
            }
        }
        JsonNode job = kind("flink-deployment.yaml", "FlinkDeployment").path("spec").path("job");
        assertTrue(topics.get(KafkaOptions.BEHAVIOR_TOPIC.defaultValue()).path("partitions").asInt() >= job.path("parallelism").asInt(),
                "every source subtask has a partition to read");
        String bootstrap = pairs(job.path("args")).get(KafkaOptions.BOOTSTRAP_SERVERS.key());
        assertEquals(cluster + "-kafka-bootstrap", bootstrap.split(":")[0], "Strimzi's bootstrap service of the topics' cluster");
        assertEquals(bootstrap, pairs(cronContainer().path("args")).get(KafkaOptions.BOOTSTRAP_SERVERS.key()));
    }

    private static JsonNode mainContainer(JsonNode podTemplate) {
        for (JsonNode c : podTemplate.path("spec").path("containers")) {
            if ("flink-main-container".equals(c.path("name").asText())) {
                return c;
            }
        }
        throw new AssertionError("no flink-main-container in the pod template");
    }

    private static JsonNode cronContainer() throws Exception {
        return kind("retrain-cronjob.yaml", "CronJob").path("spec").path("jobTemplate").path("spec")
                .path("template").path("spec").path("containers").get(0);
    }
}
