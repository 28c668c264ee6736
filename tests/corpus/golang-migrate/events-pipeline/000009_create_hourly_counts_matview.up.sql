CREATE MATERIALIZED VIEW events.hourly_event_counts AS
SELECT date_trunc('hour', e.received_at) AS bucket,
       e.source_id,
       e.event_type,
       count(*)                         AS event_count
  FROM events.raw_events AS e
 GROUP BY 1, 2, 3
WITH DATA;

-- REFRESH ... CONCURRENTLY needs a unique index without a WHERE clause.
CREATE UNIQUE INDEX hourly_event_counts_key
    ON events.hourly_event_counts (bucket, source_id, event_type);

-- Unlike CREATE INDEX CONCURRENTLY this is allowed inside a transaction, so it
-- can share a file with other statements.
REFRESH MATERIALIZED VIEW CONCURRENTLY events.hourly_event_counts;
