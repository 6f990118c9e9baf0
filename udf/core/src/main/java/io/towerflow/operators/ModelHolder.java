package io.towerflow.operators;

import io.towerflow.index.ItemIndex;
import io.towerflow.model.InvalidModelException;
import io.towerflow.model.RefusedModelException;
import io.towerflow.model.ServingModel;
import io.towerflow.records.CatalogueItem;
import io.towerflow.records.ModelUpdate;

import ai.djl.Device;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The model side of {@link RecommendOperator}: which version serves, and with which catalogue.
 *
 * <p>Everything slow runs on one background thread ("towerflow-model-loader"): loading and
 * validating a new version (confined to the {@link ModelStore}'s roots, signature, checksums,
 * dimensions, a smoke inference; {@link ModelLoader}) and
 * embedding catalogue changes into a new item index (with, for a large catalogue, its approximate
 * index: built with each version, updated with each change, {@link ServingModel#prepareCatalogue}).
 * The operator thread only calls
 * {@link #install()} between batches, which swaps in what is ready and closes what it replaces —
 * reference swaps, never a re-embedding. The highest version wins whatever the arrival order; a
 * version that fails validation is refused and the old one keeps serving.
 *
 * <p>Catalogue changes are cumulative (item id → latest upsert) and apply to whichever version
 * serves: a version being loaded gets them on the loader thread before it is installed; changes
 * that arrive while a version serves are built into a new index of that version. Each change set
 * carries a generation number, so an index built for an older set or for a version no longer
 * serving is dropped and rebuilt.
 *
 * <p>Not thread-safe except where said: one per operator instance, called from its thread.
 */
final class ModelHolder implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ModelHolder.class);

    private final RecommendConfig config;
    private final MetricGroup metrics;
    private final Counter modelSwaps;
    private final Counter modelUpdatesRefused;
    private final Counter catalogueRebuilds;
    /** Refusals per reason ({@code reason.<label>.modelUpdatesRefused}). */
    private final Map<String, Counter> refusalsByReason = new HashMap<>();
    private final Device device;
    private final ExecutorService loader;

    private ServingModel model;
    /** Generation of the catalogue changes that {@link #model} serves. */
    private long servingGeneration;
    /** All catalogue changes seen (item id → latest upsert) and their generation. */
    private final Map<String, CatalogueItem> catalogue = new HashMap<>();
    private long generation;

    /** The version being loaded, or null. */
    private String loadingVersion;
    /** Whether an index rebuild is queued or running. */
    private boolean rebuilding;

    /** Results of the loader thread, taken by {@link #install()}. */
    private final AtomicReference<Loaded> loaded = new AtomicReference<>();
    private final AtomicReference<Rebuilt> rebuilt = new AtomicReference<>();
    private volatile String lastRefusal;

    /**
     * A background load: the version with the catalogue of {@code generation} applied, or why not
     * (a refusal's reason label, {@link RefusedModelException.Reason#label()}, and its message).
     */
    private record Loaded(ModelUpdate update, ServingModel model, long generation, String reason, String failure) {}

    /** A background index rebuild of {@code model} for the catalogue of {@code generation}. */
    private record Rebuilt(ServingModel model, ItemIndex index, long generation, String failure) {}

    /**
     * Opens the version to serve: the highest valid one of {@code seen} (the model updates in
     * restored broadcast state), else the configured initial version, with the restored catalogue
     * changes applied. Runs in the operator's {@code open()}, before any element.
     */
    ModelHolder(RecommendConfig config, MetricGroup metrics, Iterable<ModelUpdate> seen,
            Map<String, CatalogueItem> restoredCatalogue) throws Exception {
        this.config = config;
        this.metrics = metrics;
        modelSwaps = metrics.counter("modelSwaps");
        modelUpdatesRefused = metrics.counter("modelUpdatesRefused");
        catalogueRebuilds = metrics.counter("catalogueIndexRebuilds");
        metrics.gauge("servingModelVersion", () -> model == null ? "" : model.version());
        metrics.gauge("catalogueSize", () -> model == null ? 0 : model.catalogueSize());
        metrics.gauge("lastModelRefusal", () -> lastRefusal == null ? "" : lastRefusal);

        DjlRuntime.configureThreads(config.numThreads, config.numInteropThreads);
        device = DjlRuntime.device(config.device);
        model = restoreOrInitial(seen);
        catalogue.putAll(restoredCatalogue);
        if (!catalogue.isEmpty()) {
            generation = 1;
            servingGeneration = 1;
            model.applyCatalogue(catalogue);
        }
        loader = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "towerflow-model-loader");
            t.setDaemon(true);
            return t;
        });
        LOG.info("Serving model {} ({} items) on {}", model.version(), model.catalogueSize(), device);
    }

    private ServingModel restoreOrInitial(Iterable<ModelUpdate> seen) throws Exception {
        List<ModelUpdate> updates = new ArrayList<>();
        seen.forEach(updates::add);
        updates.sort(Comparator.comparing((ModelUpdate u) -> u.version).reversed());
        for (ModelUpdate u : updates) {
            try {
                return ModelLoader.load(u, config.modelStore, device, config.topK, config.ann);
            } catch (InvalidModelException e) {
                LOG.warn("Not restoring model {}: {}", u.version, e.getMessage());
            }
        }
        ServingModel initial = ServingModel.load(Paths.get(config.modelPath), device, config.ann);
        try {
            // a smoke inference: proves the version scores, and warms libtorch before the first event
            ModelLoader.smokeTest(initial, config.topK);
        } catch (InvalidModelException e) {
            initial.close();
            throw e;
        }
        return initial;
    }

    /** The version serving now. */
    ServingModel serving() {
        return model;
    }

    /** Why the last refused model update was refused, or null. */
    String lastRefusal() {
        return lastRefusal;
    }

    /** Refusals of model updates for {@code reason} (a {@link RefusedModelException.Reason#label()}). */
    long refusals(String reason) {
        Counter c = refusalsByReason.get(reason);
        return c == null ? 0 : c.getCount();
    }

    /** Whether background work is queued, running or waiting to be installed. */
    boolean busy() {
        return loadingVersion != null || rebuilding || loaded.get() != null || rebuilt.get() != null;
    }

    /** Starts loading {@code update} off the processing path if it is newer than what serves or loads. */
    void request(ModelUpdate update) {
        if (update.version.compareTo(model.version()) <= 0
                || (loadingVersion != null && update.version.compareTo(loadingVersion) <= 0)) {
            LOG.info("Ignoring model {}: {} serves{}", update.version, model.version(),
                    loadingVersion == null ? "" : ", " + loadingVersion + " is loading");
            return;
        }
        loadingVersion = update.version;
        long gen = generation;
        Map<String, CatalogueItem> changes = gen == 0 ? Map.of() : Map.copyOf(catalogue);
        LOG.info("Loading model {} from {}", update.version, update.uri);
        loader.execute(() -> {
            Loaded result;
            try {
                ServingModel m = ModelLoader.load(update, config.modelStore, device, config.topK, config.ann);
                try {
                    if (!changes.isEmpty()) {
                        m.applyCatalogue(changes); // not serving yet: nobody else reads it
                    }
                } catch (RuntimeException e) {
                    m.close();
                    throw e;
                }
                result = new Loaded(update, m, gen, null, null);
            } catch (RefusedModelException e) {
                result = new Loaded(update, null, gen, e.reason().label(), e.getMessage());
            } catch (Throwable t) {
                result = new Loaded(update, null, gen, "error", t.getMessage() == null ? t.toString() : t.getMessage());
            }
            Loaded previous = loaded.getAndSet(result);
            if (previous != null && previous.model != null) {
                previous.model.close(); // superseded before it was installed
            }
        });
    }

    /** Records a catalogue change; a new index of the serving version is built in the background. */
    void catalogueChanged(CatalogueItem item) {
        catalogue.put(item.itemId, item);
        generation++;
        scheduleRebuild();
    }

    private void scheduleRebuild() {
        if (rebuilding || servingGeneration == generation) {
            return;
        }
        rebuilding = true;
        ServingModel target = model;
        long gen = generation;
        Map<String, CatalogueItem> changes = Map.copyOf(catalogue);
        loader.execute(() -> {
            Rebuilt result;
            try {
                result = new Rebuilt(target, target.prepareCatalogue(changes), gen, null);
            } catch (Throwable t) {
                result = new Rebuilt(target, null, gen, t.getMessage() == null ? t.toString() : t.getMessage());
            }
            rebuilt.set(result);
        });
    }

    /**
     * Between batches, on the operator thread: installs a version that finished loading (or
     * records why it was refused) and a catalogue index that finished building, then queues the
     * next rebuild if changes arrived meanwhile. A loaded version waits while an index of the serving
 * one is being built. Returns whether the serving version changed.
     */
    boolean install() {
        installRebuilt();
        // a version is never closed while the loader thread builds an index from it
        boolean swapped = !rebuilding && installLoaded();
        scheduleRebuild();
        return swapped;
    }

    private boolean installLoaded() {
        Loaded l = loaded.getAndSet(null);
        if (l == null) {
            return false;
        }
        if (l.update.version.equals(loadingVersion)) {
            loadingVersion = null;
        }
        if (l.model == null) {
            modelUpdatesRefused.inc();
            refusalsByReason
                    .computeIfAbsent(l.reason, r -> metrics.addGroup("reason", r).counter("modelUpdatesRefused"))
                    .inc();
            lastRefusal = l.update.version + ": " + l.reason + ": " + l.failure;
            LOG.warn("Refused model {} from {} ({}: {}); {} keeps serving",
                    l.update.version, l.update.uri, l.reason, l.failure, model.version());
            return false;
        }
        if (l.update.version.compareTo(model.version()) <= 0) {
            l.model.close();
            return false;
        }
        ServingModel old = model;
        model = l.model;
        servingGeneration = l.generation;
        old.close();
        modelSwaps.inc();
        LOG.info("Swapped model {} -> {}", old.version(), model.version());
        return true;
    }

    private void installRebuilt() {
        Rebuilt r = rebuilt.getAndSet(null);
        if (r == null) {
            return;
        }
        rebuilding = false;
        if (r.index == null) {
            LOG.error("Catalogue changes of generation {} not applied to {}: {}", r.generation,
                    r.model.version(), r.failure);
            servingGeneration = r.generation; // retried with the next change, never in a loop
            return;
        }
        if (r.model != model || r.generation <= servingGeneration) {
            r.index.close(); // built for a version that no longer serves, or overtaken
            return;
        }
        model.installIndex(r.index);
        servingGeneration = r.generation;
        catalogueRebuilds.inc();
        LOG.info("Catalogue changes applied: {} items changed, {} items in the index",
                catalogue.size(), model.catalogueSize());
    }

    @Override
    public void close() throws InterruptedException {
        loader.shutdownNow();
        // a load or rebuild that is running still finishes (libtorch calls are not interruptible);
        // wait for it, so that what it made is closed here and not leaked
        if (!loader.awaitTermination(60, TimeUnit.SECONDS)) {
            LOG.warn("Model loader still running after 60 s; closing anyway");
        }
        Loaded l = loaded.getAndSet(null);
        if (l != null && l.model != null) {
            l.model.close();
        }
        Rebuilt r = rebuilt.getAndSet(null);
        if (r != null && r.index != null) {
            r.index.close();
        }
        if (model != null) {
            model.close();
            model = null;
        }
    }
}
