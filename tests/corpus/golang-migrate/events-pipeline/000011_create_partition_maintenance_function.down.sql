DROP FUNCTION events.ensure_month_partition(date);
