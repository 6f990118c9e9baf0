package io.towerflow.records;

/** A rejected input record with the reason it was rejected, for the {@code user-behavior-dlq} topic. */
public class DeadLetter {
    public byte[] raw;
    public String reason;
    public String sourceTopic;
    public int sourcePartition;
    public long sourceOffset;
    /** Wall-clock time of the rejection. */
    public long rejectedTs;

    public DeadLetter() {}

    public DeadLetter(RawRecord record, String reason, long rejectedTs) {
        this.raw = record.value;
        this.reason = reason;
        this.sourceTopic = record.topic;
        this.sourcePartition = record.partition;
        this.sourceOffset = record.offset;
        this.rejectedTs = rejectedTs;
    }
}
