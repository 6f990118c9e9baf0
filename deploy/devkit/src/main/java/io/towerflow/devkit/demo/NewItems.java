package io.towerflow.devkit.demo;

import io.towerflow.config.KafkaEndpoint;
import io.towerflow.records.CatalogueItem;
import io.towerflow.records.JsonCodec;
import io.towerflow.synthetic.SyntheticGenerator;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * With {@code --new-items-every D}: adds a new item to the catalogue every D while the demo runs,
 * an upsert on {@code item-catalog} ({@code new-<tag>-1}, {@code new-<tag>-2}, ... in a seeded
 * random category of the synthetic catalogue, titled from that category's vocabulary, as the
 * generator titles its own items), and remembers when each was acknowledged by the
 * broker (its arrival). The tag is the run's (base 36 of its start time): the job reads the
 * compacted topic from the beginning, so on a broker kept from an earlier run the items of that run
 * are there already, and must not be taken for this run's. The job embeds it on its loader thread and explores it ahead of older items.
 */
final class NewItems implements AutoCloseable {
    private final KafkaProducer<byte[], byte[]> producer;
    private final String topic;
    private final String tag;
    private final SyntheticGenerator world;
    private final SplittableRandom random;
    private final Consumer<String> log;
    private final Map<String, Long> arrivedMs = new LinkedHashMap<>();
    private final ScheduledExecutorService timer =
            Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "towerflow-demo-new-items");
                t.setDaemon(true);
                return t;
            });
    private final OutputMonitor monitor;
    private int next = 1;

    private NewItems(KafkaEndpoint kafka, String topic, String tag, SyntheticGenerator world, long seed,
            OutputMonitor monitor, Consumer<String> log) {
        Properties p = kafka.properties();
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        this.producer = new KafkaProducer<>(p);
        this.topic = topic;
        this.tag = tag;
        this.world = world;
        this.random = new SplittableRandom(seed);
        this.monitor = monitor;
        this.log = log;
    }

    /** Starts adding an item every {@code everyMs}, the first one after {@code everyMs}. */
    static NewItems start(KafkaEndpoint kafka, String topic, String tag, SyntheticGenerator world, long seed,
            long everyMs, OutputMonitor monitor, Consumer<String> log) {
        NewItems n = new NewItems(kafka, topic, tag, world, seed, monitor, log);
        n.timer.scheduleAtFixedRate(n::addOne, everyMs, everyMs, TimeUnit.MILLISECONDS);
        return n;
    }

    private void addOne() {
        String id;
        synchronized (this) {
            id = "new-" + tag + "-" + next++;
        }
        int category = random.nextInt(world.categories());
        CatalogueItem item = new CatalogueItem(id, Integer.toString(category), true, world.newTitle(category, random));
        try {
            producer.send(new ProducerRecord<>(topic, id.getBytes(StandardCharsets.UTF_8), JsonCodec.catalogueItem(item))).get();
            long at = System.currentTimeMillis();
            synchronized (this) {
                arrivedMs.put(id, at);
            }
            monitor.watchNewItem(id, at);
            log.accept("new item " + id + " (category " + item.categoryId + ", \"" + item.title + "\") on " + topic);
        } catch (Exception e) {
            log.accept("adding new item " + id + " failed: " + e);
        }
    }

    /** Items added so far and when each arrived (wall ms). */
    synchronized Map<String, Long> arrivals() {
        return new LinkedHashMap<>(arrivedMs);
    }

    @Override
    public void close() throws InterruptedException {
        timer.shutdownNow();
        timer.awaitTermination(10, TimeUnit.SECONDS);
        producer.close();
    }
}
