package io.towerflow.devkit.cluster;

import io.towerflow.config.KafkaEndpoint;
import io.towerflow.config.KafkaOptions;
import io.towerflow.config.ModelOptions;
import io.towerflow.job.RecommendationJob;
import io.towerflow.kafka.Topics;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A real standalone Flink cluster and a Kafka broker on this machine, each its own process, all
 * state under {@code .run/cluster}: {@link #up} starts them and creates the topics, {@link #submit}
 * uploads the job jar and runs {@link RecommendationJob} through the REST API, {@link
 * #stopWithSavepoint} and {@link #upgrade} move a job through a savepoint, {@link #down} stops
 * exactly the processes {@code up} started (by their pid files).
 */
final class LocalCluster {
    /**
     * Every topic of the job (the defaults of the {@code towerflow.topic.*} options) and its
     * partitions: 4 where the job reads or writes by user, so it runs at parallelism up to 4 with
     * no idle reader; the control topics are read by one subtask.
     */
    static final Map<String, Integer> TOPICS = Map.of(
            KafkaOptions.BEHAVIOR_TOPIC.defaultValue(), 4,
            KafkaOptions.RECOMMENDATIONS_TOPIC.defaultValue(), 4,
            KafkaOptions.FEEDBACK_TOPIC.defaultValue(), 4,
            KafkaOptions.DLQ_TOPIC.defaultValue(), 1,
            KafkaOptions.MODEL_UPDATES_TOPIC.defaultValue(), 1,
            KafkaOptions.CATALOG_TOPIC.defaultValue(), 1);
    static final Map<String, Map<String, String>> TOPIC_CONFIGS = Map.of(
            KafkaOptions.CATALOG_TOPIC.defaultValue(), Map.of("cleanup.policy", "compact"));
    static final String ENTRY_CLASS = RecommendationJob.class.getName();
    static final Duration START_TIMEOUT = Duration.ofSeconds(180);

    final ClusterHome home;
    private final PrintStream log;

    LocalCluster(ClusterHome home, PrintStream log) {
        this.home = home;
        this.log = log;
    }

    /** Settings of {@code cluster up}. */
    static final class Settings {
        int taskManagers = 1;
        int slots = 4;
        String checkpointInterval = "2 s";
    }

    List<Daemon> running() {
        return Daemon.all(home).stream().filter(Daemon::alive).collect(Collectors.toList());
    }

    FlinkRest rest() {
        return new FlinkRest("http://localhost:" + state("rest.port"));
    }

    String bootstrapServers() {
        return "localhost:" + state("kafka.port");
    }

    private String state(String key) {
        String v = home.state().getProperty(key);
        if (v == null) {
            throw new IllegalStateException("no local cluster state (" + key + "); run `deploy/local/towerflow cluster up` first");
        }
        return v;
    }

    private void setState(String key, String value) {
        Properties p = home.state();
        p.setProperty(key, value);
        home.saveState(p);
    }

    /** Starts broker, JobManager and TaskManagers from scratch, creates the topics, waits until all serve. */
    void up(Settings s) throws Exception {
        List<Daemon> alive = running();
        if (!alive.isEmpty()) {
            throw new IllegalStateException("the local cluster is already up ("
                    + alive.stream().map(d -> d.name).collect(Collectors.joining(", "))
                    + "); `deploy/local/towerflow cluster down` first");
        }
        long t0 = System.nanoTime();
        List<Path> flinkJars = ProcessClasspath.resolve(home, "flink");
        List<Path> kafkaJars = ProcessClasspath.resolve(home, "kafka");
        Path djlLib = home.repo.resolve("job/target/flink-lib");
        if (!Files.isDirectory(djlLib)) {
            throw new IllegalStateException(djlLib + " is missing: build first (deploy/local/towerflow build)");
        }
        clean();

        Properties st = new Properties();
        int rest = ClusterHome.freePort(8081, 8099);
        st.setProperty("rest.port", Integer.toString(rest));
        st.setProperty("jobmanager.rpc.port", Integer.toString(ClusterHome.freePort()));
        st.setProperty("kafka.port", Integer.toString(ClusterHome.freePort(9092, 9192)));
        st.setProperty("kafka.controller.port", Integer.toString(ClusterHome.freePort()));
        st.setProperty("slots", Integer.toString(s.slots));
        home.saveState(st);

        Map<String, String> placeholders = new LinkedHashMap<>();
        placeholders.put("CLUSTER_HOME", home.dir.toString());
        placeholders.put("DJL_CACHE_DIR", home.djlCache().toString());
        placeholders.put("REST_PORT", Integer.toString(rest));
        placeholders.put("JOBMANAGER_RPC_PORT", st.getProperty("jobmanager.rpc.port"));
        placeholders.put("SLOTS", Integer.toString(s.slots));
        placeholders.put("CHECKPOINT_INTERVAL", s.checkpointInterval);
        FlinkDist dist = new FlinkDist(home);
        dist.install(flinkJars, djlLib, placeholders);
        for (Path d : List.of(home.tmp(), home.checkpoints(), home.savepoints(), home.djlCache().resolve("jna"))) {
            Files.createDirectories(d);
        }

        // start all processes first, then wait for each: their JVMs boot side by side
        Daemon kafka = new KafkaBrokerProcess(home, kafkaJars).start(
                Integer.parseInt(st.getProperty("kafka.port")), Integer.parseInt(st.getProperty("kafka.controller.port")));
        Daemon jm = Daemon.start(home, "jobmanager",
                dist.jobManagerCommand(Map.of("metrics.reporter.prom.port", Integer.toString(prometheusPort("jobmanager")))),
                dist.environment());
        List<Daemon> tms = new ArrayList<>();
        for (int i = 0; i < s.taskManagers; i++) {
            tms.add(startTaskManager());
        }
        KafkaBrokerProcess.awaitReady(bootstrapServers(), kafka, START_TIMEOUT);
        Topics.ensureTopics(KafkaEndpoint.plain(bootstrapServers()), TOPICS, TOPIC_CONFIGS, Duration.ofSeconds(60));
        log("Kafka broker (pid " + kafka.pid() + ") at " + bootstrapServers() + ", topics " + new java.util.TreeSet<>(TOPICS.keySet()));
        FlinkRest api = rest();
        FlinkRest.await("the JobManager's REST endpoint", START_TIMEOUT, () -> {
            requireAlive(jm);
            return api.reachable();
        });
        awaitTaskManagers(tms);
        log(String.format("Flink JobManager (pid %d) and %d TaskManager(s) x %d slots up in %.1f s",
                jm.pid(), s.taskManagers, s.slots, (System.nanoTime() - t0) / 1e9));
        log("Flink web UI: " + api.address());
        log("logs, checkpoints, savepoints: " + home.dir);
    }

    /** Starts one more TaskManager ({@code taskmanager-N}); returns it without waiting for registration. */
    Daemon startTaskManager() {
        Properties st = home.state();
        int n = Integer.parseInt(st.getProperty("taskmanagers.started", "0")) + 1;
        st.setProperty("taskmanagers.started", Integer.toString(n));
        home.saveState(st);
        String name = "taskmanager-" + n;
        FlinkDist dist = new FlinkDist(home);
        return Daemon.start(home, name,
                dist.taskManagerCommand(name, Map.of("metrics.reporter.prom.port", Integer.toString(prometheusPort(name)))),
                dist.environment());
    }

    /**
     * A Prometheus port for a process: the first free one from 9249 that no other process of this
     * cluster was given (processes that start side by side would otherwise pick the same one).
     */
    int prometheusPort(String process) {
        Properties st = home.state();
        Set<String> given = st.stringPropertyNames().stream()
                .filter(k -> k.startsWith("prometheus.port.")).map(st::getProperty).collect(Collectors.toSet());
        int port = 9249;
        while (given.contains(Integer.toString(port)) || ClusterHome.freePort(port, port) != port) {
            port++;
        }
        st.setProperty("prometheus.port." + process, Integer.toString(port));
        home.saveState(st);
        return port;
    }

    /** Waits until the named TaskManagers are registered with the JobManager, failing early if one exits. */
    void awaitTaskManagers(List<Daemon> taskManagers) throws InterruptedException {
        FlinkRest api = rest();
        List<String> names = taskManagers.stream().map(d -> d.name).collect(Collectors.toList());
        FlinkRest.await(names + " registered", START_TIMEOUT, () -> {
            taskManagers.forEach(LocalCluster::requireAlive);
            try {
                return api.taskManagers().containsAll(names);
            } catch (Exception e) {
                return false;
            }
        });
    }

    private static void requireAlive(Daemon d) {
        if (!d.alive()) {
            throw new IllegalStateException(d.name + " exited:\n" + d.tail(30));
        }
    }

    /** The job jar built by the job module ({@code job/target/towerflow-job-*-cluster.jar}). */
    Path jobJar() throws IOException {
        Path target = home.repo.resolve("job/target");
        try (Stream<Path> files = Files.list(target)) {
            return files.filter(p -> p.getFileName().toString().matches("towerflow-job-.*-cluster\\.jar"))
                    .max(Comparator.comparing(p -> p.toFile().lastModified()))
                    .orElseThrow(() -> new IllegalStateException("no job jar in " + target + "; build first (deploy/local/towerflow build)"));
        }
    }

    /** The newest model version under model-artifacts/. */
    Path newestModel() throws IOException {
        try (Stream<Path> dirs = Files.list(home.repo.resolve("model-artifacts"))) {
            return dirs.filter(d -> Files.exists(d.resolve("manifest.json")))
                    .max(Comparator.comparing(Path::getFileName))
                    .orElseThrow(() -> new IllegalStateException("no model version under model-artifacts/"))
                    .toAbsolutePath();
        }
    }

    /**
     * Uploads the job jar and runs RecommendationJob at {@code parallelism}, from {@code savepoint}
     * if given; {@code jobArgs} are extra {@code --towerflow.*} options. Waits until every task
     * runs. Returns the job id.
     */
    String submit(int parallelism, String savepoint, List<String> jobArgs) throws Exception {
        FlinkRest api = rest();
        Path jar = jobJar();
        List<String> args = new ArrayList<>();
        args.add("--" + KafkaOptions.BOOTSTRAP_SERVERS.key());
        args.add(bootstrapServers());
        if (!jobArgs.contains("--" + ModelOptions.PATH.key())) {
            args.add("--" + ModelOptions.PATH.key());
            args.add(newestModel().toString());
        }
        args.addAll(jobArgs);
        long t0 = System.nanoTime();
        String jarId = api.uploadJar(jar);
        String jobId = api.runJar(jarId, ENTRY_CLASS, args, parallelism, savepoint);
        Properties st = home.state();
        st.setProperty("job.id", jobId);
        st.setProperty("job.parallelism", Integer.toString(parallelism));
        st.setProperty("job.args", String.join("\u001f", jobArgs));
        home.saveState(st);
        log("submitted " + jar.getFileName() + " as job " + jobId + " (parallelism " + parallelism
                + (savepoint == null ? "" : ", from " + savepoint) + ")");
        awaitRunning(jobId);
        log(String.format("job %s running in %.1f s: %s/#/job/running/%s/overview",
                jobId, (System.nanoTime() - t0) / 1e9, api.address(), jobId));
        return jobId;
    }

    void awaitRunning(String jobId) throws InterruptedException {
        FlinkRest api = rest();
        FlinkRest.await("every task of job " + jobId + " running", START_TIMEOUT, () -> {
            try {
                return api.allTasksRunning(jobId);
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** The job {@code submit} started last, or the only active one. */
    String currentJob() throws IOException, InterruptedException {
        List<String> active = rest().activeJobs();
        String last = home.state().getProperty("job.id");
        if (last != null && active.contains(last)) {
            return last;
        }
        if (active.size() == 1) {
            return active.get(0);
        }
        throw new IllegalStateException(active.isEmpty() ? "no job is running" : "several jobs run: " + active);
    }

    /** Stop-with-savepoint of the current job; returns the savepoint's path. */
    String stopWithSavepoint() throws Exception {
        String jobId = currentJob();
        long t0 = System.nanoTime();
        String location = rest().stopWithSavepoint(jobId, home.savepoints(), Duration.ofMinutes(3));
        setState("savepoint.last", location);
        log(String.format("job %s stopped with savepoint %s in %.1f s", jobId, location, (System.nanoTime() - t0) / 1e9));
        return location;
    }

    /**
     * The upgrade path: stop-with-savepoint, then run the current (rebuilt) jar from that savepoint
     * at {@code parallelism} (the old one if null), with the old job's extra options plus {@code
     * extraArgs}. Returns the new job id.
     */
    String upgrade(Integer parallelism, List<String> extraArgs) throws Exception {
        Properties st = home.state();
        int p = parallelism != null ? parallelism : Integer.parseInt(st.getProperty("job.parallelism", "2"));
        List<String> args = new ArrayList<>();
        String old = st.getProperty("job.args", "");
        if (!old.isEmpty()) {
            args.addAll(List.of(old.split("\u001f")));
        }
        args.addAll(extraArgs);
        String savepoint = stopWithSavepoint();
        return submit(p, savepoint, args);
    }

    /** Stops every process {@code up} started (TaskManagers, JobManager, broker), by pid file. */
    List<String> down() {
        List<String> stopped = new ArrayList<>();
        List<Daemon> daemons = Daemon.all(home);
        // TaskManagers first, the JobManager, the broker last: the job never outlives its input
        daemons.sort(Comparator.comparingInt(d -> d.name.startsWith("taskmanager") ? 0 : d.name.equals("jobmanager") ? 1 : 2));
        for (Daemon d : daemons) {
            long pid = d.pid();
            if (d.stop(Duration.ofSeconds(20))) {
                stopped.add(d.name + " (pid " + pid + ")");
            }
        }
        return stopped;
    }

    /** Removes what a previous {@code up} left, except the resolved classpaths. */
    private void clean() throws IOException {
        for (String sub : List.of("flink", "logs", "pids", "kafka", "checkpoints", "savepoints", "tmp", "web-upload", "cluster.properties")) {
            deleteRecursively(home.dir.resolve(sub));
        }
        Files.createDirectories(home.logs());
    }

    /** Deletes a file or a tree; never follows a symbolic link (flink/lib links into ~/.m2). */
    static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(p, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
                Files.delete(f);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    void log(String msg) {
        log.printf("[cluster %tT] %s%n", System.currentTimeMillis(), msg);
    }

    /** One line per process and job, for {@code cluster status}. */
    void status() throws Exception {
        List<Daemon> all = Daemon.all(home);
        if (all.isEmpty()) {
            log("not up (no pid files in " + home.pids() + ")");
            return;
        }
        for (Daemon d : all) {
            log(String.format("%-16s %s", d.name, d.alive() ? "running, pid " + d.pid() : "not running"));
        }
        FlinkRest api = rest();
        if (api.reachable()) {
            log("web UI " + api.address() + ", Kafka " + bootstrapServers() + ", TaskManagers " + api.taskManagers());
            for (String job : api.activeJobs()) {
                Set<String> tms = api.taskManagersOf(job);
                log("job " + job + " " + api.job(job).path("state").asText() + ", parallelism " + api.parallelisms(job)
                        + ", on " + tms + ", checkpoints completed " + api.completedCheckpoints(job));
            }
        }
    }
}
