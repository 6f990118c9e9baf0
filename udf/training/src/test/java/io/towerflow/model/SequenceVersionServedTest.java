package io.towerflow.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.towerflow.config.ModelOptions;
import io.towerflow.config.ModelUpdateOptions;
import io.towerflow.config.RecommendOptions;
import io.towerflow.operators.RecommendConfig;
import io.towerflow.operators.RecommendOperator;
import io.towerflow.records.Action;
import io.towerflow.records.BehaviorEvent;
import io.towerflow.records.ControlMessage;
import io.towerflow.records.ModelUpdate;
import io.towerflow.records.Recommendation;

import ai.djl.Device;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A version with the sequence user tower goes the whole way through the job's operator: published
 * on model-updates while the pooled bootstrap serves, loaded and checked off the processing path,
 * swapped in, and serving lists from the user's ordered history in keyed state.
 */
class SequenceVersionServedTest {
    private static final long T0 = PlantedData.T0;

    @TempDir Path store;

    @Test
    void aSequenceVersionIsSwappedInAndServesFromTheKeyedHistory() throws Exception {
        ModelConfig config = PlantedData.testConfig().withSequenceTower(new SequenceTowerConfig(1, 1, 0.0));
        TrainingExamples train = PlantedModels.plantedSplit().train();
        String version = "v20991231-sequence";
        Path dir;
        try (TwoTowerModel m = TwoTowerModel.create(config, Device.cpu(), 3)) {
            new TwoTowerTrainer(m, PlantedModels.options(1)).fit(train);
            dir = PlantedModels.write(store, version, null, m, train);
        }
        ModelUpdate update = new ModelUpdate(version, dir.toUri().toString(),
                ModelArtifacts.sha256(dir.resolve(ModelArtifacts.MANIFEST)));

        Configuration c = new Configuration();
        c.set(ModelOptions.PATH, TestModels.bootstrapVersionDir().toString());
        c.set(ModelOptions.DEVICE, ModelOptions.DeviceChoice.CPU);
        c.set(RecommendOptions.TOP_K, 10);
        c.set(RecommendOptions.BATCH_MAX_SIZE, 1);
        c.set(RecommendOptions.BATCH_MAX_WAIT, Duration.ofSeconds(1));
        c.set(ModelUpdateOptions.ALLOWED_ROOTS,
                List.of(store.toString(), TestModels.bootstrapVersionDir().getParent().toString()));
        RecommendOperator op = new RecommendOperator(RecommendConfig.from(c));
        try (var h = new KeyedTwoInputStreamOperatorTestHarness<String, BehaviorEvent, ControlMessage, Recommendation>(
                op, e -> e.userId, m -> "control", Types.STRING)) {
            h.open();
            Set<String> seen = new HashSet<>();
            seen.add(PlantedData.item(1));
            h.processElement1(view("u", PlantedData.item(1), T0), T0);
            String bootstrap = h.extractOutputValues().get(0).modelVersion;
            h.processElement2(ControlMessage.of(update), T0);
            long deadline = System.currentTimeMillis() + 60_000;
            int lists = 1;
            while (true) {
                // an event every 20 ms of processing time until a list comes from the new version
                h.setProcessingTime(h.getProcessingTime() + 20);
                seen.add(PlantedData.item(2 + lists % 5));
                h.processElement1(view("u", PlantedData.item(2 + lists % 5), T0 + lists), T0 + lists);
                lists++;
                if (h.extractOutputValues().get(lists - 1).modelVersion.equals(version)) {
                    break;
                }
                assertTrue(System.currentTimeMillis() < deadline, "the sequence version never served");
            }
            // the ordered history in keyed state feeds the sequence tower: full lists, nothing seen
            for (int i = 0; i < 5; i++) {
                seen.add(PlantedData.item(10 + i));
                h.processElement1(view("u", PlantedData.item(10 + i), T0 + 100 + i), T0 + 100 + i);
            }
            List<Recommendation> out = h.extractOutputValues();
            assertEquals(lists + 5, out.size());
            for (Recommendation r : out.subList(lists, out.size())) {
                assertEquals(version, r.modelVersion);
                assertEquals(10, r.items.length);
            }
            Recommendation last = out.get(out.size() - 1);
            for (var s : last.items) {
                assertTrue(!seen.contains(s.itemId), "a seen item was recommended: " + s.itemId);
            }
            assertTrue(!bootstrap.equals(version));
        }
    }

    private static BehaviorEvent view(String user, String item, long ts) {
        return new BehaviorEvent(user, item, Action.VIEW, ts, null);
    }
}
