DROP FUNCTION events.payload_summary(jsonb);
DROP FUNCTION events.normalize_event_type(text);
