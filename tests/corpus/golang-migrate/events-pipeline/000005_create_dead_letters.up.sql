-- Lines that could not be parsed are parked here for inspection and replay.
CREATE TABLE events.dead_letters (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id     integer     REFERENCES events.sources (id) ON DELETE SET NULL,
    failed_at     timestamptz NOT NULL DEFAULT now(),
    error_message text        NOT NULL,
    raw_line      text        NOT NULL,
    retry_count   smallint    NOT NULL DEFAULT 0 CHECK (retry_count >= 0)
);

COMMENT ON COLUMN events.dead_letters.raw_line IS
    'the line exactly as received; may contain ; or -- or quotes';
