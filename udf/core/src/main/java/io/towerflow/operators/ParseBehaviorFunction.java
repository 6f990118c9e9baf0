package io.towerflow.operators;

import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.BehaviorEventParser;
import io.towerflow.records.DeadLetter;
import io.towerflow.records.InvalidEventException;
import io.towerflow.records.RawRecord;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Parses and validates raw input records. Valid ones go downstream as {@link BehaviorEvent}s;
 * every other one goes to the {@link #DEAD_LETTERS} side output with its reason and origin. The
 * function never throws on input and never drops a record.
 */
public class ParseBehaviorFunction extends ProcessFunction<RawRecord, BehaviorEvent> {
    private static final long serialVersionUID = 1L;

    public static final OutputTag<DeadLetter> DEAD_LETTERS =
            new OutputTag<>("user-behavior-dlq") {};

    private final BehaviorEventParser parser = new BehaviorEventParser();
    private final FaultInjection fault;
    private transient Counter parsed;
    private transient Counter rejected;
    private transient boolean faultArmed;
    private transient long seen;

    public ParseBehaviorFunction() {
        this(FaultInjection.none());
    }

    /** With a test-only fault ({@code towerflow.testing.fail-at parse:<n>}). */
    public ParseBehaviorFunction(FaultInjection fault) {
        this.fault = fault;
    }

    @Override
    public void open(OpenContext openContext) {
        parsed = getRuntimeContext().getMetricGroup().counter("eventsParsed");
        rejected = getRuntimeContext().getMetricGroup().counter("eventsRejected");
        faultArmed = fault.armed(FaultInjection.Point.PARSE,
                getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(),
                getRuntimeContext().getTaskInfo().getAttemptNumber());
    }

    @Override
    public void processElement(RawRecord raw, Context ctx, Collector<BehaviorEvent> out) {
        if (faultArmed) {
            fault.check(FaultInjection.Point.PARSE, ++seen);
        }
        try {
            BehaviorEvent event = parser.parse(raw.value);
            parsed.inc();
            out.collect(event);
        } catch (InvalidEventException e) {
            rejected.inc();
            ctx.output(
                    DEAD_LETTERS,
                    new DeadLetter(raw, e.getMessage(), ctx.timerService().currentProcessingTime()));
        }
    }
}
