DROP FUNCTION events.ingest_line(integer, text);
