package io.towerflow.devkit.kafka;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;

import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Records every log line (INFO and above, Kafka's and Flink's too) while open, whatever the test
 * logging configuration lets through to the console, so that a test can check what an operator's
 * log would hold.
 */
public final class LogCapture extends AbstractAppender implements AutoCloseable {
    private final ConcurrentLinkedQueue<String> lines = new ConcurrentLinkedQueue<>();
    private final Map<String, Level> levelsBefore = new java.util.HashMap<>();

    private LogCapture() {
        super("towerflow-log-capture", null, null, true, Property.EMPTY_ARRAY);
    }

    /** Starts capturing at INFO on every configured logger (their levels are restored on close). */
    public static LogCapture open() {
        LogCapture c = new LogCapture();
        c.attach();
        return c;
    }

    private void attach() {
        start();
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        Configuration conf = ctx.getConfiguration();
        for (LoggerConfig lc : conf.getLoggers().values()) {
            levelsBefore.put(lc.getName(), lc.getLevel());
            if (lc.getLevel().isMoreSpecificThan(Level.INFO)) {
                lc.setLevel(Level.INFO);
            }
            lc.addAppender(this, Level.INFO, null);
        }
        ctx.updateLoggers();
    }

    @Override
    public void append(LogEvent event) {
        StringBuilder b = new StringBuilder(event.getLoggerName()).append(" ").append(event.getMessage().getFormattedMessage());
        for (Throwable t = event.getThrown(); t != null; t = t.getCause()) {
            b.append(" | ").append(t);
        }
        lines.add(b.toString());
    }

    /** Every line captured so far, with the messages of attached exceptions. */
    public String text() {
        return String.join("\n", lines);
    }

    public int lineCount() {
        return lines.size();
    }

    @Override
    public void close() {
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        for (LoggerConfig lc : ctx.getConfiguration().getLoggers().values()) {
            lc.removeAppender(getName());
            Level before = levelsBefore.get(lc.getName());
            if (before != null) {
                lc.setLevel(before);
            }
        }
        ctx.updateLoggers();
        stop();
    }
}
