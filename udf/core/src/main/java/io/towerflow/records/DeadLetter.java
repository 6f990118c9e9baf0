package io.towerflow.records;

/** A rejected input record with the reason it was rejected, for the {@code user-behavior-dlq} topic. */
public class DeadLetter {
    /**
     * At most this many bytes of the rejected record are kept: a record of megabytes (the broker
     * may allow them) must not become a dead letter that the DLQ's producer or broker refuses,
     * which would fail the sink and restart the job on every replay.
     */
    public static final int MAX_RAW_BYTES = 64 * 1024;

    /** The record's bytes, cut to {@link #MAX_RAW_BYTES}. */
    public byte[] raw;
    /** The record's full length in bytes (-1 for a null value). */
    public int rawLength;
    public String reason;
    public String sourceTopic;
    public int sourcePartition;
    public long sourceOffset;
    /** Wall-clock time of the rejection. */
    public long rejectedTs;

    public DeadLetter() {}

    public DeadLetter(RawRecord record, String reason, long rejectedTs) {
        this.raw = record.value == null || record.value.length <= MAX_RAW_BYTES
                ? record.value
                : java.util.Arrays.copyOf(record.value, MAX_RAW_BYTES);
        this.rawLength = record.value == null ? -1 : record.value.length;
        this.reason = reason;
        this.sourceTopic = record.topic;
        this.sourcePartition = record.partition;
        this.sourceOffset = record.offset;
        this.rejectedTs = rejectedTs;
    }
}
