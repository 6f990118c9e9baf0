package io.towerflow.devkit.cluster;

import org.apache.flink.api.common.JobID;
import org.apache.flink.runtime.execution.ExecutionState;
import org.apache.flink.runtime.executiongraph.AccessExecutionGraph;
import org.apache.flink.runtime.executiongraph.AccessExecutionVertex;
import org.apache.flink.runtime.minicluster.MiniCluster;

import java.time.Duration;

/** Waiting on a job of an in-process MiniCluster (the failure suite and the soak run start their own). */
public final class MiniClusterTasks {
    private MiniClusterTasks() {}

    /**
     * Returns once every task of {@code job} runs (models loaded, Kafka partitions assigned);
     * {@code meanwhile} runs between checks (e.g. a consumer's poll). An initialising job answers
     * with an empty graph, so at least one vertex is required.
     */
    public static void awaitAllRunning(MiniCluster cluster, JobID job, Duration timeout, Runnable meanwhile) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            AccessExecutionGraph graph = cluster.getExecutionGraph(job).get();
            if (graph.getState().isGloballyTerminalState()) {
                throw new IllegalStateException("job " + graph.getState() + " while starting: " + graph.getFailureInfo());
            }
            int vertices = 0;
            boolean running = true;
            for (AccessExecutionVertex v : graph.getAllExecutionVertices()) {
                vertices++;
                running &= v.getExecutionState() == ExecutionState.RUNNING;
            }
            if (vertices > 0 && running) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("tasks of " + job + " not running after " + timeout.toSeconds() + " s");
            }
            meanwhile.run();
            Thread.sleep(50);
        }
    }
}
