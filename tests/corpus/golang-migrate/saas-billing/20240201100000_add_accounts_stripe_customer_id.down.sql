DROP INDEX accounts_stripe_customer_id_key;
ALTER TABLE accounts DROP CONSTRAINT accounts_stripe_customer_id_shape;
ALTER TABLE accounts DROP COLUMN stripe_customer_id;
