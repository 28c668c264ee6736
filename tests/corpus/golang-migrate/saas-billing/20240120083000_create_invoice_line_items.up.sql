CREATE TABLE invoice_line_items (
    id                bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invoice_id        bigint      NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
    description       text        NOT NULL,
    quantity          integer     NOT NULL DEFAULT 1,
    unit_amount_cents bigint      NOT NULL,
    amount_cents      bigint      GENERATED ALWAYS AS (quantity * unit_amount_cents) STORED,
    period_start      timestamptz,
    period_end        timestamptz,

    CONSTRAINT invoice_line_items_quantity_positive CHECK (quantity > 0),
    CONSTRAINT invoice_line_items_period_order
        CHECK (period_start IS NULL OR period_end IS NULL OR period_end > period_start),
    CONSTRAINT invoice_line_items_description_not_blank CHECK (btrim(description) <> '')
);

CREATE INDEX invoice_line_items_invoice_id_idx ON invoice_line_items (invoice_id);
