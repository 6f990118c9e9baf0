package io.towerflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.ConstantInitializer;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.util.PairList;

import java.util.ArrayList;
import java.util.List;

/**
 * The sequence user tower's encoder: SASRec-style causal self-attention over a user's latest
 * items, composed from NDArray ops (DJL's transformer blocks take no causal mask).
 *
 * <p>Input: item embeddings {@code [b, N, E]}, left-padded (the newest item is always at position
 * N − 1), and a validity mask {@code [b, N]} (1 for a real item). It adds a learned positional
 * embedding per position (so position N − 1 means "the latest act"), applies dropout, then {@code
 * layers} pre-layer-norm blocks — {@code x + Dropout(MultiHeadAttention(LN(x)))}, then {@code x +
 * Dropout(W2·ReLU(W1·LN(x)))} — where position t attends only to real positions s ≤ t, and ends
 * with a layer norm. Output: {@code [b, N, E]}; position t depends on the inputs at positions ≤ t
 * only. Padded positions are zeroed after every block.
 */
final class SequenceEncoder extends AbstractBlock {
    private static final byte VERSION = 1;
    private static final float LN_EPS = 1e-6f;
    private static final float MASKED = -1e9f;

    private final int length;
    private final int width;
    private final SequenceTowerConfig shape;
    private final Parameter position;
    private final List<Layer> layers = new ArrayList<>();
    private final Parameter finalGamma;
    private final Parameter finalBeta;

    private final class Layer {
        final Parameter gamma1;
        final Parameter beta1;
        final Linear query;
        final Linear key;
        final Linear value;
        final Linear out;
        final Parameter gamma2;
        final Parameter beta2;
        final Linear ffn1;
        final Linear ffn2;

        Layer(int i) {
            gamma1 = addParameter(norm("ln1Gamma" + i, 1f));
            beta1 = addParameter(norm("ln1Beta" + i, 0f));
            query = addChildBlock("query" + i, linear());
            key = addChildBlock("key" + i, linear());
            value = addChildBlock("value" + i, linear());
            out = addChildBlock("attentionOut" + i, linear());
            gamma2 = addParameter(norm("ln2Gamma" + i, 1f));
            beta2 = addParameter(norm("ln2Beta" + i, 0f));
            ffn1 = addChildBlock("ffn1_" + i, linear());
            ffn2 = addChildBlock("ffn2_" + i, linear());
        }

        Linear[] linears() {
            return new Linear[] {query, key, value, out, ffn1, ffn2};
        }
    }

    SequenceEncoder(int length, int width, SequenceTowerConfig shape) {
        super(VERSION);
        this.length = length;
        this.width = width;
        this.shape = shape;
        position = addParameter(Parameter.builder()
                .setName("position")
                .setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(length, width))
                .optInitializer(new NormalInitializer(TwoTowerBlock.EMBEDDING_INIT_SIGMA))
                .build());
        for (int i = 0; i < shape.layers(); i++) {
            layers.add(new Layer(i));
        }
        finalGamma = addParameter(norm("lnFinalGamma", 1f));
        finalBeta = addParameter(norm("lnFinalBeta", 0f));
    }

    private Linear linear() {
        return Linear.builder().setUnits(width).build();
    }

    private Parameter norm(String name, float init) {
        return Parameter.builder()
                .setName(name)
                .setType(init == 1f ? Parameter.Type.GAMMA : Parameter.Type.BETA)
                .optShape(new Shape(width))
                .optInitializer(new ConstantInitializer(init))
                .build();
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        for (Layer l : layers) {
            for (Linear lin : l.linears()) {
                lin.initialize(manager, dataType, new Shape(1, width));
            }
        }
    }

    /** Every linear map, for shape checks on load. */
    List<Linear> linears() {
        List<Linear> out = new ArrayList<>();
        for (Layer l : layers) {
            out.addAll(List.of(l.linears()));
        }
        return out;
    }

    Parameter positionParameter() {
        return position;
    }

    int length() {
        return length;
    }

    /**
     * Encodes {@code x} [b, N, E] (left-padded) with validity {@code valid} [b, N]; results belong
     * to the inputs' manager.
     */
    NDArray encode(ParameterStore ps, NDArray x, NDArray valid, boolean training) {
        long b = x.getShape().get(0);
        int heads = shape.heads();
        int d = width / heads;
        float rate = (float) shape.dropout();
        NDManager m = x.getManager();
        NDArray keep = valid.expandDims(2); // [b, N, 1]
        // additive attention mask [b, 1, N, N]: query t sees key s iff s <= t and s is a real item
        float[] causal = new float[length * length];
        for (int t = 0; t < length; t++) {
            for (int s = t + 1; s < length; s++) {
                causal[t * length + s] = MASKED;
            }
        }
        NDArray mask = m.create(causal, new Shape(1, 1, length, length))
                .add(valid.sub(1f).mul(-MASKED).reshape(b, 1, 1, length));
        NDArray h = x.add(ps.getValue(position, x.getDevice(), training).expandDims(0));
        h = dropout(h, rate, training).mul(keep);
        double scale = 1 / Math.sqrt(d);
        for (Layer l : layers) {
            NDArray a = layerNorm(h, ps, l.gamma1, l.beta1, training);
            NDArray q = heads(forward(ps, l.query, a, training), b, heads, d);
            NDArray k = heads(forward(ps, l.key, a, training), b, heads, d);
            NDArray v = heads(forward(ps, l.value, a, training), b, heads, d);
            NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)).mul(scale).add(mask); // [b, H, N, N]
            NDArray attended = scores.softmax(3).matMul(v) // [b, H, N, d]
                    .transpose(0, 2, 1, 3).reshape(b, length, width);
            h = h.add(dropout(forward(ps, l.out, attended, training), rate, training));
            NDArray f = layerNorm(h, ps, l.gamma2, l.beta2, training);
            NDArray ff = forward(ps, l.ffn2, Activation.relu(forward(ps, l.ffn1, f, training)), training);
            h = h.add(dropout(ff, rate, training)).mul(keep);
        }
        return layerNorm(h, ps, finalGamma, finalBeta, training);
    }

    private static NDArray heads(NDArray x, long b, int heads, int d) {
        return x.reshape(b, -1, heads, d).transpose(0, 2, 1, 3);
    }

    private static NDArray forward(ParameterStore ps, Linear linear, NDArray x, boolean training) {
        return linear.forward(ps, new NDList(x), training).singletonOrThrow();
    }

    private NDArray layerNorm(NDArray x, ParameterStore ps, Parameter gamma, Parameter beta, boolean training) {
        return x.getNDArrayInternal().layerNorm(x, new Shape(width), ps.getValue(gamma, x.getDevice(), training),
                ps.getValue(beta, x.getDevice(), training), LN_EPS).singletonOrThrow();
    }

    private static NDArray dropout(NDArray x, float rate, boolean training) {
        return training && rate > 0 ? x.getNDArrayInternal().dropout(x, rate, true).singletonOrThrow() : x;
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected NDList forwardInternal(ParameterStore parameterStore, NDList inputs, boolean training,
            PairList<String, Object> params) {
        return new NDList(encode(parameterStore, inputs.get(0), inputs.get(1), training));
    }
}
