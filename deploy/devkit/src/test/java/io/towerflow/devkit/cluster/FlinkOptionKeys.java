package io.towerflow.devkit.cluster;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.FallbackKey;
import org.apache.flink.runtime.entrypoint.ClusterEntrypoint;
import org.apache.flink.state.rocksdb.RocksDBOptions;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Every {@link ConfigOption} Flink declares in the {@code *Options} classes of flink-core,
 * flink-runtime and the RocksDB backend, so that a configuration file can be checked: each key a
 * current option (not a deprecated one, not a typo) whose value parses as the option's type.
 */
final class FlinkOptionKeys {
    /** Keys of pluggable components Flink resolves by prefix (reporters, external resources) or that live elsewhere (Kubernetes, operator). */
    private static final Pattern PLUGGABLE = Pattern.compile(
            "metrics\\.reporter\\.[^.]+\\..+|external-resource\\.[^.]+\\..+|kubernetes\\..+");

    private static final Map<String, ConfigOption<?>> CURRENT = new HashMap<>();
    private static final Map<String, String> DEPRECATED = new HashMap<>();

    static {
        for (Class<?> anchor : List.of(CoreOptions.class, ClusterEntrypoint.class, RocksDBOptions.class)) {
            scan(anchor);
        }
    }

    private FlinkOptionKeys() {}

    private static void scan(Class<?> anchor) {
        try (ZipFile jar = new ZipFile(Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI()).toFile())) {
            Enumeration<? extends ZipEntry> entries = jar.entries();
            while (entries.hasMoreElements()) {
                String name = entries.nextElement().getName();
                if (name.startsWith("org/apache/flink/") && name.endsWith("Options.class") && !name.contains("$")) {
                    collect(name.substring(0, name.length() - 6).replace('/', '.'));
                }
            }
        } catch (IOException | URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void collect(String className) {
        Class<?> c;
        try {
            c = Class.forName(className);
        } catch (ClassNotFoundException | LinkageError e) {
            return; // an optional dependency of that class is absent: not one of ours
        }
        for (Field f : c.getFields()) {
            if (!Modifier.isStatic(f.getModifiers()) || f.getType() != ConfigOption.class) {
                continue;
            }
            ConfigOption<?> o;
            try {
                o = (ConfigOption<?>) f.get(null);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            }
            boolean deprecatedOption = f.isAnnotationPresent(Deprecated.class) || c.isAnnotationPresent(Deprecated.class);
            if (deprecatedOption) {
                DEPRECATED.putIfAbsent(o.key(), "(deprecated option)");
            } else {
                CURRENT.put(o.key(), o);
            }
            for (FallbackKey k : o.fallbackKeys()) {
                if (k.isDeprecated()) {
                    DEPRECATED.putIfAbsent(k.getKey(), o.key());
                }
            }
        }
    }

    /** What is wrong with {@code key = value}, or null if it is a current Flink option whose value parses. */
    static String problem(String key, String value) {
        ConfigOption<?> o = CURRENT.get(key);
        if (o == null) {
            if (PLUGGABLE.matcher(key).matches() || key.equals("external-resources")) {
                return null;
            }
            String replacement = DEPRECATED.get(key);
            return replacement != null ? key + " is deprecated, use " + replacement : key + " is not a Flink option";
        }
        try {
            Configuration.fromMap(Map.of(key, value)).get(o);
            return null;
        } catch (RuntimeException e) {
            return key + ": '" + value + "' does not parse: " + e.getMessage();
        }
    }

    static ConfigOption<?> option(String key) {
        return CURRENT.get(key);
    }

}
