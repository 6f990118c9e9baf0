package io.towerflow.devkit.cluster;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessSpec;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.apache.flink.runtime.jobmanager.JobManagerProcessSpec;
import org.apache.flink.runtime.jobmanager.JobManagerProcessUtils;
import org.apache.flink.runtime.util.config.memory.ProcessMemoryUtils;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A Flink "distribution" under {@code .run/cluster/flink}, laid out as the tarball is — {@code
 * lib/} (Flink's jars from Maven Central plus DJL and libtorch from {@code job/target/flink-lib}),
 * {@code plugins/metrics-prometheus/}, {@code conf/config.yaml} and {@code conf/log4j.properties}
 * — and the command lines of its JobManager and TaskManagers, built as the tarball's scripts build
 * them: memory flags from Flink's own process-memory model (what {@code BashJavaUtils
 * GET_JM_RESOURCE_PARAMS / GET_TM_RESOURCE_PARAMS} print), then {@code env.java.*} options,
 * logging flags, and {@code --configDir} with the dynamic memory settings.
 */
final class FlinkDist {
    static final String JOBMANAGER_MAIN = "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint";
    static final String TASKMANAGER_MAIN = "org.apache.flink.runtime.taskexecutor.TaskManagerRunner";
    static final String TEMPLATE = "deploy/local/cluster/config.yaml";
    private static final Pattern PLACEHOLDER = Pattern.compile("@([A-Z0-9_]+)@");

    private final ClusterHome home;

    FlinkDist(ClusterHome home) {
        this.home = home;
    }

    /**
     * Lays out lib/, plugins/ and conf/. {@code flinkJars} is Flink's classpath (profile {@code
     * flink}); {@code djlLib} the job module's {@code target/flink-lib}.
     */
    void install(List<Path> flinkJars, Path djlLib, Map<String, String> placeholders) throws IOException {
        Files.createDirectories(home.lib());
        Path prometheus = home.plugins().resolve("metrics-prometheus");
        Files.createDirectories(prometheus);
        Files.createDirectories(home.conf());
        for (Path jar : flinkJars) {
            String name = jar.getFileName().toString();
            Files.createSymbolicLink(
                    (name.startsWith("flink-metrics-prometheus-") ? prometheus : home.lib()).resolve(name), jar);
        }
        try (Stream<Path> djl = Files.list(djlLib)) {
            for (Path jar : djl.filter(p -> p.toString().endsWith(".jar")).collect(Collectors.toList())) {
                Files.createSymbolicLink(home.lib().resolve(jar.getFileName()), jar.toAbsolutePath());
            }
        }
        Files.writeString(home.conf().resolve("config.yaml"), fill(Files.readString(home.repo.resolve(TEMPLATE)), placeholders));
        Files.copy(home.repo.resolve("deploy/local/cluster/log4j.properties"), home.conf().resolve("log4j.properties"));
    }

    /** The template with every {@code @NAME@} replaced; an unknown placeholder is an error. */
    static String fill(String template, Map<String, String> values) {
        Matcher m = PLACEHOLDER.matcher(template);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String v = values.get(m.group(1));
            if (v == null) {
                throw new IllegalArgumentException("no value for placeholder " + m.group() + " in " + TEMPLATE);
            }
            m.appendReplacement(out, Matcher.quoteReplacement(v));
        }
        m.appendTail(out);
        return out.toString();
    }

    Configuration configuration() {
        return GlobalConfiguration.loadConfiguration(home.conf().toString());
    }

    /** The command line of the JobManager (a standalone session cluster entry point). */
    List<String> jobManagerCommand(Map<String, String> dynamicProperties) {
        Configuration conf = configuration();
        JobManagerProcessSpec spec = JobManagerProcessUtils.processSpecFromConfig(conf);
        return command(
                "jobmanager",
                JobManagerProcessUtils.generateJvmParametersStr(spec, conf),
                conf.get(CoreOptions.FLINK_DEFAULT_JM_JVM_OPTIONS),
                conf.get(CoreOptions.FLINK_JM_JVM_OPTIONS),
                JOBMANAGER_MAIN,
                JobManagerProcessUtils.generateDynamicConfigsStr(spec),
                dynamicProperties);
    }

    /** The command line of a TaskManager named {@code name} (its log file and resource id). */
    List<String> taskManagerCommand(String name, Map<String, String> dynamicProperties) {
        Configuration conf = configuration();
        TaskExecutorProcessSpec spec = TaskExecutorProcessUtils.processSpecFromConfig(conf);
        Map<String, String> dynamic = new LinkedHashMap<>();
        dynamic.put("taskmanager.resource-id", name);
        dynamic.putAll(dynamicProperties);
        return command(
                name,
                ProcessMemoryUtils.generateJvmParametersStr(spec),
                conf.get(CoreOptions.FLINK_DEFAULT_TM_JVM_OPTIONS),
                conf.get(CoreOptions.FLINK_TM_JVM_OPTIONS),
                TASKMANAGER_MAIN,
                TaskExecutorProcessUtils.generateDynamicConfigsStr(spec),
                dynamic);
    }

    private List<String> command(
            String name,
            String memoryJvmParams,
            String defaultRoleOpts,
            String roleOpts,
            String mainClass,
            String memoryDynamicConfigs,
            Map<String, String> dynamicProperties) {
        Configuration conf = configuration();
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(words(memoryJvmParams));
        cmd.addAll(words(conf.get(CoreOptions.FLINK_DEFAULT_JVM_OPTIONS)));
        cmd.addAll(words(conf.get(CoreOptions.FLINK_JVM_OPTIONS)));
        cmd.addAll(words(defaultRoleOpts));
        cmd.addAll(words(roleOpts));
        cmd.add("-Dlog.file=" + home.logs().resolve(name + ".log"));
        cmd.add("-Dlog4j.configurationFile=file:" + home.conf().resolve("log4j.properties"));
        cmd.add("-Djava.io.tmpdir=" + home.tmp());
        cmd.add("-classpath");
        cmd.add(libClasspath());
        cmd.add(mainClass);
        cmd.add("--configDir");
        cmd.add(home.conf().toString());
        cmd.addAll(words(memoryDynamicConfigs));
        dynamicProperties.forEach((k, v) -> {
            cmd.add("-D");
            cmd.add(k + "=" + v);
        });
        return cmd;
    }

    /** Environment of the Flink processes: where conf, lib and plugins are; DJL offline. */
    Map<String, String> environment() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("FLINK_HOME", home.flinkHome().toString());
        env.put("FLINK_CONF_DIR", home.conf().toString());
        env.put("FLINK_LIB_DIR", home.lib().toString());
        env.put("FLINK_PLUGINS_DIR", home.plugins().toString());
        env.put("OPT_OUT_TRACKING", "true");
        env.put("DJL_CACHE_DIR", home.djlCache().toString());
        return env;
    }

    /** lib/'s jars in name order, as the tarball's scripts put them on the classpath. */
    private String libClasspath() {
        try (Stream<Path> jars = Files.list(home.lib())) {
            return jars.map(Path::toString).sorted().collect(Collectors.joining(File.pathSeparator));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static List<String> words(String s) {
        return s == null || s.isBlank() ? List.of() : Arrays.asList(s.trim().split("\\s+"));
    }
}
