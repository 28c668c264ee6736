DROP MATERIALIZED VIEW events.hourly_event_counts;
