package io.towerflow.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

class ModelArtifactsTest {
    @TempDir static Path root;
    static TwoTowerModel trained;
    static TrainingExamples.Split split;
    static Path version;

    @TempDir Path scratch;

    @BeforeAll
    static void train() {
        split = PlantedModels.plantedSplit();
        trained = TwoTowerModel.create(PlantedData.testConfig(), Device.cpu(), 3);
        new TwoTowerTrainer(trained, PlantedModels.options(2)).fit(split.train());
        version = PlantedModels.write(root, "v1", null, trained, split.train());
    }

    @AfterAll
    static void close() {
        trained.close();
    }

    @Test
    void saveThenLoadScoresBitIdentically() throws Exception {
        List<UserQuery> queries = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            queries.add(split.heldOut().query(i, i % 2 == 0 ? Set.of() : Set.of(PlantedData.item(i))));
        }
        queries.add(UserQuery.withoutHistory("cold", PlantedData.T0, Set.of()));
        int k = 20;
        try (ServingModel served = ServingModel.load(version, Device.cpu());
                ServingModel inMemory = ServingModel.ofUnsaved("v1", trained, split.train().catalogue())) {
            List<UserResult> got = served.recommend(queries, k);
            List<UserResult> want = inMemory.recommend(queries, k);
            for (int i = 0; i < queries.size(); i++) {
                assertArrayEquals(want.get(i).userVector(), got.get(i).userVector());
                assertEquals(k, got.get(i).items().length);
                assertArrayEquals(want.get(i).items(), got.get(i).items(), "same ids, bit-identical scores");
            }
            assertArrayEquals(inMemory.index().matrix().toFloatArray(), served.index().matrix().toFloatArray());
            assertArrayEquals(inMemory.popular(10, Set.of()), served.popular(10, Set.of()));
        }
        // and the loaded parameters save to the same bytes
        try (TwoTowerModel loaded = ModelArtifacts.load(version).loadModel(Device.cpu())) {
            ByteArrayOutputStream a = new ByteArrayOutputStream();
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            loaded.saveParameters(a);
            trained.saveParameters(b);
            assertArrayEquals(b.toByteArray(), a.toByteArray());
        }
    }

    @Test
    void manifestDescribesTheVersion() throws Exception {
        JsonNode m = new ObjectMapper().readTree(version.resolve(ModelArtifacts.MANIFEST).toFile());
        assertEquals("v1", m.get("version").asText());
        assertTrue(m.get("parent").isNull());
        assertEquals(TestModels.CREATED_AT, m.get("createdAt").asText());
        for (String f : List.of("dim", "embeddingDim", "hidden", "itemBuckets", "categoryBuckets",
                "userBuckets", "historyLength", "recencyHalfLifeMs", "temperature")) {
            assertTrue(m.get("config").has(f), f);
        }
        assertEquals(8192, m.get("config").get("itemBuckets").asInt());
        assertEquals(split.train().size(), m.get("trainingWindow").get("events").asLong());
        assertEquals(1.0, m.get("metrics").get("test").asDouble());
        assertEquals(ModelArtifacts.sha256(version.resolve("twotower.params")),
                m.get("files").get("twotower.params").asText());
        assertEquals(64, m.get("files").get("items.csv").asText().length());
        ModelArtifacts a = ModelArtifacts.load(version);
        assertEquals(trained.config(), a.manifest().config());
        assertEquals(split.train().catalogue().size(), a.catalogue().size());
    }

    @Test
    void refusesACorruptedByte() throws Exception {
        Path copy = copyOfVersion();
        Path params = copy.resolve(ModelArtifacts.PARAMETERS);
        byte[] bytes = Files.readAllBytes(params);
        bytes[bytes.length / 2] ^= 0x01;
        Files.write(params, bytes);
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> ModelArtifacts.load(copy));
        assertTrue(e.getMessage().contains("sha256 mismatch for twotower.params"), e.getMessage());
        assertThrows(InvalidModelException.class, () -> ServingModel.load(copy, Device.cpu()));
    }

    @Test
    void refusesAChangedCatalogue() throws Exception {
        Path copy = copyOfVersion();
        Files.writeString(copy.resolve(ModelArtifacts.ITEMS), "\nextra,1,1\n",
                java.nio.file.StandardOpenOption.APPEND);
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> ModelArtifacts.load(copy));
        assertTrue(e.getMessage().contains("sha256 mismatch for items.csv"), e.getMessage());
    }

    @Test
    void refusesMissingFiles() throws Exception {
        Path copy = copyOfVersion();
        Files.delete(copy.resolve(ModelArtifacts.ITEMS));
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> ModelArtifacts.load(copy));
        assertTrue(e.getMessage().contains("items.csv missing"), e.getMessage());

        Path noManifest = copyOfVersion();
        Files.delete(noManifest.resolve(ModelArtifacts.MANIFEST));
        e = assertThrows(InvalidModelException.class, () -> ModelArtifacts.load(noManifest));
        assertTrue(e.getMessage().contains("manifest.json missing"), e.getMessage());

        e = assertThrows(InvalidModelException.class, () -> ModelArtifacts.load(scratch.resolve("nope")));
        assertTrue(e.getMessage().contains("not a directory"), e.getMessage());
    }

    @Test
    void refusesABadManifest() throws Exception {
        Path garbage = copyOfVersion();
        Files.writeString(garbage.resolve(ModelArtifacts.MANIFEST), "{\"version\": \"v1\", ");
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> ModelArtifacts.load(garbage));
        assertTrue(e.getMessage().contains("does not parse"), e.getMessage());

        Path unlisted = copyOfVersion();
        editManifest(unlisted, m -> ((ObjectNode) m.get("files")).remove("twotower.params"));
        e = assertThrows(InvalidModelException.class, () -> ModelArtifacts.load(unlisted));
        assertTrue(e.getMessage().contains("does not list twotower.params"), e.getMessage());

        Path escaping = copyOfVersion();
        editManifest(escaping, m -> ((ObjectNode) m.get("files")).put("../v1/items.csv", "00"));
        e = assertThrows(InvalidModelException.class, () -> ModelArtifacts.load(escaping));
        assertTrue(e.getMessage().contains("unacceptable file name"), e.getMessage());

        Path badConfig = copyOfVersion();
        editManifest(badConfig, m -> ((ObjectNode) m.get("config")).put("dim", 0));
        e = assertThrows(InvalidModelException.class, () -> ModelArtifacts.load(badConfig));
        assertTrue(e.getMessage().contains("does not parse"), e.getMessage());

        Path noConfigField = copyOfVersion();
        editManifest(noConfigField, m -> ((ObjectNode) m.get("config")).remove("userBuckets"));
        assertThrows(InvalidModelException.class, () -> ModelArtifacts.load(noConfigField));
    }

    @Test
    void refusesParametersThatDoNotFitTheConfig() throws Exception {
        Path copy = copyOfVersion();
        editManifest(copy, m -> ((ObjectNode) m.get("config")).put("itemBuckets", 4096));
        ModelArtifacts a = ModelArtifacts.load(copy); // checksums still match
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> a.loadModel(Device.cpu()));
        assertTrue(e.getMessage().contains("itemEmbedding"), e.getMessage());
    }

    @Test
    void refusesToWriteOrLoadNonFiniteParameters() throws Exception {
        float[][] values = trained.snapshot();
        float[][] poisoned = new float[values.length][];
        for (int i = 0; i < values.length; i++) {
            poisoned[i] = values[i].clone();
        }
        poisoned[0][7] = Float.NaN; // one value of one embedding row
        try (TwoTowerModel m = TwoTowerModel.create(PlantedData.testConfig(), Device.cpu(), 3)) {
            m.restore(poisoned);
            IllegalStateException w = assertThrows(IllegalStateException.class,
                    () -> ModelArtifacts.write(scratch, ModelArtifacts.load(version).manifest(),
                            m, split.train().catalogue()));
            assertTrue(w.getMessage().contains("non-finite"), w.getMessage());
            try (Stream<Path> left = Files.list(scratch)) {
                assertFalse(left.findAny().isPresent(), "nothing written");
            }
            java.io.ByteArrayOutputStream params = new java.io.ByteArrayOutputStream();
            m.saveParameters(params);
            ai.djl.MalformedModelException e = assertThrows(ai.djl.MalformedModelException.class,
                    () -> TwoTowerModel.load(PlantedData.testConfig(),
                            new java.io.ByteArrayInputStream(params.toByteArray()), Device.cpu()));
            assertTrue(e.getMessage().contains("1 non-finite values"), e.getMessage());
        }
    }

    @Test
    void versionsAreWrittenOnceAndAtomically() throws Exception {
        assertThrows(FileAlreadyExistsException.class,
                () -> ModelArtifacts.write(root, ModelArtifacts.load(version).manifest(), trained,
                        split.train().catalogue()));
        try (Stream<Path> s = Files.list(root)) {
            assertFalse(s.anyMatch(p -> p.getFileName().toString().startsWith(".tmp")),
                    "no temporary directory left behind");
        }
    }

    private Path copyOfVersion() throws IOException {
        Path target = Files.createTempDirectory(scratch, "v");
        try (Stream<Path> files = Files.list(version)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, target.resolve(f.getFileName()));
            }
        }
        return target;
    }

    private static void editManifest(Path dir, java.util.function.Consumer<JsonNode> edit) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        Path file = dir.resolve(ModelArtifacts.MANIFEST);
        JsonNode m = mapper.readTree(file.toFile());
        edit.accept(m);
        mapper.writeValue(file.toFile(), m);
    }
}
