-- schemagate:no-transaction
-- CREATE INDEX CONCURRENTLY cannot run inside a transaction block.
CREATE UNIQUE INDEX CONCURRENTLY accounts_email_key ON accounts (email);
