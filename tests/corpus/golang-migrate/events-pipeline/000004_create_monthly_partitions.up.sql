-- Pre-create the partitions for March through December 2024. The loop and
-- format() keep the ten statements consistent; %I quotes the table name and
-- %L the bound literals.
DO $do$
DECLARE
    month_start date;
    part_name   text;
BEGIN
    FOR i IN 0..9 LOOP
        month_start := date '2024-03-01' + make_interval(months => i);
        part_name   := format('raw_events_%s', to_char(month_start, 'YYYY_MM'));

        EXECUTE format(
            'CREATE TABLE IF NOT EXISTS events.%I PARTITION OF events.raw_events '
            'FOR VALUES FROM (%L) TO (%L)',
            part_name,
            month_start::timestamp AT TIME ZONE 'UTC',
            (month_start + interval '1 month')::timestamp AT TIME ZONE 'UTC'
        );
    END LOOP;
END
$do$;
