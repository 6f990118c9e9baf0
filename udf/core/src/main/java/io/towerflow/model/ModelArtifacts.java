package io.towerflow.model;

import ai.djl.Device;
import ai.djl.MalformedModelException;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A model version on disk: {@code <root>/<version>/} holding {@code manifest.json}, the
 * parameters ({@code twotower.params}) and the catalogue ({@code items.csv}). {@link #write}
 * builds the directory under a temporary name and renames it into place, so a reader sees a
 * whole version or none. {@link #load} refuses ({@link InvalidModelException}) a version whose
 * manifest does not parse, that lacks a required file, or whose files do not match their sha256.
 */
public final class ModelArtifacts {
    public static final String MANIFEST = "manifest.json";
    public static final String PARAMETERS = "twotower.params";
    public static final String ITEMS = "items.csv";
    /** Files every version must list in its manifest. */
    public static final List<String> REQUIRED_FILES = List.of(PARAMETERS, ITEMS);

    private final Path dir;
    private final ModelManifest manifest;
    private final ItemCatalogue catalogue;

    private ModelArtifacts(Path dir, ModelManifest manifest, ItemCatalogue catalogue) {
        this.dir = dir;
        this.manifest = manifest;
        this.catalogue = catalogue;
    }

    public Path dir() {
        return dir;
    }

    public ModelManifest manifest() {
        return manifest;
    }

    public ItemCatalogue catalogue() {
        return catalogue;
    }

    public Path parametersFile() {
        return dir.resolve(PARAMETERS);
    }

    /**
     * Writes a new version {@code <root>/<manifest.version()>}. The manifest's {@code files} are
     * filled in here. Fails if that version already exists: versions are immutable.
     *
     * @return the version directory
     */
    public static Path write(Path root, ModelManifest manifest, TwoTowerModel model, ItemCatalogue catalogue)
            throws IOException {
        checkFileName(manifest.version(), "version");
        if (!manifest.config().equals(model.config())) {
            throw new IllegalArgumentException("manifest config differs from the model's config");
        }
        try {
            model.requireFinite();
        } catch (MalformedModelException e) {
            throw new IllegalStateException("refusing to write version " + manifest.version() + ": " + e.getMessage(), e);
        }
        Files.createDirectories(root);
        Path target = root.resolve(manifest.version());
        if (Files.exists(target)) {
            throw new FileAlreadyExistsException(target.toString(), null, "model version exists");
        }
        Path tmp = Files.createTempDirectory(root, ".tmp-" + manifest.version() + "-");
        try {
            try {
                // createTempDirectory makes it owner-only; a version is read by other users (the job)
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system
            }
            try (OutputStream out = Files.newOutputStream(tmp.resolve(PARAMETERS))) {
                model.saveParameters(out);
            }
            catalogue.write(tmp.resolve(ITEMS));
            Map<String, String> files = new LinkedHashMap<>();
            for (String name : REQUIRED_FILES) {
                files.put(name, sha256(tmp.resolve(name)));
            }
            Files.write(tmp.resolve(MANIFEST), manifest.withFiles(files).toJson());
            for (String name : List.of(PARAMETERS, ITEMS, MANIFEST)) {
                try (FileChannel ch = FileChannel.open(tmp.resolve(name), StandardOpenOption.WRITE)) {
                    ch.force(true);
                }
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            return target;
        } finally {
            if (Files.exists(tmp)) {
                deleteRecursively(tmp);
            }
        }
    }

    /** Reads and verifies a version directory; see the class comment for what is refused. */
    public static ModelArtifacts load(Path versionDir) throws InvalidModelException {
        if (!Files.isDirectory(versionDir)) {
            throw new InvalidModelException("model version " + versionDir + " is not a directory");
        }
        ModelManifest manifest;
        try {
            manifest = ModelManifest.fromJson(Files.readAllBytes(versionDir.resolve(MANIFEST)));
        } catch (NoSuchFileException e) {
            throw new InvalidModelException(MANIFEST + " missing in " + versionDir);
        } catch (IOException e) {
            throw new InvalidModelException(
                    MANIFEST + " in " + versionDir + " does not parse: " + firstLine(e.getMessage()), e);
        }
        for (String name : REQUIRED_FILES) {
            if (!manifest.files().containsKey(name)) {
                throw new InvalidModelException("manifest of " + versionDir + " does not list " + name);
            }
        }
        byte[] items = null;
        for (Map.Entry<String, String> f : manifest.files().entrySet()) {
            String name = f.getKey();
            try {
                checkFileName(name, "file name");
            } catch (IllegalArgumentException e) {
                throw new InvalidModelException("manifest of " + versionDir + " lists " + e.getMessage());
            }
            Path file = versionDir.resolve(name);
            if (!Files.isRegularFile(file)) {
                throw new InvalidModelException(name + " missing in " + versionDir);
            }
            String actual;
            try {
                if (name.equals(ITEMS)) {
                    items = Files.readAllBytes(file);
                    actual = sha256(items);
                } else {
                    actual = sha256(file);
                }
            } catch (IOException e) {
                throw new InvalidModelException("cannot read " + name + " in " + versionDir + ": " + e, e);
            }
            if (!actual.equalsIgnoreCase(f.getValue())) {
                throw new InvalidModelException(
                        "sha256 mismatch for " + name + " in " + versionDir + ": manifest says "
                                + f.getValue() + ", file has " + actual);
            }
        }
        ItemCatalogue catalogue;
        try {
            catalogue = ItemCatalogue.read(new InputStreamReader(
                    new ByteArrayInputStream(items), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new InvalidModelException(ITEMS + " in " + versionDir + " is malformed: " + e.getMessage(), e);
        }
        return new ModelArtifacts(versionDir, manifest, catalogue);
    }

    /**
     * Loads the parameters into a new {@link TwoTowerModel} on {@code device}, checking again that
     * the bytes read are those the manifest names and that every shape fits the configuration.
     */
    public TwoTowerModel loadModel(Device device) throws InvalidModelException {
        MessageDigest digest = newSha256();
        TwoTowerModel model;
        try (InputStream in = new DigestInputStream(Files.newInputStream(parametersFile()), digest)) {
            model = TwoTowerModel.load(manifest.config(), in, device);
        } catch (IOException | MalformedModelException | RuntimeException e) {
            throw new InvalidModelException(
                    PARAMETERS + " in " + dir + " does not fit its manifest: " + e.getMessage(), e);
        }
        String actual = HexFormat.of().formatHex(digest.digest());
        if (!actual.equalsIgnoreCase(manifest.files().get(PARAMETERS))) {
            model.close();
            throw new InvalidModelException("sha256 mismatch for " + PARAMETERS + " in " + dir
                    + " (changed while loading)");
        }
        return model;
    }

    /** sha256 of a file, lower-case hex. */
    public static String sha256(Path file) throws IOException {
        MessageDigest d = newSha256();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                d.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(d.digest());
    }

    public static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(newSha256().digest(bytes));
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void checkFileName(String name, String what) {
        if (name == null
                || name.isEmpty()
                || name.equals(".")
                || name.equals("..")
                || name.startsWith(".")
                || name.contains("/")
                || name.contains("\\")
                || name.equals(MANIFEST)) {
            throw new IllegalArgumentException("unacceptable " + what + " '" + name + "'");
        }
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("");
    }

    /** Deletes a directory and everything in it (a temporary or scratch version). */
    public static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
