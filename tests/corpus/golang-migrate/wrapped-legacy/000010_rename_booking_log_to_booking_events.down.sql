START TRANSACTION;

ALTER INDEX booking_events_pkey RENAME TO booking_log_pkey;
ALTER SEQUENCE booking_events_id_seq RENAME TO booking_log_id_seq;
ALTER TABLE booking_events RENAME TO booking_log;

COMMIT;
