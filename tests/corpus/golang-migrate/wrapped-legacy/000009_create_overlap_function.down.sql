BEGIN;
DROP VIEW booking_conflicts;
DROP FUNCTION overlapping_bookings(integer, timestamp, timestamp);
COMMIT;
