package io.towerflow.devkit.cluster;

import io.towerflow.records.JsonCodec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.BooleanSupplier;

/**
 * The Flink REST API of the JobManager, as the web UI and the CLI use it: upload and run a jar,
 * follow a job, stop it with a savepoint, cancel it, list TaskManagers.
 */
final class FlinkRest {
    private final String base;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    FlinkRest(String base) {
        this.base = base;
    }

    String address() {
        return base;
    }

    JsonNode get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
    }

    JsonNode post(String path, JsonNode body) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(base + path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())));
    }

    private JsonNode send(HttpRequest.Builder request) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(request.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() >= 300) {
            throw new IOException(r.request().method() + " " + r.uri() + " -> " + r.statusCode() + ": " + r.body());
        }
        return r.body().isBlank() ? JsonCodec.mapper().createObjectNode() : JsonCodec.mapper().readTree(r.body());
    }

    /** True once the REST endpoint answers. */
    boolean reachable() {
        try {
            get("/overview");
            return true;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** {@code POST /jars/upload} (multipart, field {@code jarfile}); returns the jar id. */
    String uploadJar(Path jar) throws IOException, InterruptedException {
        String boundary = "towerflow-" + UUID.randomUUID();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(("--" + boundary + "\r\n"
                        + "Content-Disposition: form-data; name=\"jarfile\"; filename=\"" + jar.getFileName() + "\"\r\n"
                        + "Content-Type: application/x-java-archive\r\n\r\n")
                .getBytes(StandardCharsets.UTF_8));
        body.write(Files.readAllBytes(jar));
        body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        JsonNode r = send(HttpRequest.newBuilder(URI.create(base + "/jars/upload"))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())));
        String file = r.path("filename").asText();
        if (!"success".equals(r.path("status").asText()) || file.isEmpty()) {
            throw new IOException("jar upload failed: " + r);
        }
        return Path.of(file).getFileName().toString();
    }

    /** {@code POST /jars/:id/run}; main() runs in the JobManager. Returns the job id. */
    String runJar(String jarId, String entryClass, List<String> args, int parallelism, String savepointPath)
            throws IOException, InterruptedException {
        ObjectNode req = JsonCodec.mapper().createObjectNode();
        req.put("entryClass", entryClass);
        args.forEach(req.putArray("programArgsList")::add);
        req.put("parallelism", parallelism);
        if (savepointPath != null) {
            req.put("savepointPath", savepointPath);
            req.put("allowNonRestoredState", false);
        }
        return post("/jars/" + jarId + "/run", req).path("jobid").asText();
    }

    JsonNode job(String jobId) throws IOException, InterruptedException {
        return get("/jobs/" + jobId);
    }

    /** Every subtask of every vertex of the job is RUNNING (an initializing job has no vertices yet). */
    boolean allTasksRunning(String jobId) throws IOException, InterruptedException {
        JsonNode job = job(jobId);
        if (isTerminal(job.path("state").asText())) {
            throw new IllegalStateException("job " + jobId + " is " + job.path("state").asText() + ": " + rootException(jobId));
        }
        JsonNode vertices = job.path("vertices");
        if (!"RUNNING".equals(job.path("state").asText()) || vertices.isEmpty()) {
            return false;
        }
        for (JsonNode v : vertices) {
            if (v.path("tasks").path("RUNNING").asInt() != v.path("parallelism").asInt()) {
                return false;
            }
        }
        return true;
    }

    /** The ids of the TaskManagers that run the job's subtasks now. */
    Set<String> taskManagersOf(String jobId) throws IOException, InterruptedException {
        Set<String> tms = new LinkedHashSet<>();
        for (JsonNode v : job(jobId).path("vertices")) {
            for (JsonNode s : get("/jobs/" + jobId + "/vertices/" + v.path("id").asText()).path("subtasks")) {
                tms.add(s.path("taskmanager-id").asText());
            }
        }
        return tms;
    }

    /** Parallelism of every vertex of the job. */
    Set<Integer> parallelisms(String jobId) throws IOException, InterruptedException {
        Set<Integer> p = new LinkedHashSet<>();
        job(jobId).path("vertices").forEach(v -> p.add(v.path("parallelism").asInt()));
        return p;
    }

    List<String> taskManagers() throws IOException, InterruptedException {
        List<String> ids = new ArrayList<>();
        get("/taskmanagers").path("taskmanagers").forEach(tm -> ids.add(tm.path("id").asText()));
        return ids;
    }

    long completedCheckpoints(String jobId) throws IOException, InterruptedException {
        return get("/jobs/" + jobId + "/checkpoints").path("counts").path("completed").asLong();
    }

    /** Jobs that are not finished, cancelled or failed. */
    List<String> activeJobs() throws IOException, InterruptedException {
        List<String> ids = new ArrayList<>();
        for (JsonNode j : get("/jobs/overview").path("jobs")) {
            if (!isTerminal(j.path("state").asText())) {
                ids.add(j.path("jid").asText());
            }
        }
        return ids;
    }

    /**
     * Stop-with-savepoint ({@code POST /jobs/:id/stop}, canonical format, no drain): the sources
     * stop, a savepoint is taken and the sink commits its transactions. Returns the savepoint's
     * location.
     */
    String stopWithSavepoint(String jobId, Path targetDirectory, Duration timeout) throws Exception {
        ObjectNode req = JsonCodec.mapper().createObjectNode();
        req.put("targetDirectory", targetDirectory.toUri().toString());
        req.put("drain", false);
        req.put("formatType", "CANONICAL");
        String trigger = post("/jobs/" + jobId + "/stop", req).path("request-id").asText();
        JsonNode[] result = new JsonNode[1];
        await("savepoint of job " + jobId, timeout, () -> {
            try {
                JsonNode r = get("/jobs/" + jobId + "/savepoints/" + trigger);
                result[0] = r;
                return "COMPLETED".equals(r.path("status").path("id").asText());
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        JsonNode op = result[0].path("operation");
        if (op.has("failure-cause")) {
            throw new IllegalStateException("stop-with-savepoint of " + jobId + " failed: " + op.path("failure-cause"));
        }
        return op.path("location").asText();
    }

    void cancel(String jobId) throws IOException, InterruptedException {
        send(HttpRequest.newBuilder(URI.create(base + "/jobs/" + jobId + "?mode=cancel"))
                .method("PATCH", HttpRequest.BodyPublishers.noBody()));
    }

    /** The job's root exception, for error messages. */
    String rootException(String jobId) {
        try {
            JsonNode e = get("/jobs/" + jobId + "/exceptions");
            String s = e.path("root-exception").asText("");
            return s.length() > 4_000 ? s.substring(0, 4_000) + " ..." : s;
        } catch (Exception ignored) {
            return "(no exception details)";
        }
    }

    static boolean isTerminal(String state) {
        return state.equals("FINISHED") || state.equals("CANCELED") || state.equals("FAILED");
    }

    /** Polls {@code condition} (each call is a REST round trip or a Kafka poll) until true or timeout. */
    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            }
            Thread.sleep(200);
        }
    }
}
