package io.towerflow.records;

/**
 * What the recommend operator receives on its broadcast input: a model version to serve, or a
 * catalogue change. Exactly one of the two fields is set.
 */
public class ControlMessage {
    public ModelUpdate model;
    public CatalogueItem item;

    public ControlMessage() {}

    public static ControlMessage of(ModelUpdate model) {
        ControlMessage m = new ControlMessage();
        m.model = model;
        return m;
    }

    public static ControlMessage of(CatalogueItem item) {
        ControlMessage m = new ControlMessage();
        m.item = item;
        return m;
    }

    @Override
    public String toString() {
        return "ControlMessage{" + (model != null ? model : item) + "}";
    }
}
