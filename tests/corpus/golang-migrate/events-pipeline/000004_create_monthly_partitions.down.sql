DO $do$
DECLARE
    month_start date;
BEGIN
    FOR i IN REVERSE 9..0 LOOP
        month_start := date '2024-03-01' + make_interval(months => i);
        EXECUTE format('DROP TABLE IF EXISTS events.%I',
                       format('raw_events_%s', to_char(month_start, 'YYYY_MM')));
    END LOOP;
END
$do$;
