package io.towerflow.operators;

import io.towerflow.records.ControlMessage;
import io.towerflow.records.DeadLetter;
import io.towerflow.records.JsonCodec;
import io.towerflow.records.RawRecord;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Parses the records of the control topics: {@code model-updates} into model references and
 * {@code item-catalog} into catalogue upserts. A record that does not parse goes to the same
 * dead-letter output as bad behaviour events.
 */
public class ParseControlFunction extends ProcessFunction<RawRecord, ControlMessage> {
    private static final long serialVersionUID = 1L;

    private final String modelUpdatesTopic;
    private transient Counter rejected;

    public ParseControlFunction(String modelUpdatesTopic) {
        this.modelUpdatesTopic = modelUpdatesTopic;
    }

    @Override
    public void open(OpenContext openContext) {
        rejected = getRuntimeContext().getMetricGroup().counter("controlRecordsRejected");
    }

    @Override
    public void processElement(RawRecord raw, Context ctx, Collector<ControlMessage> out) {
        try {
            if (raw.value == null || raw.value.length == 0) {
                throw new IllegalArgumentException("empty record");
            }
            out.collect(
                    modelUpdatesTopic.equals(raw.topic)
                            ? ControlMessage.of(JsonCodec.parseModelUpdate(raw.value))
                            : ControlMessage.of(JsonCodec.parseCatalogueItem(raw.value)));
        } catch (IllegalArgumentException e) {
            rejected.inc();
            ctx.output(
                    ParseBehaviorFunction.DEAD_LETTERS,
                    new DeadLetter(raw, e.getMessage(), ctx.timerService().currentProcessingTime()));
        }
    }
}
