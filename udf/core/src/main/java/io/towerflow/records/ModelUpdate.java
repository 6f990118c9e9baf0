package io.towerflow.records;

import java.util.Objects;

/**
 * A reference to a model version ({@code model-updates} topic), never model bytes: where the
 * version directory is and the sha256 of its manifest.json (which lists the sha256 of every other
 * file).
 */
public class ModelUpdate {
    public String version;
    public String uri;
    public String sha256;

    public ModelUpdate() {}

    public ModelUpdate(String version, String uri, String sha256) {
        this.version = version;
        this.uri = uri;
        this.sha256 = sha256;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelUpdate
                && Objects.equals(((ModelUpdate) o).version, version)
                && Objects.equals(((ModelUpdate) o).uri, uri)
                && Objects.equals(((ModelUpdate) o).sha256, sha256);
    }

    @Override
    public int hashCode() {
        return Objects.hash(version, uri, sha256);
    }

    @Override
    public String toString() {
        return "ModelUpdate{" + version + " " + uri + " sha256=" + sha256 + "}";
    }
}
