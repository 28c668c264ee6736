CREATE INDEX CONCURRENTLY i ON t (id);
-- trailing comment
