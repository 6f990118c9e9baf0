package io.towerflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The direct buffers behind a block's loaded parameters, and freeing them once the parameters
 * are closed. DJL 0.25 reads a parameter into a {@code ByteBuffer.allocateDirect} buffer and makes
 * the libtorch tensor point into it ({@code torch::from_blob}); the PyTorch array keeps the buffer
 * in a private field, {@code dataRef}, and closing the array does not free it. Read by
 * reflection; where that fails (another DJL) the buffers are left to the garbage collector, as
 * before, and a warning says so once.
 */
final class DirectParameters {
    private static final Logger LOG = LoggerFactory.getLogger(DirectParameters.class);
    private static final Field DATA_REF;
    private static final Object UNSAFE;
    private static final Method INVOKE_CLEANER;

    static {
        Field dataRef = null;
        Object unsafe = null;
        Method invokeCleaner = null;
        try {
            dataRef = Class.forName("ai.djl.pytorch.engine.PtNDArray").getDeclaredField("dataRef");
            dataRef.setAccessible(true);
            Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
            Field theUnsafe = unsafeClass.getDeclaredField("theUnsafe");
            theUnsafe.setAccessible(true);
            unsafe = theUnsafe.get(null);
            invokeCleaner = unsafeClass.getMethod("invokeCleaner", ByteBuffer.class);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.warn("Direct buffers of closed model parameters are left to the garbage collector: {}", e.toString());
            dataRef = null;
        }
        DATA_REF = dataRef;
        UNSAFE = unsafe;
        INVOKE_CLEANER = invokeCleaner;
    }

    private DirectParameters() {}

    /** The direct buffers the parameters of {@code block} (and its children) point into. */
    static List<ByteBuffer> of(Block block) {
        List<ByteBuffer> out = new ArrayList<>();
        if (DATA_REF == null) {
            return out;
        }
        for (Pair<String, Parameter> p : block.getParameters()) {
            if (!p.getValue().isInitialized()) {
                continue;
            }
            NDArray array = p.getValue().getArray();
            if (DATA_REF.getDeclaringClass().isInstance(array)) {
                try {
                    if (DATA_REF.get(array) instanceof ByteBuffer b && b.isDirect()) {
                        out.add(b);
                    }
                } catch (IllegalAccessException e) {
                    return List.of();
                }
            }
        }
        return out;
    }

    /** Frees {@code buffers} now; only once nothing points into them any more. */
    static void free(List<ByteBuffer> buffers) {
        for (ByteBuffer b : buffers) {
            try {
                INVOKE_CLEANER.invoke(UNSAFE, b);
            } catch (ReflectiveOperationException | RuntimeException e) {
                // a slice or a duplicate: left to the garbage collector
            }
        }
    }
}
