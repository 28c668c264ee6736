DROP VIEW events.ingest_lag;
ALTER TABLE events.raw_events DROP COLUMN ingested_at;
