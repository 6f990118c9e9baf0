package io.towerflow.devkit.cluster;

import io.towerflow.config.KafkaEndpoint;
import io.towerflow.config.KafkaOptions;
import io.towerflow.job.RecommendationJob;
import io.towerflow.synthetic.SyntheticGenerator;

import org.apache.flink.util.ParameterTool;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * {@code deploy/local/towerflow cluster <command>}: a real standalone Flink cluster (JobManager and
 * TaskManagers as separate processes) and a Kafka broker process on this machine, everything
 * under {@code .run/cluster}.
 */
public final class ClusterCli {
    static final String USAGE = String.join("\n",
            "usage: towerflow cluster <command> [options]",
            "  up [--taskmanagers N] [--slots N] [--checkpoint-interval D]",
            "                         start a Kafka broker, a JobManager and TaskManagers (1 x 4 slots,",
            "                         checkpoints every 2 s), create the topics, print the web UI address",
            "  submit [--parallelism N] [--from-savepoint PATH] [--towerflow.<option> V ...]",
            "                         upload the job jar and run RecommendationJob (newest model version)",
            "  feed [--events N] [--rate R] [--seed S]   produce synthetic events (default 10000 at 500/s)",
            "  stop                   stop the job with a savepoint; prints its path",
            "  upgrade [--parallelism N] [--towerflow.<option> V ...]",
            "                         stop with a savepoint, run the current (rebuilt) jar from it",
            "  add-taskmanager        start one more TaskManager",
            "  status                 processes, web UI, jobs",
            "  down                   stop exactly the processes `up` started",
            "  smoke [--summary-json FILE] [--events N] [--rate R]",
            "                         up, submit, feed, kill -9 the TaskManager, start another, recover,",
            "                         upgrade from a savepoint at parallelism 4, verify with a read_committed",
            "                         consumer, down; exits non-zero unless nothing was lost or duplicated");

    private ClusterCli() {}

    public static void main(String[] args) {
        int code;
        try {
            code = run(args);
        } catch (Exception e) {
            System.err.println("[cluster] " + e.getMessage());
            e.printStackTrace(System.err);
            code = 1;
        }
        System.exit(code);
    }

    static int run(String[] args) throws Exception {
        if (args.length == 0 || Arrays.asList("help", "-h", "--help").contains(args[0])) {
            System.out.println(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        String command = args[0];
        ParameterTool params = ParameterTool.fromArgs(Arrays.copyOfRange(args, 1, args.length));
        LocalCluster cluster = new LocalCluster(new ClusterHome(Path.of("").toAbsolutePath()), System.out);
        switch (command) {
            case "up":
                LocalCluster.Settings s = new LocalCluster.Settings();
                s.taskManagers = params.getInt("taskmanagers", s.taskManagers);
                s.slots = params.getInt("slots", s.slots);
                s.checkpointInterval = params.get("checkpoint-interval", s.checkpointInterval);
                try {
                    cluster.up(s);
                } catch (Exception e) {
                    cluster.down();
                    throw e;
                }
                cluster.log("next: deploy/local/towerflow cluster submit; cluster feed; cluster down");
                return 0;
            case "submit":
                cluster.submit(params.getInt("parallelism", 2), params.get("from-savepoint"), towerflowOptions(params));
                return 0;
            case "feed":
                feed(cluster, params);
                return 0;
            case "stop":
                cluster.stopWithSavepoint();
                return 0;
            case "upgrade":
                cluster.upgrade(params.has("parallelism") ? params.getInt("parallelism") : null, towerflowOptions(params));
                return 0;
            case "add-taskmanager":
                Daemon tm = cluster.startTaskManager();
                cluster.awaitTaskManagers(List.of(tm));
                cluster.log(tm.name + " (pid " + tm.pid() + ") registered");
                return 0;
            case "status":
                cluster.status();
                return 0;
            case "down":
                List<String> stopped = cluster.down();
                cluster.log(stopped.isEmpty() ? "nothing was running" : "stopped " + String.join(", ", stopped));
                return 0;
            case "smoke":
                ClusterSmoke smoke = new ClusterSmoke(cluster);
                smoke.events = params.getInt("events", smoke.events);
                smoke.rate = params.getDouble("rate", smoke.rate);
                if (params.has("summary-json")) {
                    smoke.summaryJson = Path.of(params.get("summary-json"));
                }
                return smoke.run();
            default:
                System.err.println("unknown cluster command: " + command + "\n" + USAGE);
                return 2;
        }
    }

    /** The {@code --towerflow.*} options among the arguments, as program arguments for the job. */
    private static List<String> towerflowOptions(ParameterTool params) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, String> e : params.toMap().entrySet()) {
            if (e.getKey().startsWith("towerflow.")) {
                out.add("--" + e.getKey());
                out.add(e.getValue());
            }
        }
        return out;
    }

    private static void feed(LocalCluster cluster, ParameterTool params) throws Exception {
        SyntheticGenerator.Config cfg = new SyntheticGenerator.Config();
        cfg.seed = params.getLong("seed", System.currentTimeMillis());
        cfg.startTs = System.currentTimeMillis();
        int n = params.getInt("events", 10_000);
        double rate = params.getDouble("rate", 500);
        try (EventFeeder feeder = new EventFeeder(KafkaEndpoint.plain(cluster.bootstrapServers()), KafkaOptions.BEHAVIOR_TOPIC.defaultValue())) {
            cluster.log(String.format("feeding %,d synthetic events at %.0f/s to %s", n, rate, cluster.bootstrapServers()));
            feeder.send(EventFeeder.synthetic(cfg, n, 0), rate);
            cluster.log(String.format("sent %,d events; lists appear on topic %s", feeder.sent(),
                    KafkaOptions.RECOMMENDATIONS_TOPIC.defaultValue()));
        }
    }
}
