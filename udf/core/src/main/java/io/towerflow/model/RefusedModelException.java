package io.towerflow.model;

import java.util.Locale;

/** An {@link InvalidModelException} with the kind of reason, for a metric per reason. */
public class RefusedModelException extends InvalidModelException {
    private static final long serialVersionUID = 1L;

    /** Why a version is not served. */
    public enum Reason {
        /** The uri (after following links) is outside towerflow.model.allowed-roots. */
        OUTSIDE_ROOTS,
        /** Not a file path or file: uri, or a path with '..'. */
        BAD_URI,
        /** The directory does not exist or cannot be read. */
        UNREACHABLE,
        MISSING_MANIFEST,
        /** The manifest's sha256 differs from the update's, or a file's from the manifest's. */
        CHECKSUM,
        /** A signing secret is set and the manifest's signature is absent or wrong. */
        SIGNATURE,
        /** Parameters that do not load: corrupt, wrong dimensions, non-finite values. */
        INVALID,
        VERSION_MISMATCH,
        /** The smoke inference failed or gave an incomplete or non-finite list. */
        SMOKE_TEST;

        /** The metric label: lower case with hyphens, e.g. {@code outside-roots}. */
        public String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    private final Reason reason;

    public RefusedModelException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public RefusedModelException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }

    /** The reason of any refusal: that of a {@code RefusedModelException}, else checksum or invalid. */
    public static Reason reasonOf(InvalidModelException e) {
        if (e instanceof RefusedModelException) {
            return ((RefusedModelException) e).reason();
        }
        String m = String.valueOf(e.getMessage());
        return m.contains("sha256 mismatch") ? Reason.CHECKSUM : Reason.INVALID;
    }
}
