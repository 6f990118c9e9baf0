package io.towerflow.devkit.cluster;

import io.towerflow.config.KafkaEndpoint;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.JsonCodec;
import io.towerflow.synthetic.SyntheticGenerator;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Produces behaviour events (and malformed records) to the input topic, keyed by user, at a steady
 * rate, and remembers when each valid event was sent. Events of one user go to one partition, in
 * order, so the job sees each user's history in the order it was produced.
 */
final class EventFeeder implements AutoCloseable {
    /** One record to produce: a valid event, or malformed bytes ({@code event == null}). */
    record Item(BehaviorEvent event, byte[] bytes) {
        static Item of(BehaviorEvent e) {
            return new Item(e, JsonCodec.behaviorEvent(e));
        }

        static Item malformed(String text) {
            return new Item(null, text.getBytes(StandardCharsets.UTF_8));
        }
    }

    private final KafkaProducer<byte[], byte[]> producer;
    private final String topic;
    private final Map<String, Long> sentAt = new ConcurrentHashMap<>();
    private final AtomicLong sent = new AtomicLong();

    EventFeeder(KafkaEndpoint kafka, String topic) {
        this.topic = topic;
        this.producer = producer(kafka, Map.of());
    }

    /** An idempotent producer of bytes (acks=all, linger 2 ms), with {@code extra} settings over these. */
    static KafkaProducer<byte[], byte[]> producer(KafkaEndpoint kafka, Map<String, Object> extra) {
        Map<String, Object> p = kafka.map();
        p.putAll(Map.of(
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.LINGER_MS_CONFIG, 2,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class));
        p.putAll(extra);
        return new KafkaProducer<>(p);
    }

    /** The identity of an event and of its list: one list per valid event, with the event's user and ts. */
    static String key(String userId, long eventTs) {
        return userId + "|" + eventTs;
    }

    /**
     * {@code valid} seeded synthetic events on the bootstrap model's catalogue, with one malformed
     * record after every {@code malformedEvery} valid ones (0: none).
     */
    static List<Item> synthetic(SyntheticGenerator.Config cfg, int valid, int malformedEvery) {
        List<Item> items = new ArrayList<>();
        Iterator<BehaviorEvent> events = new SyntheticGenerator(cfg).events(valid);
        for (int i = 1; events.hasNext(); i++) {
            items.add(Item.of(events.next()));
            if (malformedEvery > 0 && i % malformedEvery == 0) {
                items.add(Item.malformed("{\"userId\":\"u" + i + "\",\"itemId\":\"1\",\"action\":\"teleport\",\"ts\":" + cfg.startTs + "}"));
            }
        }
        return items;
    }

    /** Sends {@code items} in order at {@code perSecond} (0: as fast as possible) and flushes. */
    void send(List<Item> items, double perSecond) throws InterruptedException {
        long start = System.nanoTime();
        for (int i = 0; i < items.size(); i++) {
            if (perSecond > 0) {
                long due = start + (long) (i * 1e9 / perSecond);
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
            }
            Item it = items.get(i);
            byte[] key = null;
            Long ts = null;
            if (it.event() != null) {
                key = it.event().userId.getBytes(StandardCharsets.UTF_8);
                ts = it.event().ts;
                sentAt.putIfAbsent(key(it.event().userId, it.event().ts), System.currentTimeMillis());
            }
            producer.send(new ProducerRecord<>(topic, null, ts, key, it.bytes()));
            sent.incrementAndGet();
        }
        producer.flush();
    }

    long sent() {
        return sent.get();
    }

    /** When the event with this key was first sent (epoch ms), or {@link Long#MAX_VALUE} if never. */
    long sentAtMs(String key) {
        return sentAt.getOrDefault(key, Long.MAX_VALUE);
    }

    @Override
    public void close() {
        producer.close();
    }
}
