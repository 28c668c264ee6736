-- Human-facing invoice numbers come from their own sequence so that they are
-- gap-tolerant but monotonic, independent of the surrogate key.
CREATE SEQUENCE invoice_number_seq START WITH 1000;

CREATE TABLE invoices (
    id              bigint         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id      bigint         NOT NULL REFERENCES accounts (id),
    subscription_id bigint         REFERENCES subscriptions (id),
    number          text           NOT NULL
                                   DEFAULT ('INV-' || lpad(nextval('invoice_number_seq')::text, 7, '0')),
    status          invoice_status NOT NULL DEFAULT 'draft',
    currency        char(3)        NOT NULL DEFAULT 'USD',
    subtotal_cents  bigint         NOT NULL DEFAULT 0,
    tax_cents       bigint         NOT NULL DEFAULT 0,
    total_cents     bigint         GENERATED ALWAYS AS (subtotal_cents + tax_cents) STORED,
    issued_at       timestamptz,
    due_at          timestamptz,
    paid_at         timestamptz,
    created_at      timestamptz    NOT NULL DEFAULT now(),
    updated_at      timestamptz    NOT NULL DEFAULT now(),

    CONSTRAINT invoices_number_key UNIQUE (number),
    CONSTRAINT invoices_currency_iso CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT invoices_amounts_non_negative CHECK (subtotal_cents >= 0 AND tax_cents >= 0),
    CONSTRAINT invoices_paid_has_timestamp CHECK (status <> 'paid' OR paid_at IS NOT NULL),
    CONSTRAINT invoices_due_after_issue
        CHECK (due_at IS NULL OR issued_at IS NULL OR due_at >= issued_at)
);

ALTER SEQUENCE invoice_number_seq OWNED BY invoices.number;

-- Dunning job scans open invoices by due date only.
CREATE INDEX invoices_open_due_at_idx ON invoices (due_at) WHERE status = 'open';
CREATE INDEX invoices_account_id_idx ON invoices (account_id);

CREATE TRIGGER invoices_set_updated_at
    BEFORE UPDATE ON invoices
    FOR EACH ROW
    EXECUTE FUNCTION set_updated_at();
