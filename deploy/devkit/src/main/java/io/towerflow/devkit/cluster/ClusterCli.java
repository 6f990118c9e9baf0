package io.towerflow.devkit.cluster;

import io.towerflow.cli.Cli;
import io.towerflow.cli.HelpOption;
import io.towerflow.config.KafkaEndpoint;
import io.towerflow.config.KafkaOptions;
import io.towerflow.synthetic.SyntheticGenerator;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code deploy/local/towerflow cluster <command>}: a real standalone Flink cluster (JobManager and
 * TaskManagers as separate processes) and a Kafka broker process on this machine, everything
 * under {@code .run/cluster}. Each command is a picocli subcommand; {@code cluster <command>
 * --help} prints its options.
 */
@Command(name = "cluster",
        description = "A real standalone Flink cluster (JobManager and TaskManagers as processes) and a Kafka broker"
                + " process on this machine, everything under .run/cluster.",
        subcommands = {ClusterCli.Up.class, ClusterCli.Submit.class, ClusterCli.Feed.class, ClusterCli.Stop.class,
                ClusterCli.Upgrade.class, ClusterCli.AddTaskManager.class, ClusterCli.Status.class, ClusterCli.Down.class,
                ClusterCli.Smoke.class, CommandLine.HelpCommand.class})
public final class ClusterCli implements Callable<Integer> {
    @Mixin
    HelpOption help;

    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        System.exit(Cli.execute(new ClusterCli(), System.out, System.err, args));
    }

    /** Without a command: the usage, exit status 2. */
    @Override
    public Integer call() {
        throw Cli.usage(spec, "give a command");
    }

    /**
     * A cluster command: runs against the cluster of this checkout; a failure prints {@code [cluster]
     * <message>} and its stack trace and exits 1.
     */
    abstract static class ClusterCommand implements Callable<Integer> {
        @Mixin
        HelpOption help;

        @Override
        public Integer call() {
            LocalCluster cluster = new LocalCluster(new ClusterHome(Path.of("").toAbsolutePath()), System.out);
            try {
                return run(cluster);
            } catch (CommandLine.ParameterException e) {
                throw e;
            } catch (Exception e) {
                System.err.println("[cluster] " + e.getMessage());
                e.printStackTrace(System.err);
                return 1;
            }
        }

        abstract int run(LocalCluster cluster) throws Exception;
    }

    /** A command that passes {@code --towerflow.<option> V} pairs on to the job. */
    abstract static class JobCommand extends ClusterCommand {
        @Unmatched
        List<String> unmatched;

        @Spec
        CommandSpec spec;

        /** The {@code --towerflow.*} options among the arguments, as program arguments for the job. */
        List<String> towerflowOptions() {
            List<String> out = new ArrayList<>();
            Cli.towerflowOptions(spec, unmatched).forEach((k, v) -> {
                out.add("--" + k);
                out.add(v);
            });
            return out;
        }
    }

    @Command(name = "up", sortOptions = false,
            description = "Start a Kafka broker, a JobManager and TaskManagers, create the topics, print the web UI address.")
    static final class Up extends ClusterCommand {
        private static final LocalCluster.Settings DEFAULTS = new LocalCluster.Settings();

        @Option(names = "--taskmanagers", paramLabel = "N", description = "TaskManager processes (default: ${DEFAULT-VALUE}).")
        int taskManagers = DEFAULTS.taskManagers;

        @Option(names = "--slots", paramLabel = "N", description = "Slots per TaskManager (default: ${DEFAULT-VALUE}).")
        int slots = DEFAULTS.slots;

        @Option(names = "--checkpoint-interval", paramLabel = "D", description = "Checkpoint interval (default: ${DEFAULT-VALUE}).")
        String checkpointInterval = DEFAULTS.checkpointInterval;

        @Override
        int run(LocalCluster cluster) throws Exception {
            LocalCluster.Settings s = new LocalCluster.Settings();
            s.taskManagers = taskManagers;
            s.slots = slots;
            s.checkpointInterval = checkpointInterval;
            try {
                cluster.up(s);
            } catch (Exception e) {
                cluster.down();
                throw e;
            }
            cluster.log("next: deploy/local/towerflow cluster submit; cluster feed; cluster down");
            return 0;
        }
    }

    @Command(name = "submit", sortOptions = false,
            description = "Upload the job jar and run RecommendationJob (newest model version).",
            footer = "Any towerflow.* option of the job: --towerflow.<key> VALUE.")
    static final class Submit extends JobCommand {
        @Option(names = "--parallelism", paramLabel = "N", description = "Job parallelism (default: ${DEFAULT-VALUE}).")
        int parallelism = 2;

        @Option(names = "--from-savepoint", paramLabel = "PATH", description = "Start from this savepoint.")
        String fromSavepoint;

        @Override
        int run(LocalCluster cluster) throws Exception {
            cluster.submit(parallelism, fromSavepoint, towerflowOptions());
            return 0;
        }
    }

    @Command(name = "feed", sortOptions = false, description = "Produce synthetic events to the cluster's broker.")
    static final class Feed extends ClusterCommand {
        @Option(names = "--events", paramLabel = "N", description = "Events to produce (default: ${DEFAULT-VALUE}).")
        int events = 10_000;

        @Option(names = "--rate", paramLabel = "R", description = "Events per second (default: ${DEFAULT-VALUE}).")
        double rate = 500;

        @Option(names = "--seed", paramLabel = "S", description = "Generator seed (default: the current time).")
        Long seed;

        @Override
        int run(LocalCluster cluster) throws Exception {
            SyntheticGenerator.Config cfg = new SyntheticGenerator.Config();
            cfg.seed = seed != null ? seed : System.currentTimeMillis();
            cfg.startTs = System.currentTimeMillis();
            try (EventFeeder feeder = new EventFeeder(KafkaEndpoint.plain(cluster.bootstrapServers()),
                    KafkaOptions.BEHAVIOR_TOPIC.defaultValue())) {
                cluster.log(String.format("feeding %,d synthetic events at %.0f/s to %s", events, rate,
                        cluster.bootstrapServers()));
                feeder.send(EventFeeder.synthetic(cfg, events, 0), rate);
                cluster.log(String.format("sent %,d events; lists appear on topic %s", feeder.sent(),
                        KafkaOptions.RECOMMENDATIONS_TOPIC.defaultValue()));
            }
            return 0;
        }
    }

    @Command(name = "stop", description = "Stop the job with a savepoint; prints its path.")
    static final class Stop extends ClusterCommand {
        @Override
        int run(LocalCluster cluster) throws Exception {
            cluster.stopWithSavepoint();
            return 0;
        }
    }

    @Command(name = "upgrade", sortOptions = false,
            description = "Stop with a savepoint, run the current (rebuilt) jar from it.",
            footer = "Any towerflow.* option of the job: --towerflow.<key> VALUE.")
    static final class Upgrade extends JobCommand {
        @Option(names = "--parallelism", paramLabel = "N", description = "New parallelism (default: the job's).")
        Integer parallelism;

        @Override
        int run(LocalCluster cluster) throws Exception {
            cluster.upgrade(parallelism, towerflowOptions());
            return 0;
        }
    }

    @Command(name = "add-taskmanager", description = "Start one more TaskManager.")
    static final class AddTaskManager extends ClusterCommand {
        @Override
        int run(LocalCluster cluster) throws Exception {
            Daemon tm = cluster.startTaskManager();
            cluster.awaitTaskManagers(List.of(tm));
            cluster.log(tm.name + " (pid " + tm.pid() + ") registered");
            return 0;
        }
    }

    @Command(name = "status", description = "Processes, web UI, jobs.")
    static final class Status extends ClusterCommand {
        @Override
        int run(LocalCluster cluster) throws Exception {
            cluster.status();
            return 0;
        }
    }

    @Command(name = "down", description = "Stop exactly the processes `up` started.")
    static final class Down extends ClusterCommand {
        @Override
        int run(LocalCluster cluster) throws Exception {
            List<String> stopped = cluster.down();
            cluster.log(stopped.isEmpty() ? "nothing was running" : "stopped " + String.join(", ", stopped));
            return 0;
        }
    }

    @Command(name = "smoke", sortOptions = false,
            description = {"Up, submit, feed, kill -9 the TaskManager, start another, recover, upgrade from a savepoint at"
                    + " parallelism 4, verify with a read_committed consumer, down.",
                    "Exits non-zero unless nothing was lost or duplicated."})
    static final class Smoke extends ClusterCommand {
        @Option(names = "--events", paramLabel = "N", description = "Events to feed (default: ${DEFAULT-VALUE}).")
        int events = ClusterSmoke.DEFAULT_EVENTS;

        @Option(names = "--rate", paramLabel = "R", description = "Events per second (default: ${DEFAULT-VALUE}).")
        double rate = ClusterSmoke.DEFAULT_RATE;

        @Option(names = "--summary-json", paramLabel = "FILE", description = "Write the accounting as JSON.")
        Path summaryJson;

        @Override
        int run(LocalCluster cluster) throws Exception {
            ClusterSmoke smoke = new ClusterSmoke(cluster);
            smoke.events = events;
            smoke.rate = rate;
            smoke.summaryJson = summaryJson;
            return smoke.run();
        }
    }
}
