package io.towerflow.config;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/** A test-only switch that makes the job fail once at a chosen point (the failure suite, `towerflow chaos`). */
public final class FaultInjectionOptions {

    public static final ConfigOption<String> FAIL_AT =
            ConfigOptions.key("towerflow.testing.fail-at")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Testing only; never set in production. '<point>:<n>' with point parse, "
                                    + "recommend or sink: subtask 0 of that operator throws once, in "
                                    + "its first attempt, after it has seen n records (recommend: at "
                                    + "the next event that finds its micro-batch neither empty nor "
                                    + "full; sink: in the recommendations sink's writer), so that the "
                                    + "job restarts from its last checkpoint. Unset: no fault.");

    private FaultInjectionOptions() {}
}
