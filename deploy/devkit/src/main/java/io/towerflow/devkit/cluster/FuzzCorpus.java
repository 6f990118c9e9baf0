package io.towerflow.devkit.cluster;

import io.towerflow.records.Action;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.JsonCodec;
import io.towerflow.synthetic.SyntheticGenerator;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * Seeded bad input mixed into valid events, for the fuzzing run of the failure suite: invalid
 * UTF-8, numbers out of range, nesting deeper than the parser allows, a record of megabytes,
 * duplicate keys, NUL bytes (raw and escaped), CSV lines with extra or missing fields, random
 * bytes, and junk on {@code model-updates} and {@code item-catalog}. Each bad record carries the
 * start of the reason the job must give it in the DLQ; each valid one (JSON, Taobao CSV, with
 * unknown fields or non-ASCII ids) must get exactly one list. Same seed, same corpus.
 */
final class FuzzCorpus {
    /** Where a record goes. */
    enum Target { BEHAVIOR, MODEL_UPDATES, CATALOG }

    /**
     * One record: a valid event ({@code valid != null}) or a bad record with the prefix its
     * dead letter's reason must start with ({@code ""}: any reason).
     */
    record Entry(Target target, byte[] key, byte[] value, BehaviorEvent valid, String kind, String reasonPrefix) {
        boolean bad() {
            return valid == null;
        }
    }

    static final int HUGE_RECORD_BYTES = 10 * 1024 * 1024;

    private static final long TS = 1_764_547_200_000L;
    private static final String OK_TAIL = ",\"itemId\":\"1\",\"action\":\"view\",\"ts\":" + TS + "}";

    private FuzzCorpus() {}

    /**
     * {@code valid} synthetic events on the bootstrap model's world with {@code bad} bad records
     * (a third of them on the control topics) at seeded positions; {@code withHuge}: one of the
     * bad records is {@link #HUGE_RECORD_BYTES} long (the behaviour topic must allow it).
     */
    static List<Entry> generate(SyntheticGenerator.Config cfg, int valid, int bad, long seed, boolean withHuge) {
        Random rnd = new Random(seed);
        List<Entry> out = new ArrayList<>();
        Iterator<BehaviorEvent> events = new SyntheticGenerator(cfg).events(valid);
        List<Entry> goods = new ArrayList<>();
        int i = 0;
        while (events.hasNext()) {
            BehaviorEvent e = events.next();
            goods.add(validEntry(e, i++, rnd));
        }
        List<Entry> bads = new ArrayList<>();
        if (withHuge && bad > 0) {
            byte[] huge = new byte[HUGE_RECORD_BYTES];
            Arrays.fill(huge, (byte) ' ');
            byte[] json = ("{\"userId\":\"huge\"" + OK_TAIL).getBytes(StandardCharsets.UTF_8);
            System.arraycopy(json, 0, huge, 0, json.length);
            bads.add(new Entry(Target.BEHAVIOR, null, huge, null, "10MB-record", "record of " + HUGE_RECORD_BYTES + " bytes"));
        }
        while (bads.size() < bad) {
            int n = bads.size();
            bads.add(n % 3 == 2 ? controlJunk(n, rnd) : behaviorJunk(n, rnd));
        }
        // bad records at seeded positions; valid events keep their order
        int[] slots = new int[bads.size()];
        for (int b = 0; b < slots.length; b++) {
            slots[b] = rnd.nextInt(goods.size() + 1);
        }
        Arrays.sort(slots);
        int b = 0;
        for (int g = 0; g <= goods.size(); g++) {
            while (b < slots.length && slots[b] == g) {
                out.add(bads.get(b++));
            }
            if (g < goods.size()) {
                out.add(goods.get(g));
            }
        }
        return out;
    }

    /** A valid event; some as Taobao CSV (whole seconds), some with unknown fields or non-ASCII ids. */
    private static Entry validEntry(BehaviorEvent e, int i, Random rnd) {
        byte[] key = e.userId.getBytes(StandardCharsets.UTF_8);
        switch (i % 20) {
            case 5: {
                // Taobao CSV: the event time in seconds; the user is a CSV-only one, so its ts is its own
                BehaviorEvent c = new BehaviorEvent("csv-" + i, e.itemId, Action.VIEW, (e.ts / 1000) * 1000, e.categoryId);
                String line = c.userId + "," + c.itemId + "," + (c.categoryId == null ? "" : c.categoryId) + ",pv," + c.ts / 1000;
                return new Entry(Target.BEHAVIOR, c.userId.getBytes(StandardCharsets.UTF_8),
                        line.getBytes(StandardCharsets.UTF_8), c, "valid-csv", null);
            }
            case 11: {
                // unknown fields, some nesting (well under the limit), non-ASCII and an emoji in the user id
                BehaviorEvent u = new BehaviorEvent("üser-✓-\uD83D\uDE00-" + i, e.itemId, e.action, e.ts, e.categoryId);
                String nested = "[".repeat(40) + "1" + "]".repeat(40);
                String json = "{\"userId\":\"" + u.userId + "\",\"itemId\":\"" + u.itemId + "\",\"action\":\""
                        + u.action.wireName() + "\",\"ts\":" + u.ts + ",\"extra\":" + nested + ",\"note\":\"\\t ok\"}";
                return new Entry(Target.BEHAVIOR, u.userId.getBytes(StandardCharsets.UTF_8),
                        json.getBytes(StandardCharsets.UTF_8), u, "valid-extra-fields", null);
            }
            default:
                return new Entry(Target.BEHAVIOR, key, JsonCodec.behaviorEvent(e), e, "valid", null);
        }
    }

    private static final List<Function<Random, Entry>> BEHAVIOR_JUNK = List.of(
            r -> bytes("invalid-utf8", "not valid UTF-8", concat("{\"userId\":\"u", new byte[] {(byte) 0xC3, (byte) 0x28}, "\"" + OK_TAIL)),
            r -> bytes("invalid-utf8-overlong", "not valid UTF-8", concat("1,2,", new byte[] {(byte) 0xC0, (byte) 0x80}, ",pv,1511544070")),
            r -> text("ts-out-of-range", "ts ", "{\"userId\":\"u\",\"itemId\":\"1\",\"action\":\"view\",\"ts\":" + (r.nextBoolean() ? "-1" : "4102444800000") + "}"),
            r -> text("ts-long-overflow", "ts is not an integer epoch-ms value", "{\"userId\":\"u\",\"itemId\":\"1\",\"action\":\"view\",\"ts\":123456789012345678901234567890}"),
            r -> text("ts-double-overflow", "ts is not an integer epoch-ms value", "{\"userId\":\"u\",\"itemId\":\"1\",\"action\":\"view\",\"ts\":1e400}"),
            r -> text("ts-fraction", "ts is not an integer epoch-ms value", "{\"userId\":\"u\",\"itemId\":\"1\",\"action\":\"view\",\"ts\":1764547200000.5}"),
            r -> text("csv-ts-overflow", "Taobao ts is not an integer", "7,8,9,pv,99999999999999999999"),
            r -> text("csv-ts-out-of-range", "Taobao ts", "7,8,9,pv," + Long.MAX_VALUE),
            r -> text("deep-nesting", "malformed JSON: Document nesting depth", "{\"userId\":\"u\",\"x\":" + "[".repeat(1_200 + r.nextInt(800)) + OK_TAIL),
            r -> text("deep-nesting-objects", "malformed JSON: Document nesting depth", "{\"a\":".repeat(1_100) + "1" + "}".repeat(1_100)),
            r -> text("duplicate-keys", "malformed JSON: Duplicate field", "{\"userId\":\"u1\",\"userId\":\"u2\"" + OK_TAIL),
            r -> text("duplicate-ts", "malformed JSON: Duplicate field", "{\"userId\":\"u1\",\"ts\":5" + OK_TAIL),
            r -> text("nul-raw-in-json", "malformed JSON", "{\"userId\":\"u\u0000\"" + OK_TAIL),
            r -> text("nul-escaped", "userId contains a control character", "{\"userId\":\"u\\u0000x\"" + OK_TAIL),
            r -> text("nul-in-csv", "itemId contains a control character", "7,8\u00008,9,pv,1511544070"),
            r -> text("nul-only", "", "\u0000\u0000\u0000"),
            r -> text("csv-extra-field", "Taobao CSV needs 5 fields", "7,8,9,pv,1511544070,extra"),
            r -> text("csv-missing-field", "Taobao CSV needs 5 fields", "7,8,pv,1511544070"),
            r -> text("csv-unknown-behavior", "unknown Taobao behavior", "7,8,9,teleport,1511544070"),
            r -> text("oversized-record", "record of ", "{\"userId\":\"u\",\"pad\":\"" + "x".repeat(20_000) + "\"" + OK_TAIL),
            r -> text("id-too-long", "userId of ", "{\"userId\":\"" + "u".repeat(500) + "\"" + OK_TAIL),
            r -> text("not-an-object", "JSON is not an object", "[1,2,3]"),
            r -> text("truncated-json", "malformed JSON", "{\"userId\":\"u\",\"itemId\":"),
            r -> text("blank", "blank record", " \t \n"),
            r -> bytes("empty", "empty record", new byte[0]),
            r -> text("wrong-types", "userId must be a string or an integer", "{\"userId\":{\"a\":1}" + OK_TAIL),
            r -> {
                byte[] junk = new byte[1 + r.nextInt(200)];
                r.nextBytes(junk);
                junk[0] = (byte) 0xFF; // never valid UTF-8, so the reason is known
                return bytes("random-bytes", "not valid UTF-8", junk);
            });

    private static final List<Function<Random, Entry>> MODEL_UPDATE_JUNK = List.of(
            r -> control(Target.MODEL_UPDATES, "model-update-not-json", "model update is not JSON", "garbage{"),
            r -> control(Target.MODEL_UPDATES, "model-update-array", "model update is not a JSON object", "[\"v1\"]"),
            r -> control(Target.MODEL_UPDATES, "model-update-missing-sha256", "model update lacks sha256", "{\"version\":\"v9\",\"uri\":\"file:/m\"}"),
            r -> control(Target.MODEL_UPDATES, "model-update-duplicate-keys", "model update is not JSON", "{\"version\":\"v1\",\"version\":\"v9\",\"uri\":\"u\",\"sha256\":\"s\"}"),
            r -> control(Target.MODEL_UPDATES, "model-update-nul", "model update's uri contains a control character", "{\"version\":\"v9\",\"uri\":\"file:/m\\u0000\",\"sha256\":\"s\"}"),
            r -> control(Target.MODEL_UPDATES, "model-update-deep", "model update is not JSON", "{\"version\":" + "[".repeat(1_500)),
            r -> new Entry(Target.MODEL_UPDATES, null, concat("{\"version\":\"", new byte[] {(byte) 0xFE}, "\"}"), null,
                    "model-update-invalid-utf8", "model update is not JSON"));

    private static final List<Function<Random, Entry>> CATALOG_JUNK = List.of(
            r -> control(Target.CATALOG, "catalog-not-json", "catalogue record is not JSON", "not json at all"),
            r -> control(Target.CATALOG, "catalog-missing-item", "catalogue record lacks itemId", "{\"categoryId\":\"7\"}"),
            r -> control(Target.CATALOG, "catalog-available-not-boolean", "catalogue record's available is not a boolean", "{\"itemId\":\"1\",\"available\":\"yes\"}"),
            r -> control(Target.CATALOG, "catalog-duplicate-keys", "catalogue record is not JSON", "{\"itemId\":\"1\",\"itemId\":\"2\"}"),
            r -> control(Target.CATALOG, "catalog-nul", "catalogue record's itemId contains a control character", "{\"itemId\":\"1\\u0000\"}"),
            r -> control(Target.CATALOG, "catalog-deep", "catalogue record is not JSON", "{\"itemId\":" + "{\"a\":".repeat(1_500)),
            r -> new Entry(Target.CATALOG, "tombstone".getBytes(StandardCharsets.UTF_8), null, null, "catalog-tombstone", "empty record"));

    private static Entry behaviorJunk(int n, Random rnd) {
        return BEHAVIOR_JUNK.get(rnd.nextInt(BEHAVIOR_JUNK.size())).apply(rnd);
    }

    private static Entry controlJunk(int n, Random rnd) {
        List<Function<Random, Entry>> kinds = rnd.nextBoolean() ? MODEL_UPDATE_JUNK : CATALOG_JUNK;
        Entry e = kinds.get(rnd.nextInt(kinds.size())).apply(rnd);
        // the catalogue is compacted: every record needs a key (the broker refuses one without)
        byte[] key = e.target() == Target.CATALOG && e.key() == null ? ("junk-" + n).getBytes(StandardCharsets.UTF_8) : e.key();
        return new Entry(e.target(), key, e.value(), null, e.kind(), e.reasonPrefix());
    }

    private static Entry text(String kind, String reason, String value) {
        return bytes(kind, reason, value.getBytes(StandardCharsets.UTF_8));
    }

    private static Entry bytes(String kind, String reason, byte[] value) {
        return new Entry(Target.BEHAVIOR, null, value, null, kind, reason);
    }

    private static Entry control(Target target, String kind, String reason, String value) {
        return new Entry(target, null, value.getBytes(StandardCharsets.UTF_8), null, kind, reason);
    }

    private static byte[] concat(String a, byte[] mid, String b) {
        byte[] x = a.getBytes(StandardCharsets.UTF_8);
        byte[] y = b.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[x.length + mid.length + y.length];
        System.arraycopy(x, 0, out, 0, x.length);
        System.arraycopy(mid, 0, out, x.length, mid.length);
        System.arraycopy(y, 0, out, x.length + mid.length, y.length);
        return out;
    }
}
