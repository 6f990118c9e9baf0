package io.towerflow.devkit.demo;

import io.towerflow.devkit.cluster.MiniClusterTasks;
import io.towerflow.job.RecommendationJob;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@link RecommendationJob} on a MiniCluster of its own, as the demo (and anything else that runs
 * the pipeline embedded) needs it: RocksDB with incremental exactly-once checkpoints, a fixed-delay
 * restart strategy, the web UI on a port of a range, and a start that returns only once every task
 * runs (models loaded, Kafka partitions assigned), so that what is produced next is processed.
 * Closing cancels the job and stops the cluster.
 */
final class EmbeddedJob implements AutoCloseable {
    private final MiniCluster cluster;
    private final JobID job;

    /**
     * How the cluster runs: parallelism, checkpoints and where they go, web UI ports, buffer timeout,
     * and any further Flink options ({@code flink}, applied last, so they win).
     */
    record Settings(int parallelism, String checkpointInterval, String webPorts, String bufferTimeout, Path workDir,
                    Map<String, String> flink) {
        Configuration flinkConfig() {
            Configuration c = new Configuration();
            c.setString("state.backend.type", "rocksdb");
            c.setString("execution.checkpointing.incremental", "true");
            c.setString("execution.checkpointing.interval", checkpointInterval);
            c.setString("execution.checkpointing.mode", "EXACTLY_ONCE");
            c.setString("execution.checkpointing.dir", workDir.resolve("checkpoints").toUri().toString());
            c.setString("io.tmp.dirs", workDir.resolve("tmp").toString());
            c.setString("restart-strategy.type", "fixed-delay");
            c.setString("restart-strategy.fixed-delay.attempts", "3");
            c.set(RestOptions.BIND_PORT, webPorts);
            // ship records downstream within a few ms instead of Flink's default 100 ms buffer timeout
            c.setString("execution.buffer-timeout.interval", bufferTimeout);
            flink.forEach(c::setString);
            return c;
        }
    }

    private EmbeddedJob(MiniCluster cluster, JobID job) {
        this.cluster = cluster;
        this.job = job;
    }

    /** Starts a cluster with {@code settings}, submits the job with {@code options} and waits until it runs. */
    static EmbeddedJob start(Settings settings, Configuration options, String name) throws Exception {
        Configuration flinkConf = settings.flinkConfig();
        MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder()
                .setConfiguration(flinkConf)
                .setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(settings.parallelism())
                .build());
        cluster.start();
        try {
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flinkConf);
            env.setParallelism(settings.parallelism());
            RecommendationJob.define(env, options);
            StreamGraph graph = env.getStreamGraph();
            graph.setJobName(name);
            JobID job = cluster.submitJob(graph).get().getJobID();
            MiniClusterTasks.awaitAllRunning(cluster, job, Duration.ofSeconds(120), () -> { });
            return new EmbeddedJob(cluster, job);
        } catch (Exception | Error e) {
            cluster.close();
            throw e;
        }
    }

    JobID id() {
        return job;
    }

    String webUi() throws Exception {
        return cluster.getRestAddress().get().toString();
    }

    /** The job's status now (a terminal one means it failed or was cancelled). */
    JobStatus status() throws Exception {
        return cluster.getJobStatus(job).get();
    }

    @Override
    public void close() throws Exception {
        try {
            if (!status().isGloballyTerminalState()) {
                cluster.cancelJob(job).get(60, TimeUnit.SECONDS);
            }
        } finally {
            cluster.close();
        }
    }
}
