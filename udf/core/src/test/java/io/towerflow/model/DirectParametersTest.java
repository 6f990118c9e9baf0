package io.towerflow.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;

import org.junit.jupiter.api.Test;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;

class DirectParametersTest {
    private static long directBytes() {
        for (BufferPoolMXBean b : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (b.getName().equals("direct")) {
                return b.getMemoryUsed();
            }
        }
        throw new IllegalStateException("no direct buffer pool");
    }

    /**
     * A loaded version's parameters live in direct buffers (10.6 MB for the bootstrap version);
     * closing the version frees them at once, not whenever the garbage collector gets to them:
     * a hot swap closes the old version, and direct memory stays at one version's worth however
     * many swaps there were. No collection runs here that could free them instead (none is
     * forced, and the buffers are still referenced until close()).
     */
    @Test
    void closingAVersionFreesItsParametersDirectMemory() throws Exception {
        ServingModel.load(TestModels.bootstrapVersionDir(), Device.cpu()).close(); // the engine's own, once per JVM
        long before = directBytes();
        for (int swap = 0; swap < 3; swap++) {
            ServingModel m = ServingModel.load(TestModels.bootstrapVersionDir(), Device.cpu());
            long loaded = directBytes() - before;
            assertTrue(loaded > 5 << 20, "the loaded parameters hold " + loaded + " bytes of direct memory");
            m.close();
            long left = directBytes() - before;
            assertTrue(left < 1 << 20, "after closing version " + swap + ", " + left + " bytes of direct memory left");
        }
    }
}
