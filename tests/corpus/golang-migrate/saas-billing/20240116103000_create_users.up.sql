CREATE TABLE users (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id    bigint      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email         text        NOT NULL,
    full_name     text,
    role          text        NOT NULL DEFAULT 'member',
    last_login_at timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz,

    CONSTRAINT users_role_known CHECK (role IN ('owner', 'admin', 'member', 'billing')),
    CONSTRAINT users_email_shape CHECK (position('@' IN email) > 1)
);

-- One live user per e-mail address per account, case-insensitively.
-- A deleted user's address can be invited again.
CREATE UNIQUE INDEX users_account_email_live_key
    ON users (account_id, lower(email))
    WHERE deleted_at IS NULL;

CREATE INDEX users_account_id_idx ON users (account_id);

CREATE TRIGGER users_set_updated_at
    BEFORE UPDATE ON users
    FOR EACH ROW
    EXECUTE FUNCTION set_updated_at();
