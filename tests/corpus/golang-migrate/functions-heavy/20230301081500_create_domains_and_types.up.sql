CREATE DOMAIN ledger.currency_code AS char(3)
    CONSTRAINT currency_code_iso CHECK (VALUE ~ '^[A-Z]{3}$');

CREATE DOMAIN ledger.positive_amount AS numeric(14, 2)
    CONSTRAINT positive_amount_gt_zero CHECK (VALUE > 0);

-- Standard string: the \s below is two characters, a backslash and an s,
-- which is what the regex engine wants.
CREATE DOMAIN ledger.email_address AS text
    CONSTRAINT email_address_shape CHECK (VALUE ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$');

CREATE TYPE ledger.money_amount AS (
    amount   numeric(14, 2),
    currency ledger.currency_code
);

CREATE TYPE ledger.entry_side AS ENUM ('debit', 'credit');

COMMENT ON DOMAIN ledger.currency_code IS 'ISO 4217 alphabetic code; upper case; exactly three letters';
COMMENT ON TYPE ledger.money_amount IS 'amount plus currency; never sum across currencies -- use ledger.add_money()';
