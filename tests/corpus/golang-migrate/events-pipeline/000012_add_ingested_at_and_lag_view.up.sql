-- Added on the partitioned parent; every partition gets the column.
-- Existing rows get now() at migration time (evaluated once).
ALTER TABLE events.raw_events
    ADD COLUMN ingested_at timestamptz NOT NULL DEFAULT now();

CREATE VIEW events.ingest_lag AS
SELECT s.name                                  AS source_name,
       e.event_type,
       max(e.ingested_at - e.received_at)      AS max_lag,
       avg(e.ingested_at - e.received_at)      AS avg_lag,
       count(*)                                AS events_last_hour
  FROM events.raw_events AS e
  JOIN events.sources AS s ON s.id = e.source_id
 WHERE e.ingested_at > now() - interval '1 hour'
 GROUP BY s.name, e.event_type;
