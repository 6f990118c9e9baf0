package io.towerflow.devkit.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.config.KafkaOptions;
import io.towerflow.config.RecommendOptions;
import io.towerflow.devkit.kafka.EmbeddedKafka;
import io.towerflow.job.RecommendationJob;
import io.towerflow.model.TestModels;
import io.towerflow.operators.UserHistory;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.synthetic.SyntheticGenerator;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.executiongraph.AccessExecutionJobVertex;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.SavepointReader;
import org.apache.flink.state.api.functions.KeyedStateReaderFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * The upgrade path of operations.md on a MiniCluster with a real broker: RecommendationJob runs at
 * parallelism 2, is stopped with a savepoint, and a new job is started from that savepoint at
 * parallelism 4. The State Processor API reads every user's history out of both savepoints; each
 * must be exactly the user's last N interactions sent so far — nothing lost across the rescale,
 * nothing replayed — and the lists on both sides of the upgrade are exactly one per event and
 * never recommend an item already in the user's history.
 */
class SavepointRescaleITCase {
    private static final int HISTORY = 12;

    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(4)
                            .build());

    @TempDir static Path tmp;
    static EmbeddedKafka kafka;

    @BeforeAll
    static void startKafka() throws Exception {
        kafka = EmbeddedKafka.start(tmp.resolve("kafka"));
    }

    @AfterAll
    static void stopKafka() {
        kafka.close();
    }

    @Test
    void everyUsersHistorySurvivesStopWithSavepointAndRestoreAtParallelism4(@InjectMiniCluster MiniCluster mini)
            throws Exception {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        Configuration options = jobOptions(suffix);
        JobTopics.create(kafka, options, 4);

        SyntheticGenerator.Config cfg = new SyntheticGenerator.Config() /* the bootstrap version's world */;
        cfg.users = 40;
        cfg.seed = 23;
        List<EventFeeder.Item> items = EventFeeder.synthetic(cfg, 1_200, 0);
        List<EventFeeder.Item> before = items.subList(0, 800);
        List<BehaviorEvent> all = items.stream().map(EventFeeder.Item::event).collect(Collectors.toList());

        try (EventFeeder feeder = new EventFeeder(kafka.endpoint(), options.get(KafkaOptions.BEHAVIOR_TOPIC));
                OutputLedger ledger = new OutputLedger(kafka.endpoint(),
                        options.get(KafkaOptions.RECOMMENDATIONS_TOPIC), options.get(KafkaOptions.DLQ_TOPIC))) {
            feeder.send(before, 0);
            JobClient atTwo = start(options, 2, null);
            awaitLists(ledger, 800);
            String savepoint = stop(atTwo);
            assertEquals(expectedHistories(all.subList(0, 800)), readHistories(savepoint),
                    "every user's history in the savepoint taken at parallelism 2");

            feeder.send(items.subList(800, items.size()), 0);
            // Told to start at the topic's end, a job that did not restore would never see the
            // events just sent: the restored one reads on from the savepoint's offsets.
            Configuration restored = new Configuration(options);
            restored.set(KafkaOptions.START_FROM, KafkaOptions.StartFrom.LATEST);
            JobClient atFour = start(restored, 4, savepoint);
            awaitLists(ledger, 1_200);
            int atParallelism4 = 0;
            for (AccessExecutionJobVertex v : mini.getExecutionGraph(atFour.getJobID()).get().getVerticesTopologically()) {
                if (!v.getName().startsWith("Source: control")) { // the control source always runs alone
                    assertEquals(4, v.getParallelism(), v.getName() + " restored at parallelism 4");
                    atParallelism4++;
                }
            }
            assertTrue(atParallelism4 >= 2, "the behaviour source and the recommend operator run at 4");
            String rescaled = stop(atFour);
            assertEquals(expectedHistories(all), readHistories(rescaled),
                    "every user's history after the restore at parallelism 4: the old interactions plus the new");

            ledger.readToEnd(Duration.ofSeconds(60));
            OutputLedger.Verdict v = ledger.verify(all, 0, HISTORY);
            assertTrue(v.exact(), "one list per event across the upgrade: " + v);
            assertEquals(0, v.seenItemsRecommended(), "no list recommends an item of the user's history: " + v.examples());
        }
    }

    private static Configuration jobOptions(String suffix) {
        Configuration c = JobTopics.options(kafka.endpoint(), suffix, "rescale");
        c.set(RecommendOptions.HISTORY_LENGTH, HISTORY);
        c.set(RecommendOptions.BATCH_MAX_SIZE, 32);
        return c;
    }

    /** RecommendationJob as on the local cluster: RocksDB, exactly-once checkpoints, fixed max parallelism. */
    private static JobClient start(Configuration options, int parallelism, String savepoint) throws Exception {
        Configuration flink = new Configuration();
        flink.setString("state.backend.type", "rocksdb");
        flink.setString("execution.checkpointing.incremental", "true");
        flink.setString("execution.checkpointing.interval", "300 ms");
        flink.setString("execution.checkpointing.dir", tmp.resolve("checkpoints").toUri().toString());
        flink.setString("pipeline.max-parallelism", "128");
        if (savepoint != null) {
            flink.setString("execution.state-recovery.path", savepoint);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
        env.setParallelism(parallelism);
        RecommendationJob.define(env, options);
        return env.executeAsync("towerflow-rescale-p" + parallelism);
    }

    private static String stop(JobClient job) throws Exception {
        return job.stopWithSavepoint(false, tmp.resolve("savepoints").toUri().toString(), SavepointFormatType.CANONICAL)
                .get();
    }

    private static void awaitLists(OutputLedger ledger, long n) {
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (ledger.lists() < n) {
            assertTrue(System.nanoTime() < deadline, "only " + ledger.lists() + " of " + n + " lists committed");
            ledger.poll(Duration.ofMillis(200));
        }
    }

    /** Each user's last {@link #HISTORY} items in send order. */
    private static Map<String, List<String>> expectedHistories(List<BehaviorEvent> sent) {
        Map<String, Deque<String>> h = new TreeMap<>();
        for (BehaviorEvent e : sent) {
            Deque<String> d = h.computeIfAbsent(e.userId, u -> new ArrayDeque<>());
            d.addLast(e.itemId);
            while (d.size() > HISTORY) {
                d.removeFirst();
            }
        }
        Map<String, List<String>> out = new TreeMap<>();
        h.forEach((u, d) -> out.put(u, new ArrayList<>(d)));
        return out;
    }

    /** Every user's history item ids, read from the recommend operator's keyed state in a savepoint. */
    private static Map<String, List<String>> readHistories(String savepoint) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        SavepointReader reader = SavepointReader.read(env, savepoint, new HashMapStateBackend());
        Map<String, List<String>> out = new TreeMap<>();
        try (CloseableIterator<String> rows = reader.readKeyedState(
                        OperatorIdentifier.forUid("recommend"), new HistoryReader(), Types.STRING, Types.STRING)
                .executeAndCollect("read histories")) {
            rows.forEachRemaining(r -> {
                int eq = r.indexOf('=');
                out.put(r.substring(0, eq), List.of(r.substring(eq + 1).split(",")));
            });
        }
        return out;
    }

    /** userId=item,item,... of the "history" state, declared as the operator declares it (with a TTL). */
    static final class HistoryReader extends KeyedStateReaderFunction<String, String> {
        private transient ValueState<UserHistory> history;

        @Override
        public void open(OpenContext context) {
            ValueStateDescriptor<UserHistory> d = new ValueStateDescriptor<>("history", UserHistory.class);
            d.enableTimeToLive(StateTtlConfig.newBuilder(RecommendOptions.STATE_TTL.defaultValue()).build());
            history = getRuntimeContext().getState(d);
        }

        @Override
        public void readKey(String userId, Context ctx, Collector<String> out) throws Exception {
            UserHistory h = history.value();
            if (h != null) {
                out.collect(userId + "=" + String.join(",", h.itemIds));
            }
        }
    }

}
