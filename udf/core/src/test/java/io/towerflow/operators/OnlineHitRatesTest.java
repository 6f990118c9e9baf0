package io.towerflow.operators;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.apache.flink.runtime.metrics.groups.GenericMetricGroup;
import org.apache.flink.runtime.metrics.util.TestingMetricRegistry;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

class OnlineHitRatesTest {
    @Test
    void retiredVersionsLeaveTheRegistrySoHundredsOfSwapsStayBounded() {
        Set<String> live = new HashSet<>();
        TestingMetricRegistry registry = TestingMetricRegistry.builder()
                .setRegisterConsumer((m, name, group) -> live.add(group.getMetricIdentifier(name)))
                .setUnregisterConsumer((m, name, group) -> live.remove(group.getMetricIdentifier(name)))
                .build();
        GenericMetricGroup operator = new GenericMetricGroup(registry, null, "operator");
        OnlineHitRates rates = new OnlineHitRates(operator);
        for (int v = 0; v < 100; v++) {
            String version = String.format("v%03d", v);
            rates.record(version, v % 2 == 0, v % 4 == 0);
            rates.record(version, false, false);
            // lists of the previous version are still acted on for a while
            if (v > 0) {
                rates.record(String.format("v%03d", v - 1), true, false);
            }
            assertEquals(Math.min(v + 1, OnlineHitRates.KEPT) * 4, live.size(), "metrics after version " + v);
        }
        List<String> kept = new ArrayList<>();
        rates.versions().forEach(kept::add);
        assertEquals(List.of("v096", "v097", "v098", "v099"), kept.stream().sorted().toList());
        rates.close();
        assertEquals(Set.of(), live);
    }
}
