-- Helpers used by the ingest path. Bodies use the $fn$ tag so that a plain
-- $$ ... $$ string can appear inside them. (Out here, in a comment outside
-- any string, dollar signs mean nothing.)

CREATE OR REPLACE FUNCTION events.normalize_event_type(raw text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
AS $fn$
DECLARE
    cleaned text;
BEGIN
    -- trim blanks, tabs and line breaks, squeeze inner whitespace to '_'
    cleaned := lower(regexp_replace(btrim(coalesce(raw, ''), E' \t\r\n'), E'\\s+', '_', 'g'));
    IF cleaned = '' THEN
        RETURN 'unknown';
    END IF;
    RETURN cleaned;
END
$fn$;

CREATE OR REPLACE FUNCTION events.payload_summary(p jsonb)
RETURNS text
LANGUAGE plpgsql
STABLE
AS $fn$
DECLARE
    summary text;
BEGIN
    -- The dynamic query is itself dollar-quoted with the bare (empty) tag;
    -- that is fine because the outer body uses the tag fn, and a dollar quote
    -- only ends at its own tag. (Writing that tag here, even in a comment,
    -- would end the body: the comment is inside the string.)
    EXECUTE $$SELECT string_agg(key || '=' || left(value::text, 32), '; ' ORDER BY key)
                FROM jsonb_each($1)$$
       INTO summary
      USING p;
    RETURN coalesce(summary, '');
END
$fn$;

COMMENT ON FUNCTION events.payload_summary(jsonb) IS
    'k=v; k2=v2 -- top-level keys only, values cut to 32 chars';
