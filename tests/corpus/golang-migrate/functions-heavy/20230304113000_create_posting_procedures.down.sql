DROP PROCEDURE ledger.archive_entries(timestamptz);
DROP PROCEDURE ledger.post_transfer(bigint, bigint, numeric, text);
DROP TABLE ledger.journal_entries_archive;
