package io.towerflow.devkit.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The time-series part of the demo's summary: {@code "windows"}, {@code "swaps"} (p99 around each
 * swap against the steady state, publish → first list when the demo's own retraining published
 * the version, HR@20 of the two versions just before and just after), {@code "drift"} and
 * {@code "retrainRounds"}.
 */
final class TimelineReport {
    private TimelineReport() {}

    static void write(ObjectNode s, Timeline t, long warmupMs, int compareWindows, List<Long> epochStarts,
            long driftEvery, List<ObjectNode> rounds) {
        s.put("windowMs", t.windowMs);
        s.put("warmupMs", warmupMs);
        ArrayNode windows = s.putArray("windows");
        for (Timeline.Window w : t.windows()) {
            ObjectNode o = windows.addObject();
            o.put("start", w.start);
            o.put("lists", w.lists);
            o.put("p50Ms", w.latency(0.5));
            o.put("p99Ms", w.latency(0.99));
            ArrayNode versions = o.putArray("versions");
            w.versions.forEach(versions::add);
            o.put("acts", w.acts());
            putRate(o, "hr@20", w.hitRate());
            if (w.actsAndHits.size() > 1) {
                ObjectNode byVersion = o.putObject("hr@20ByVersion");
                w.actsAndHits.forEach((v, ah) -> putRate(byVersion, v, ah[0] == 0 ? Double.NaN : (double) ah[1] / ah[0]));
            }
        }

        // when the demo's retraining published each version (the round returned: publishing is
        // its last step but committing offsets)
        Map<String, Long> publishedBy = new HashMap<>();
        for (ObjectNode r : rounds) {
            JsonNode sum = r.get("summary");
            if (sum != null && sum.path("published").asBoolean(false)) {
                publishedBy.put(sum.path("candidateVersion").asText(), r.get("endedAt").asLong());
            }
        }
        long span = compareWindows * t.windowMs;
        ArrayNode swaps = s.putArray("swaps");
        for (Timeline.Swap sw : t.swaps(warmupMs)) {
            ObjectNode o = swaps.addObject();
            o.put("from", sw.from());
            o.put("to", sw.to());
            o.put("firstListAt", sw.firstListAt());
            Long published = publishedBy.get(sw.to());
            if (published != null) {
                o.put("publishedBy", published);
                o.put("publishedToFirstListMs", sw.firstListAt() - published);
            }
            o.put("p99MsSwapWindow", sw.p99MsSwapWindow());
            o.put("p99MsSteady", sw.p99MsSteady());
            putRate(o, "p99Ratio", sw.ratio());
            o.put("swapWindowLists", sw.swapLists());
            o.put("steadyLists", sw.steadyLists());
            // HR@20 of the old version's lists in the windows before the swap's window against the
            // new version's in the windows after it
            long ws = t.windowStart(sw.firstListAt());
            Timeline.HitRate before = t.hitRate(sw.from(), ws - span, ws);
            Timeline.HitRate after = t.hitRate(sw.to(), ws + t.windowMs, ws + t.windowMs + span);
            ObjectNode hr = o.putObject("hr@20Around");
            hr.put("spanMs", span);
            putRate(hr, "from", before.rate());
            hr.put("fromActs", before.acts());
            putRate(hr, "to", after.rate());
            hr.put("toActs", after.acts());
            boolean drift = false;
            for (int e = 1; e < epochStarts.size(); e++) {
                long at = epochStarts.get(e);
                drift |= at >= ws - span && at < ws + t.windowMs + span;
            }
            hr.put("driftBetween", drift);
        }

        if (driftEvery > 0) {
            ObjectNode d = s.putObject("drift");
            d.put("every", driftEvery);
            ArrayNode at = d.putArray("epochStartsAt");
            epochStarts.forEach(at::add);
        }
        ArrayNode rs = s.putArray("retrainRounds");
        for (ObjectNode r : rounds) {
            ObjectNode o = rs.addObject();
            o.put("startedAt", r.get("startedAt").asLong());
            o.put("endedAt", r.get("endedAt").asLong());
            o.put("exit", r.get("exit").asInt());
            JsonNode sum = r.get("summary");
            if (sum != null) {
                o.put("serving", sum.path("servingVersion").asText(null));
                o.put("candidate", sum.path("candidateVersion").asText(null));
                o.put("promoted", sum.path("promoted").asBoolean(false));
                o.put("published", sum.path("published").asBoolean(false));
                o.put("examples", sum.path("window").path("examples").asLong());
                o.set("heldOutServingHR", sum.path("heldOut").path("current").path("HR@20"));
                o.set("heldOutCandidateHR", sum.path("heldOut").path("candidate").path("HR@20"));
                o.put("trainSeconds", sum.path("trainSeconds").asDouble());
            }
        }
    }

    private static void putRate(ObjectNode o, String key, double rate) {
        if (Double.isNaN(rate)) {
            o.putNull(key);
        } else {
            o.put(key, Math.round(rate * 10_000) / 10_000.0);
        }
    }
}
