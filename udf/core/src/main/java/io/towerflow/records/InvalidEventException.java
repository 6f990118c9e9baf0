package io.towerflow.records;

/** A record that cannot become a {@link BehaviorEvent}; the message is the reason sent to the DLQ. */
public class InvalidEventException extends Exception {
    private static final long serialVersionUID = 1L;

    public InvalidEventException(String reason) {
        super(reason, null, false, false);
    }
}
