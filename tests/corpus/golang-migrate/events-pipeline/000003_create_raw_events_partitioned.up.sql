-- Raw events are range-partitioned by month on received_at. The primary key
-- has to include the partition key.
CREATE TABLE events.raw_events (
    event_id    uuid        NOT NULL DEFAULT gen_random_uuid(),
    source_id   integer     NOT NULL REFERENCES events.sources (id),
    received_at timestamptz NOT NULL,
    event_type  text        NOT NULL,
    payload     jsonb       NOT NULL DEFAULT '{}'::jsonb,

    PRIMARY KEY (event_id, received_at)
) PARTITION BY RANGE (received_at);

CREATE TABLE events.raw_events_2024_01 PARTITION OF events.raw_events
    FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2024-02-01 00:00:00+00');

CREATE TABLE events.raw_events_2024_02 PARTITION OF events.raw_events
    FOR VALUES FROM ('2024-02-01 00:00:00+00') TO ('2024-03-01 00:00:00+00');

-- Late or far-future events land here instead of failing the insert.
CREATE TABLE events.raw_events_default PARTITION OF events.raw_events DEFAULT;

-- Created on the parent, so every partition (present and future) gets one.
CREATE INDEX raw_events_type_received_at_idx ON events.raw_events (event_type, received_at);
CREATE INDEX raw_events_payload_gin_idx ON events.raw_events USING gin (payload jsonb_path_ops);
