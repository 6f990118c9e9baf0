package io.towerflow.devkit.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.config.KafkaOptions;
import io.towerflow.model.TestModels;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.GlobalConfiguration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The local cluster's Flink configuration (deploy/local/cluster/config.yaml): every key a current
 * Flink 2.2 option with a value that parses, DJL on the parent classloader, Flink's Java 17 flags
 * as the build uses them, and every placeholder filled by {@code cluster up}.
 */
class ClusterConfigTest {
    @TempDir Path tmp;

    static Map<String, String> placeholders() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("CLUSTER_HOME", "/tmp/towerflow/.run/cluster");
        p.put("DJL_CACHE_DIR", "/tmp/towerflow/.cache/djl");
        p.put("REST_PORT", "8081");
        p.put("JOBMANAGER_RPC_PORT", "6123");
        p.put("SLOTS", "4");
        p.put("CHECKPOINT_INTERVAL", "2 s");
        return p;
    }

    private Configuration filled() throws Exception {
        String template = Files.readString(TestModels.repoRoot().resolve(FlinkDist.TEMPLATE));
        Files.writeString(tmp.resolve("config.yaml"), FlinkDist.fill(template, placeholders()));
        return GlobalConfiguration.loadConfiguration(tmp.toString());
    }

    @Test
    void everyKeyIsACurrentFlinkOptionWithAValueThatParses() throws Exception {
        Configuration conf = filled();
        List<String> problems = new ArrayList<>();
        conf.toMap().forEach((k, v) -> {
            String p = FlinkOptionKeys.problem(k, v);
            if (p != null) {
                problems.add(p);
            }
        });
        assertTrue(problems.isEmpty(), String.join("\n", problems));
        assertTrue(conf.toMap().size() > 30, "the template was read: " + conf.toMap().keySet());
    }

    @Test
    void djlIsParentFirstAndOfflineInTaskManagers() throws Exception {
        Configuration conf = filled();
        assertTrue(conf.get(CoreOptions.ALWAYS_PARENT_FIRST_LOADER_PATTERNS_ADDITIONAL).contains("ai.djl."));
        String tm = conf.get(CoreOptions.FLINK_TM_JVM_OPTIONS);
        assertTrue(tm.contains("-Doffline=true"), tm);
        assertTrue(tm.contains("-DDJL_CACHE_DIR=/tmp/towerflow/.cache/djl"), tm);
        assertTrue(tm.contains("-Djna.tmpdir="), tm);
    }

    @Test
    void javaModuleFlagsAreTheBuildsOwn() throws Exception {
        String pom = Files.readString(TestModels.repoRoot().resolve("pom.xml"));
        Matcher m = Pattern.compile("<flink.java17.opts>(.*)</flink.java17.opts>").matcher(pom);
        assertTrue(m.find());
        assertEquals(m.group(1).trim(), filled().get(CoreOptions.FLINK_DEFAULT_JVM_OPTIONS).trim());
    }

    @Test
    void everyPlaceholderIsFilledAndAnUnknownOneIsAnError() throws Exception {
        Configuration conf = filled();
        conf.toMap().forEach((k, v) -> assertFalse(v.contains("@"), k + ": " + v));
        Map<String, String> missing = placeholders();
        missing.remove("SLOTS");
        String template = Files.readString(TestModels.repoRoot().resolve(FlinkDist.TEMPLATE));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FlinkDist.fill(template, missing));
        assertTrue(e.getMessage().contains("@SLOTS@"), e.getMessage());
    }

    @Test
    void upCreatesEveryTopicOfTheJob() throws Exception {
        for (Field f : KafkaOptions.class.getFields()) {
            if (f.getType() == ConfigOption.class) {
                ConfigOption<?> o = (ConfigOption<?>) f.get(null);
                if (o.key().startsWith("towerflow.topic.")) {
                    assertTrue(LocalCluster.TOPICS.containsKey(String.valueOf(o.defaultValue())), o.key() + " is not created by `cluster up`");
                }
            }
        }
    }

    @Test
    void aDeprecatedOrUnknownKeyIsCaught() {
        assertTrue(FlinkOptionKeys.problem("state.checkpoints.dir", "file:///x").contains("execution.checkpointing.dir"));
        assertTrue(FlinkOptionKeys.problem("execution.checkpointing.intervall", "1 s").contains("not a Flink option"));
        assertTrue(FlinkOptionKeys.problem("execution.checkpointing.interval", "soon").contains("does not parse"));
    }
}
