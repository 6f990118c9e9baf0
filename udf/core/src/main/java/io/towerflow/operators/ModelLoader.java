package io.towerflow.operators;

import io.towerflow.index.AnnSettings;
import io.towerflow.model.InvalidModelException;
import io.towerflow.model.RefusedModelException;
import io.towerflow.model.ServingModel;
import io.towerflow.model.UserQuery;
import io.towerflow.model.UserResult;
import io.towerflow.records.ModelUpdate;

import ai.djl.Device;

import java.net.URI;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Set;

/**
 * Loads and validates a model version named by a {@link ModelUpdate}: it must lie in the
 * {@link ModelStore} (allowed roots, signature), the manifest's sha256 must match the update's,
 * the version named inside must match, every file must match its checksum, the item matrix must
 * have the model's dimension, and a smoke inference must give finite scores. Any failure is a
 * {@link RefusedModelException} with the reason; the caller keeps serving what it served.
 */
public final class ModelLoader {
    private ModelLoader() {}

    public static Path pathOf(String uri) {
        return uri.startsWith("file:") ? Paths.get(URI.create(uri)) : Paths.get(uri);
    }

    /**
     * Loads the version {@code update} names, once {@code store} has confined and verified it.
     * Every refusal is a {@link RefusedModelException} with its reason.
     */
    public static ServingModel load(ModelUpdate update, ModelStore store, Device device, int topK, AnnSettings ann)
            throws RefusedModelException {
        Path dir = store.verify(update);
        ServingModel model;
        try {
            model = ServingModel.load(dir, device, ann);
        } catch (InvalidModelException e) {
            throw new RefusedModelException(RefusedModelException.reasonOf(e), e.getMessage(), e);
        }
        try {
            if (!model.version().equals(update.version)) {
                throw new RefusedModelException(RefusedModelException.Reason.VERSION_MISMATCH,
                        "manifest names version " + model.version() + ", the update " + update.version);
            }
            smokeTest(model, topK);
            return model;
        } catch (RefusedModelException e) {
            model.close();
            throw e;
        } catch (InvalidModelException | RuntimeException e) {
            model.close();
            throw new RefusedModelException(RefusedModelException.Reason.SMOKE_TEST,
                    "smoke inference failed: " + (e instanceof InvalidModelException ? e.getMessage() : e));
        }
    }

    /** Checks dimensions and that one inference gives a full list of finite scores. */
    public static void smokeTest(ServingModel model, int topK) throws InvalidModelException {
        if (model.index().dim() != model.config().dim()) {
            throw new InvalidModelException(
                    "item matrix dim " + model.index().dim() + " != model dim " + model.config().dim());
        }
        UserResult r = model.recommend(List.of(UserQuery.withoutHistory("smoke-test", 0L, Set.of())), topK).get(0);
        if (r.userVector().length != model.config().dim()) {
            throw new InvalidModelException("user vector has dim " + r.userVector().length);
        }
        if (r.items().length != Math.min(topK, model.catalogueSize())) {
            throw new InvalidModelException("smoke inference gave " + r.items().length + " items");
        }
        for (var item : r.items()) {
            if (!Float.isFinite(item.score)) {
                throw new InvalidModelException("smoke inference gave a non-finite score");
            }
        }
    }
}
