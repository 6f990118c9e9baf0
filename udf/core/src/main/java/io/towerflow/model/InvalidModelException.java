package io.towerflow.model;

/**
 * A model version that must not be served: its manifest does not parse, a file is missing, a
 * checksum does not match, or the parameters do not fit the configuration. The message says which.
 */
public class InvalidModelException extends Exception {
    private static final long serialVersionUID = 1L;

    public InvalidModelException(String message) {
        super(message);
    }

    public InvalidModelException(String message, Throwable cause) {
        super(message, cause);
    }
}
