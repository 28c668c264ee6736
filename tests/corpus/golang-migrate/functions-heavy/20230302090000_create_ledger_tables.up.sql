CREATE TABLE ledger.accounts (
    id          bigint               GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        text                 NOT NULL UNIQUE,
    name        text                 NOT NULL,
    currency    ledger.currency_code NOT NULL,
    owner_email ledger.email_address,
    is_closed   boolean              NOT NULL DEFAULT false,
    created_at  timestamptz          NOT NULL DEFAULT now()
);

CREATE TABLE ledger.journal_entries (
    id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    posted_at timestamptz NOT NULL DEFAULT now(),
    memo      text        NOT NULL DEFAULT ''
);

CREATE TABLE ledger.entry_lines (
    id         bigint                 GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entry_id   bigint                 NOT NULL REFERENCES ledger.journal_entries (id) ON DELETE CASCADE,
    account_id bigint                 NOT NULL REFERENCES ledger.accounts (id),
    side       ledger.entry_side      NOT NULL,
    amount     ledger.positive_amount NOT NULL
);

CREATE INDEX entry_lines_entry_id_idx ON ledger.entry_lines (entry_id);
CREATE INDEX entry_lines_account_id_idx ON ledger.entry_lines (account_id);

COMMENT ON TABLE ledger.entry_lines IS
    'one row per debit or credit; an entry balances when sum(debit) = sum(credit); checked at commit';

GRANT SELECT ON ledger.accounts, ledger.journal_entries, ledger.entry_lines
    TO corpus_functions_heavy_reader;
GRANT SELECT, INSERT, UPDATE ON ledger.accounts, ledger.journal_entries, ledger.entry_lines
    TO corpus_functions_heavy_writer;
