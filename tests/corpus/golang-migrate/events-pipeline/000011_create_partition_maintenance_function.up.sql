-- Called by the nightly job: make sure next month's partition exists before
-- the default partition starts filling up.
CREATE FUNCTION events.ensure_month_partition(p_month date)
RETURNS text
LANGUAGE plpgsql
AS $fn$
DECLARE
    month_start timestamp := date_trunc('month', p_month::timestamp);
    part_name   text      := format('raw_events_%s', to_char(p_month, 'YYYY_MM'));
BEGIN
    IF to_regclass(format('events.%I', part_name)) IS NULL THEN
        EXECUTE format(
            'CREATE TABLE events.%I PARTITION OF events.raw_events FOR VALUES FROM (%L) TO (%L)',
            part_name,
            month_start AT TIME ZONE 'UTC',
            (month_start + interval '1 month') AT TIME ZONE 'UTC');
        RAISE NOTICE 'created partition events.%', part_name;
    END IF;
    RETURN part_name;
END
$fn$;

COMMENT ON FUNCTION events.ensure_month_partition(date) IS
    'idempotent; returns the partition name; e.g. SELECT events.ensure_month_partition(date ''2025-01-01'')';
