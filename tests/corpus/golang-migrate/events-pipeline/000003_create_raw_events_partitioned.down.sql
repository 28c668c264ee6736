-- Dropping the parent drops its partitions and partitioned indexes.
DROP TABLE events.raw_events;
