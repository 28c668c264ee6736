-- schemagate:no-transaction
DROP INDEX CONCURRENTLY accounts_email_key;
