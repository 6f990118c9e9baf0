package io.towerflow.records;

import java.util.Objects;

/** An upsert of the {@code item-catalog} topic (key itemId, compacted). */
public class CatalogueItem {
    public String itemId;
    public String categoryId;
    public boolean available = true;
    /** Optional: the item's title, which a model with text reads (see {@code TextConfig}). */
    public String title;

    public CatalogueItem() {}

    public CatalogueItem(String itemId, String categoryId, boolean available, String title) {
        this(itemId, categoryId, available);
        this.title = title;
    }

    public CatalogueItem(String itemId, String categoryId, boolean available) {
        this.itemId = itemId;
        this.categoryId = categoryId;
        this.available = available;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CatalogueItem
                && Objects.equals(((CatalogueItem) o).itemId, itemId)
                && Objects.equals(((CatalogueItem) o).categoryId, categoryId)
                && ((CatalogueItem) o).available == available
                && Objects.equals(((CatalogueItem) o).title, title);
    }

    @Override
    public int hashCode() {
        return Objects.hash(itemId, categoryId, available);
    }

    @Override
    public String toString() {
        return "CatalogueItem{" + itemId + " cat=" + categoryId + (available ? "" : " unavailable")
                + (title == null ? "" : " title=" + title) + "}";
    }
}
