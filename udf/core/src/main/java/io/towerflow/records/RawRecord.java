package io.towerflow.records;

/**
 * A record as read from Kafka, before parsing: the bytes and where they came from, so that a
 * record that fails to parse reaches the DLQ with its origin.
 */
public class RawRecord {
    public byte[] value;
    public String topic;
    public int partition;
    public long offset;
    /** Kafka record timestamp (epoch ms). */
    public long timestamp;

    public RawRecord() {}

    public RawRecord(byte[] value, String topic, int partition, long offset, long timestamp) {
        this.value = value;
        this.topic = topic;
        this.partition = partition;
        this.offset = offset;
        this.timestamp = timestamp;
    }
}
