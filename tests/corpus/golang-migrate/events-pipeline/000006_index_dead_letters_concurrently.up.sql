-- Built CONCURRENTLY so ingest keeps writing while the index builds.
--
-- CREATE INDEX CONCURRENTLY cannot run inside a transaction block. golang-migrate
-- sends the whole file as one query string, and a string holding more than one
-- statement runs as one implicit transaction, so this must stay the only
-- statement in the file.
CREATE INDEX CONCURRENTLY IF NOT EXISTS dead_letters_source_failed_at_idx
    ON events.dead_letters (source_id, failed_at DESC);
