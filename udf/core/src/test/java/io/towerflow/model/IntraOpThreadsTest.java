package io.towerflow.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.pytorch.jni.JniUtils;

import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

class IntraOpThreadsTest {
    /** {@code work} on a new thread; then whether the count was applied there, and libtorch's count there. */
    private static int[] onAThreadOfItsOwn(Runnable work) throws InterruptedException {
        AtomicInteger applied = new AtomicInteger(-1);
        AtomicInteger threads = new AtomicInteger(-1);
        Thread t = new Thread(() -> {
            work.run();
            applied.set(IntraOpThreads.appliedToThisThread() ? 1 : 0);
            threads.set(JniUtils.getNumThreads());
        });
        t.start();
        t.join();
        return new int[] {applied.get(), threads.get()};
    }

    @Test
    void servingRunsLibtorchOnTheConfiguredThreadsWhateverTheCallingThread() throws Exception {
        if (IntraOpThreads.configured() == 0) {
            System.setProperty("ai.djl.pytorch.num_threads", "1"); // as the job's configuration does
        }
        int configured = IntraOpThreads.configured();
        try (ServingModel model = ServingModel.load(TestModels.bootstrapVersionDir(), Device.cpu())) {
            String[] items = TestModels.popularItems(3);
            UserQuery user = new UserQuery("u1", items, new String[] {"c", "c", "c"}, new byte[] {1, 1, 1},
                    new long[] {1, 2, 3}, 4, Set.of(items));
            // a thread that is not the engine's, as a Flink task thread is not
            int[] serving = onAThreadOfItsOwn(() -> assertEquals(1, model.recommend(List.of(user), 5).size()));
            assertEquals(1, serving[0], "recommend applies the configured count to its thread");
            assertEquals(configured, serving[1], "libtorch's intra-op threads on the serving thread");
            assertEquals(0, onAThreadOfItsOwn(() -> { })[0], "a thread that never served is left alone");
        }
    }
}
