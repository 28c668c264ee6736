-- Everything the ingest pipeline owns lives in its own schema so the workers
-- can run with search_path = events and dashboards can be granted the whole
-- schema at once.
CREATE SCHEMA IF NOT EXISTS events;

COMMENT ON SCHEMA events IS 'Raw event ingest: sources; monthly partitions; rollups';
