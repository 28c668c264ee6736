BEGIN;

DROP INDEX customers_email_normalized_key;
ALTER TABLE customers DROP COLUMN email_normalized;
ALTER TABLE bookings DROP COLUMN duration_minutes;
ALTER TABLE rooms DROP COLUMN is_large;

COMMIT;
