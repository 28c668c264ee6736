-- An account is the billable tenant. Users, subscriptions and invoices all
-- hang off it.
CREATE TABLE accounts (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug          text        NOT NULL,
    name          text        NOT NULL,
    billing_email text        NOT NULL,
    country_code  char(2)     NOT NULL DEFAULT 'US',
    tax_rate_bps  integer     NOT NULL DEFAULT 0,  -- basis points: 825 = 8.25%
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz,

    CONSTRAINT accounts_slug_format CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    CONSTRAINT accounts_country_code_upper CHECK (country_code = upper(country_code)),
    CONSTRAINT accounts_tax_rate_range CHECK (tax_rate_bps BETWEEN 0 AND 10000)
);

-- Slugs can be reused once the account that held them is soft-deleted, so
-- the uniqueness only applies to live rows: a partial unique index.
CREATE UNIQUE INDEX accounts_slug_live_key ON accounts (slug) WHERE deleted_at IS NULL;

CREATE TRIGGER accounts_set_updated_at
    BEFORE UPDATE ON accounts
    FOR EACH ROW
    EXECUTE FUNCTION set_updated_at();
