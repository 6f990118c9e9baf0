package io.towerflow.model;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.util.PairList;

/**
 * The parameters of both towers as one DJL block, so that one {@code saveParameters} /
 * {@code loadParameters} moves them all: three hashed embedding tables (item ids and categories are
 * shared by the towers), two two-layer MLPs and, with the short-term channel, the item skip: one
 * linear map (no bias) from item-id embedding space to the output, shared by both towers. The towers themselves are computed by {@link
 * TwoTowerModel}, which looks rows up in the tables and runs the MLP children; the block has no
 * single forward of its own.
 */
final class TwoTowerBlock extends AbstractBlock {
    private static final byte VERSION = 1;
    static final float EMBEDDING_INIT_SIGMA = 0.05f;

    final ModelConfig config;
    final Parameter itemTable;
    final Parameter categoryTable;
    final Parameter userTable;
    final Linear itemHidden;
    final Linear itemOut;
    final Linear userHidden;
    final Linear userOut;
    /** Shared item-embedding → output projection added to both towers (null without it). */
    final Linear itemSkip;
    /** The sequence user tower's encoder (null for the pooled tower). */
    final SequenceEncoder sequence;
    /** Hashed query and title tokens (null for a model without text). */
    final Parameter tokenTable;
    /** Shared token-bag → output projection added to both towers (null for a model without text). */
    final Linear textSkip;

    TwoTowerBlock(ModelConfig config) {
        super(VERSION);
        this.config = config;
        int e = config.embeddingDim();
        itemTable = addParameter(table("itemEmbedding", config.itemBuckets(), e));
        categoryTable = addParameter(table("categoryEmbedding", config.categoryBuckets(), e));
        userTable = addParameter(table("userEmbedding", config.userBuckets(), e));
        tokenTable = config.hasText() ? addParameter(table("tokenEmbedding", config.text().buckets(), e)) : null;
        itemHidden = addChildBlock("itemHidden", Linear.builder().setUnits(config.hidden()).build());
        itemOut = addChildBlock("itemOut", Linear.builder().setUnits(config.dim()).build());
        userHidden = addChildBlock("userHidden", Linear.builder().setUnits(config.hidden()).build());
        userOut = addChildBlock("userOut", Linear.builder().setUnits(config.dim()).build());
        itemSkip = config.hasRecentChannel()
                ? addChildBlock("itemSkip", Linear.builder().setUnits(config.dim()).optBias(false).build())
                : null;
        sequence = config.hasSequenceTower()
                ? addChildBlock("sequence", new SequenceEncoder(config.historyLength(), e, config.sequence()))
                : null;
        textSkip = config.hasText()
                ? addChildBlock("textSkip", Linear.builder().setUnits(config.dim()).optBias(false).build())
                : null;
    }

    private static Parameter table(String name, int rows, int width) {
        // Tables never take part in autograd: the trainer gathers the rows a step touches into
        // small leaf arrays and updates only those (see TwoTowerTrainer).
        return Parameter.builder()
                .setName(name)
                .setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(rows, width))
                .optInitializer(new NormalInitializer(EMBEDDING_INIT_SIGMA))
                .optRequiresGrad(false)
                .build();
    }

    /** Width of the item tower's input: item-id ⊕ category embedding (⊕ the title's token bag). */
    int itemInputWidth() {
        return (config.hasText() ? 3 : 2) * config.embeddingDim();
    }

    /**
     * Width of the user tower's input: pooled items ⊕ pooled categories (⊕ the same two pooled
     * short-term, when the config has that channel) ⊕ user-id embedding.
     */
    int userInputWidth() {
        int text = config.hasText() ? config.embeddingDim() : 0; // the queries' token bag
        if (config.hasSequenceTower()) {
            return 2 * config.embeddingDim() + text; // the encoder's latest position ⊕ user-id embedding
        }
        return (config.hasRecentChannel() ? 5 : 3) * config.embeddingDim() + text;
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        itemHidden.initialize(manager, dataType, new Shape(1, itemInputWidth()));
        itemOut.initialize(manager, dataType, new Shape(1, config.hidden()));
        userHidden.initialize(manager, dataType, new Shape(1, userInputWidth()));
        userOut.initialize(manager, dataType, new Shape(1, config.hidden()));
        if (itemSkip != null) {
            itemSkip.initialize(manager, dataType, new Shape(1, config.embeddingDim()));
        }
        if (textSkip != null) {
            textSkip.initialize(manager, dataType, new Shape(1, config.embeddingDim()));
        }
        if (sequence != null) {
            sequence.initialize(manager, dataType, new Shape(1, config.historyLength(), config.embeddingDim()));
        }
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), config.dim())};
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        throw new UnsupportedOperationException(
                "the two towers are computed by TwoTowerModel.itemVectors / userVectors");
    }
}
