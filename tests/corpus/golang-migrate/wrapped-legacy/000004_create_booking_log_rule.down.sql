START TRANSACTION;

DROP RULE bookings_log_insert ON bookings;
DROP TABLE booking_notifications;
DROP TABLE booking_log;

COMMIT;
