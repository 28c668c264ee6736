DROP TRIGGER accounts_set_updated_at ON accounts;
DROP INDEX accounts_slug_live_key;
DROP TABLE accounts;
