-- Same rule as the up: DROP INDEX CONCURRENTLY must be alone in its file.
DROP INDEX CONCURRENTLY IF EXISTS events.dead_letters_source_failed_at_idx;
