CREATE FUNCTION events.ingest_line(p_source_id integer, p_line text)
RETURNS uuid
LANGUAGE plpgsql
AS $fn$
DECLARE
    doc    jsonb;
    new_id uuid;
BEGIN
    BEGIN
        doc := p_line::jsonb;
    EXCEPTION
        WHEN invalid_text_representation THEN
            INSERT INTO events.dead_letters (source_id, error_message, raw_line)
            VALUES (p_source_id, E'unparseable line:\n\t' || SQLERRM, p_line);
            RETURN NULL;
    END;

    IF jsonb_typeof(doc) <> 'object' THEN
        INSERT INTO events.dead_letters (source_id, error_message, raw_line)
        VALUES (p_source_id, E'expected a JSON object, got \'' || jsonb_typeof(doc) || E'\'', p_line);
        RETURN NULL;
    END IF;

    INSERT INTO events.raw_events (source_id, received_at, event_type, payload)
    VALUES (p_source_id,
            coalesce((doc ->> 'ts')::timestamptz, now()),
            events.normalize_event_type(doc ->> 'type'),
            doc - 'ts')
    RETURNING event_id INTO new_id;

    RETURN new_id;
END
$fn$;
