START TRANSACTION;

-- The rule refers to the table by OID, so it follows the rename.
ALTER TABLE booking_log RENAME TO booking_events;
ALTER SEQUENCE booking_log_id_seq RENAME TO booking_events_id_seq;
ALTER INDEX booking_log_pkey RENAME TO booking_events_pkey;

COMMIT;
