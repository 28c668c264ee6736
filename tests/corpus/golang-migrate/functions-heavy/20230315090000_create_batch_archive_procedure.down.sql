REVOKE EXECUTE ON PROCEDURE ledger.archive_entries_in_batches(timestamptz, integer)
    FROM corpus_functions_heavy_writer;
DROP PROCEDURE ledger.archive_entries_in_batches(timestamptz, integer);
