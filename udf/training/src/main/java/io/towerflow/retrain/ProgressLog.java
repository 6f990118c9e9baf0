package io.towerflow.retrain;

import java.io.PrintStream;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/** Time-stamped progress lines ({@code [retrain 04:51:12] ...}) and warnings of the retraining job. */
public final class ProgressLog {
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("HH:mm:ss", Locale.ROOT).withZone(ZoneOffset.UTC);

    private final PrintStream out;
    private final PrintStream err;
    private final Clock clock;

    public ProgressLog(PrintStream out, PrintStream err, Clock clock) {
        this.out = out;
        this.err = err;
        this.clock = clock;
    }

    public void info(String format, Object... args) {
        out.println(prefix() + String.format(Locale.ROOT, format, args));
        out.flush();
    }

    public void warn(String format, Object... args) {
        err.println(prefix() + "warning: " + String.format(Locale.ROOT, format, args));
        err.flush();
    }

    public void error(String format, Object... args) {
        err.println(prefix() + "error: " + String.format(Locale.ROOT, format, args));
        err.flush();
    }

    /** Where trainer progress lines go. */
    public PrintStream out() {
        return out;
    }

    private String prefix() {
        return "[retrain " + TIME.format(clock.instant()) + "] ";
    }
}
