package io.towerflow.operators;

import io.towerflow.model.ModelArtifacts;
import io.towerflow.model.RefusedModelException.Reason;
import io.towerflow.model.RefusedModelException;
import io.towerflow.records.ModelUpdate;

import java.io.IOException;
import java.io.Serializable;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Where model versions may come from: the version a {@code model-updates} message names must lie
 * under one of the allowed roots once every symbolic link is followed, its manifest must be
 * there with the sha256 the message carries, and, when a signing secret is set, the manifest
 * must carry a valid HMAC-SHA256 signature ({@value #SIGNATURE_FILE}). Every refusal is a
 * {@link RefusedModelException} with its {@link Reason}.
 */
public final class ModelStore implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Beside manifest.json: the lower-case hex HMAC-SHA256 of manifest.json's bytes. */
    public static final String SIGNATURE_FILE = "manifest.json.hmac-sha256";

    private final List<String> roots;
    private final String signingSecret;

    /**
     * @param roots allowed directories (need not exist yet); a relative uri resolves against the first
     * @param signingSecret HMAC key, or null for no signature check
     */
    public ModelStore(List<String> roots, String signingSecret) {
        if (roots.isEmpty()) {
            throw new IllegalArgumentException("at least one allowed model root is needed");
        }
        this.roots = List.copyOf(roots);
        this.signingSecret = signingSecret;
    }

    public List<String> roots() {
        return roots;
    }

    /** The version directory of {@code update}, checked; see the class comment. */
    public Path verify(ModelUpdate update) throws RefusedModelException {
        Path dir = confine(update.uri);
        Path manifest = dir.resolve(ModelArtifacts.MANIFEST);
        if (!Files.isRegularFile(manifest)) {
            throw new RefusedModelException(Reason.MISSING_MANIFEST, "no manifest.json in " + dir);
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(manifest);
        } catch (IOException e) {
            throw new RefusedModelException(Reason.UNREACHABLE, "cannot read " + manifest + ": " + e.getMessage(), e);
        }
        String sha = HexFormat.of().formatHex(sha256(bytes));
        if (!sha.equalsIgnoreCase(String.valueOf(update.sha256))) {
            throw new RefusedModelException(Reason.CHECKSUM,
                    "manifest sha256 " + sha + " does not match the update's " + update.sha256);
        }
        if (signingSecret != null) {
            checkSignature(dir, bytes);
        }
        return dir;
    }

    /**
     * Resolves {@code uri} (a path or a {@code file:} uri) to a real directory inside a root; every
     * file in it must resolve inside a root too (no link out of the store).
     */
    Path confine(String uri) throws RefusedModelException {
        Path path = parse(uri);
        for (Path part : path) {
            if (part.toString().equals("..")) {
                throw new RefusedModelException(Reason.BAD_URI, "'..' in model uri " + uri);
            }
        }
        List<Path> realRoots = realRoots();
        Path candidate = path.isAbsolute() ? path : Paths.get(roots.get(0)).toAbsolutePath().resolve(path);
        Path real;
        try {
            real = candidate.toRealPath();
        } catch (IOException e) {
            throw new RefusedModelException(Reason.UNREACHABLE, "model uri " + uri + " is unreachable: " + e);
        }
        if (!Files.isDirectory(real)) {
            throw new RefusedModelException(Reason.UNREACHABLE, "model uri " + uri + " is not a directory");
        }
        requireInside(real, realRoots, uri);
        try (Stream<Path> files = Files.walk(real)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                requireInside(f.toRealPath(), realRoots, uri + " (" + real.relativize(f) + ")");
            }
        } catch (IOException e) {
            throw new RefusedModelException(Reason.UNREACHABLE, "cannot list " + real + ": " + e);
        }
        return real;
    }

    private static Path parse(String uri) throws RefusedModelException {
        if (uri == null || uri.isBlank()) {
            throw new RefusedModelException(Reason.BAD_URI, "no model uri");
        }
        try {
            int colon = uri.indexOf(':');
            boolean hasScheme = colon > 1 && uri.substring(0, colon).matches("[A-Za-z][A-Za-z0-9+.-]*");
            if (!hasScheme) {
                return Paths.get(uri);
            }
            URI u = URI.create(uri);
            if (!"file".equalsIgnoreCase(u.getScheme())) {
                throw new RefusedModelException(Reason.BAD_URI,
                        "scheme " + u.getScheme() + ": of " + uri + " is not allowed (file: paths only)");
            }
            if (u.getAuthority() != null || u.getRawPath() == null) {
                throw new RefusedModelException(Reason.BAD_URI, "file uri " + uri + " names a host or no path");
            }
            if (u.getRawPath().contains("/../") || u.getRawPath().endsWith("/..")) {
                throw new RefusedModelException(Reason.BAD_URI, "'..' in model uri " + uri);
            }
            return Paths.get(u);
        } catch (IllegalArgumentException e) { // also InvalidPathException
            throw new RefusedModelException(Reason.BAD_URI, "bad model uri " + uri + ": " + e.getMessage());
        }
    }

    private List<Path> realRoots() {
        List<Path> out = new ArrayList<>();
        for (String r : roots) {
            try {
                out.add(Paths.get(r).toRealPath());
            } catch (IOException | InvalidPathException e) {
                // a root that does not exist (yet) holds nothing
            }
        }
        return out;
    }

    private void requireInside(Path real, List<Path> realRoots, String what) throws RefusedModelException {
        for (Path root : realRoots) {
            if (real.startsWith(root) && !real.equals(root)) {
                return;
            }
        }
        throw new RefusedModelException(Reason.OUTSIDE_ROOTS,
                "model uri " + what + " resolves to " + real + ", outside the allowed roots " + roots);
    }

    private void checkSignature(Path dir, byte[] manifest) throws RefusedModelException {
        Path sigFile = dir.resolve(SIGNATURE_FILE);
        String given;
        try {
            given = Files.readString(sigFile, StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            throw new RefusedModelException(Reason.SIGNATURE, "no " + SIGNATURE_FILE + " in " + dir);
        }
        byte[] expected = hmac(signingSecret, manifest);
        byte[] actual;
        try {
            actual = HexFormat.of().parseHex(given);
        } catch (IllegalArgumentException e) {
            throw new RefusedModelException(Reason.SIGNATURE, SIGNATURE_FILE + " in " + dir + " is not hex");
        }
        if (!MessageDigest.isEqual(expected, actual)) {
            throw new RefusedModelException(Reason.SIGNATURE, "manifest signature of " + dir + " does not verify");
        }
    }

    /** Writes {@value #SIGNATURE_FILE} for the manifest in {@code dir} under {@code secret}. */
    public static void sign(Path dir, String secret) throws IOException {
        byte[] manifest = Files.readAllBytes(dir.resolve(ModelArtifacts.MANIFEST));
        Files.writeString(dir.resolve(SIGNATURE_FILE), HexFormat.of().formatHex(hmac(secret, manifest)) + "\n",
                StandardCharsets.US_ASCII);
    }

    /** As {@link #sign}, when {@code secret} is not null (a publisher with an optional key). */
    public static void signIfSet(Path dir, String secret) throws IOException {
        if (secret != null) {
            sign(dir, secret);
        }
    }

    private static byte[] hmac(String secret, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
