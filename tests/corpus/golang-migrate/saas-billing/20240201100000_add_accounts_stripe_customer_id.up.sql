ALTER TABLE accounts ADD COLUMN stripe_customer_id text;

-- Stripe ids look like cus_XXXX; "\_" escapes the LIKE wildcard (backslash is
-- LIKE's default escape character, and standard_conforming_strings keeps it).
ALTER TABLE accounts
    ADD CONSTRAINT accounts_stripe_customer_id_shape
    CHECK (stripe_customer_id IS NULL OR stripe_customer_id LIKE 'cus\_%');

CREATE UNIQUE INDEX accounts_stripe_customer_id_key
    ON accounts (stripe_customer_id)
    WHERE stripe_customer_id IS NOT NULL;
