package io.towerflow.devkit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.towerflow.model.TestModels;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Dependencies between the modules point one way: job → core, training → core, devkit → training,
 * job, core. Maven refuses cycles, and a module sees only what its pom declares (and what that
 * brings along), so the poms are the whole rule: this test fails when one of them declares a
 * towerflow module it must not.
 */
class ModuleDependenciesTest {
    /** Module directory → the towerflow artifacts its main code may depend on. */
    static final Map<String, Set<String>> ALLOWED = Map.of(
            "udf/core", Set.of(),
            "udf/training", Set.of("towerflow-core"),
            "job", Set.of("towerflow-core"),
            "deploy/devkit", Set.of("towerflow-core", "towerflow-training", "towerflow-job"));

    private static final Pattern DEPENDENCY = Pattern.compile(
            "<dependency>\\s*<groupId>io\\.towerflow</groupId>\\s*<artifactId>([\\w-]+)</artifactId>(.*?)</dependency>",
            Pattern.DOTALL);

    @Test
    void everyModuleDependsOnlyOnTheModulesBelowIt() throws Exception {
        Path root = TestModels.repoRoot();
        String parent = Files.readString(root.resolve("pom.xml"));
        Set<String> modules = new TreeSet<>();
        Matcher m = Pattern.compile("<module>([^<]+)</module>").matcher(parent);
        while (m.find()) {
            modules.add(m.group(1));
        }
        assertEquals(new TreeSet<>(ALLOWED.keySet()), modules, "the root pom's modules");
        for (String module : modules) {
            Set<String> main = new TreeSet<>();
            Matcher d = DEPENDENCY.matcher(Files.readString(root.resolve(module).resolve("pom.xml")));
            while (d.find()) {
                // the core's test-jar (shared fixtures) is a test dependency, not an architectural one
                if (!d.group(2).contains("<scope>test</scope>")) {
                    main.add(d.group(1));
                }
            }
            Set<String> beyond = new TreeSet<>(main);
            beyond.removeAll(ALLOWED.get(module));
            assertEquals(Set.of(), beyond, module + " depends on modules it must not (it declares " + main + ")");
        }
    }
}
