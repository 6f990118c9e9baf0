package io.towerflow.kafka;

import io.towerflow.config.KafkaEndpoint;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Creates Kafka topics and waits until every partition is really usable.
 *
 * <p>A topic is usable only once each partition answers {@code listOffsets(latest)}: records
 * produced right after {@code createTopics} returns can otherwise be silently lost
 * (KAFKA-14359 / KAFKA-15591). Works against the {@link EmbeddedKafka} broker and against an
 * external cluster alike.
 */
public final class Topics {

    private static final Logger LOG = LoggerFactory.getLogger(Topics.class);
    private static final long BACKOFF_MS = 100;

    private Topics() {}

    /**
     * Creates the topics that do not exist yet and waits until every partition of every listed
     * topic (new or pre-existing) answers {@code listOffsets(latest)}.
     *
     * @param kafka the cluster to talk to, with its client properties
     * @param partitionsByTopic topic name to partition count of topics to create; a topic that
     *     already exists is kept as it is, whatever its partition count
     * @param configsByTopic per-topic configs of new topics (e.g. {@code cleanup.policy=compact});
     *     may be {@code null} or lack topics. The replication factor is the broker's
     *     {@code default.replication.factor}.
     * @param timeout bound on the whole operation
     * @throws TimeoutException if the topics are not all usable within {@code timeout}
     */
    public static void ensureTopics(
            KafkaEndpoint kafka,
            Map<String, Integer> partitionsByTopic,
            Map<String, Map<String, String>> configsByTopic,
            Duration timeout)
            throws InterruptedException, ExecutionException, TimeoutException {
        if (partitionsByTopic.isEmpty()) {
            return;
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, Map<String, String>> configs = configsByTopic == null ? Map.of() : configsByTopic;

        Properties props = kafka.properties();
        int apiTimeoutMs = (int) Math.max(1_000, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, apiTimeoutMs);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.min(apiTimeoutMs, 10_000));
        try (Admin admin = Admin.create(props)) {
            createMissing(admin, partitionsByTopic, configs, deadline);
            awaitListOffsets(admin, partitionsByTopic, deadline);
        }
    }

    private static void createMissing(
            Admin admin,
            Map<String, Integer> partitionsByTopic,
            Map<String, Map<String, String>> configs,
            long deadline)
            throws InterruptedException, ExecutionException, TimeoutException {
        Set<String> pending = new HashSet<>(partitionsByTopic.keySet());
        Throwable lastError = null;
        while (true) {
            List<NewTopic> newTopics = new ArrayList<>();
            for (String topic : pending) {
                NewTopic nt = new NewTopic(topic, Optional.of(partitionsByTopic.get(topic)), Optional.empty());
                Map<String, String> topicConfigs = configs.get(topic);
                if (topicConfigs != null && !topicConfigs.isEmpty()) {
                    nt.configs(topicConfigs);
                }
                newTopics.add(nt);
            }
            CreateTopicsResult result = admin.createTopics(newTopics);
            for (Map.Entry<String, KafkaFuture<Void>> e : result.values().entrySet()) {
                try {
                    e.getValue().get(remainingMs(deadline), TimeUnit.MILLISECONDS);
                    pending.remove(e.getKey());
                } catch (ExecutionException ex) {
                    Throwable cause = ex.getCause();
                    if (cause instanceof TopicExistsException) {
                        pending.remove(e.getKey());
                    } else if (cause instanceof RetriableException) {
                        lastError = cause;
                    } else {
                        throw ex;
                    }
                }
            }
            if (pending.isEmpty()) {
                return;
            }
            backoffOrFail(deadline, "creating topics " + pending, lastError);
        }
    }

    private static void awaitListOffsets(Admin admin, Map<String, Integer> partitionsByTopic, long deadline)
            throws InterruptedException, TimeoutException {
        Set<String> undescribed = new HashSet<>(partitionsByTopic.keySet());
        Set<TopicPartition> pending = new HashSet<>();
        Throwable lastError = null;
        while (true) {
            if (!undescribed.isEmpty()) {
                Map<String, KafkaFuture<TopicDescription>> descriptions =
                        admin.describeTopics(undescribed).topicNameValues();
                for (Map.Entry<String, KafkaFuture<TopicDescription>> e : descriptions.entrySet()) {
                    try {
                        TopicDescription d = e.getValue().get(remainingMs(deadline), TimeUnit.MILLISECONDS);
                        d.partitions().forEach(p -> pending.add(new TopicPartition(d.name(), p.partition())));
                        if (d.partitions().size() != partitionsByTopic.get(d.name())) {
                            LOG.warn("Topic {} already exists with {} partitions ({} requested); keeping it",
                                    d.name(), d.partitions().size(), partitionsByTopic.get(d.name()));
                        }
                        undescribed.remove(e.getKey());
                    } catch (ExecutionException ex) {
                        lastError = ex.getCause();
                    }
                }
            }
            if (!pending.isEmpty()) {
                Map<TopicPartition, OffsetSpec> request = new HashMap<>();
                pending.forEach(tp -> request.put(tp, OffsetSpec.latest()));
                ListOffsetsResult result = admin.listOffsets(request);
                for (TopicPartition tp : request.keySet()) {
                    try {
                        result.partitionResult(tp).get(remainingMs(deadline), TimeUnit.MILLISECONDS);
                        pending.remove(tp);
                    } catch (ExecutionException ex) {
                        lastError = ex.getCause();
                    }
                }
            }
            if (undescribed.isEmpty() && pending.isEmpty()) {
                return;
            }
            backoffOrFail(deadline, "waiting for listOffsets of " + undescribed + " " + pending, lastError);
        }
    }

    private static long remainingMs(long deadline) throws TimeoutException {
        long ms = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (ms <= 0) {
            throw new TimeoutException("deadline passed");
        }
        return ms;
    }

    private static void backoffOrFail(long deadline, String what, Throwable lastError)
            throws InterruptedException, TimeoutException {
        if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(BACKOFF_MS) - deadline > 0) {
            TimeoutException te = new TimeoutException("Timed out " + what);
            if (lastError != null) {
                te.initCause(lastError);
            }
            throw te;
        }
        LOG.debug("Still {} (last error: {})", what, String.valueOf(lastError));
        Thread.sleep(BACKOFF_MS);
    }
}
