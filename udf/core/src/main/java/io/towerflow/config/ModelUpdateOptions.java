package io.towerflow.config;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

import java.util.List;

/** How the job treats versions named on model-updates: where they may live, who signed them, how many it keeps. */
public final class ModelUpdateOptions {

    public static final ConfigOption<List<String>> ALLOWED_ROOTS =
            ConfigOptions.key("towerflow.model.allowed-roots")
                    .stringType()
                    .asList()
                    .noDefaultValue()
                    .withDescription(
                            "Directories (';'-separated) that model versions named on model-updates "
                                    + "must lie in, after resolving symbolic links; a relative uri is "
                                    + "resolved against the first. Anything else (another directory, "
                                    + "'..', a link out, a scheme other than file:) is refused and the "
                                    + "serving version keeps serving. Default: the directory that "
                                    + "holds towerflow.model.path.");

    public static final ConfigOption<String> SIGNING_SECRET =
            ConfigOptions.key("towerflow.model.signing-secret")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Key of HMAC-SHA256 signatures over manifest.json. When set, a version "
                                    + "is served only if its manifest.json.hmac-sha256 holds the hex "
                                    + "HMAC-SHA256 of its manifest.json under this key. Flink masks "
                                    + "the value in logs and web UI (the key contains 'secret').");

    public static final ConfigOption<Integer> KEPT_UPDATES =
            ConfigOptions.key("towerflow.model.kept-updates")
                    .intType()
                    .defaultValue(4)
                    .withDescription(
                            "Model updates kept in broadcast state (and so in every checkpoint): "
                                    + "the highest versions seen, which a restored job tries in "
                                    + "turn, highest first, before falling back to towerflow.model.path.");

    private ModelUpdateOptions() {}
}
