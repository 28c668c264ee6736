/*
 * Generic "touch" trigger used by every mutable billing table.
 *
 * The body is dollar-quoted, so the semicolons inside it do not end the
 * CREATE FUNCTION statement; only the one after the closing $$ does.
 */
CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    -- Only bump the timestamp when something actually changed; ORMs love to
    -- issue no-op UPDATEs.
    IF NEW IS DISTINCT FROM OLD THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION set_updated_at() IS 'BEFORE UPDATE trigger: sets updated_at = now() when the row changed';
