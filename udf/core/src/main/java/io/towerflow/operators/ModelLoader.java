package io.towerflow.operators;

import io.towerflow.model.InvalidModelException;
import io.towerflow.model.ModelArtifacts;
import io.towerflow.model.ServingModel;
import io.towerflow.model.UserQuery;
import io.towerflow.model.UserResult;
import io.towerflow.records.ModelUpdate;

import ai.djl.Device;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Set;

/**
 * Loads and validates a model version named by a {@link ModelUpdate}: the manifest's sha256 must
 * match the update's, the version named inside must match, every file must match its checksum,
 * the item matrix must have the model's dimension, and a smoke inference must give finite scores.
 * Any failure is an {@link InvalidModelException} with the reason; the caller keeps serving what
 * it served.
 */
public final class ModelLoader {
    private ModelLoader() {}

    public static Path pathOf(String uri) {
        return uri.startsWith("file:") ? Paths.get(URI.create(uri)) : Paths.get(uri);
    }

    public static ServingModel load(ModelUpdate update, Device device, int topK) throws InvalidModelException {
        Path dir;
        try {
            dir = pathOf(update.uri);
        } catch (RuntimeException e) {
            throw new InvalidModelException("bad uri " + update.uri + ": " + e.getMessage());
        }
        Path manifest = dir.resolve("manifest.json");
        if (!Files.isRegularFile(manifest)) {
            throw new InvalidModelException("no manifest.json in " + dir);
        }
        String sha;
        try {
            sha = ModelArtifacts.sha256(manifest);
        } catch (java.io.IOException e) {
            throw new InvalidModelException("cannot read " + manifest + ": " + e.getMessage());
        }
        if (!sha.equalsIgnoreCase(update.sha256)) {
            throw new InvalidModelException(
                    "manifest sha256 " + sha + " does not match the update's " + update.sha256);
        }
        ServingModel model = ServingModel.load(dir, device);
        try {
            if (!model.version().equals(update.version)) {
                throw new InvalidModelException(
                        "manifest names version " + model.version() + ", the update " + update.version);
            }
            smokeTest(model, topK);
            return model;
        } catch (InvalidModelException | RuntimeException e) {
            model.close();
            throw e instanceof InvalidModelException
                    ? (InvalidModelException) e
                    : new InvalidModelException("smoke inference failed: " + e);
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
