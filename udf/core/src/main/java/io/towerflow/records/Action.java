package io.towerflow.records;

import java.util.Locale;

/** What a user did with an item. The weight says how strongly the act speaks of intent. */
public enum Action {
    VIEW(1.0f),
    CLICK(1.5f),
    SEARCH(1.5f),
    FAV(3.0f),
    CART(4.0f),
    PURCHASE(5.0f);

    private static final Action[] VALUES = values();

    private final float weight;

    Action(float weight) {
        this.weight = weight;
    }

    /** Relative weight of this act when pooling a user's history. */
    public float weight() {
        return weight;
    }

    /** Lower-case wire name, as in the JSON contract. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The action of a wire name (view|click|cart|fav|purchase|search), or null when unknown. */
    public static Action fromWire(String name) {
        if (name == null) {
            return null;
        }
        switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "view":
                return VIEW;
            case "click":
                return CLICK;
            case "cart":
                return CART;
            case "fav":
                return FAV;
            case "purchase":
                return PURCHASE;
            case "search":
                return SEARCH;
            default:
                return null;
        }
    }

    /** The action of a Taobao UserBehavior code (pv|buy|cart|fav), or null when unknown. */
    public static Action fromTaobao(String code) {
        switch (code) {
            case "pv":
                return VIEW;
            case "buy":
                return PURCHASE;
            case "cart":
                return CART;
            case "fav":
                return FAV;
            default:
                return null;
        }
    }

    /** Compact code used in state (the ordinal). */
    public byte code() {
        return (byte) ordinal();
    }

    public static Action ofCode(byte code) {
        return VALUES[code];
    }
}
