BEGIN;

-- Add derived columns nullable, backfill them, then tighten.
ALTER TABLE rooms ADD COLUMN is_large boolean;
UPDATE rooms SET is_large = (capacity >= 10) WHERE is_large IS NULL;
ALTER TABLE rooms ALTER COLUMN is_large SET DEFAULT false;
ALTER TABLE rooms ALTER COLUMN is_large SET NOT NULL;

ALTER TABLE bookings ADD COLUMN duration_minutes integer;
UPDATE bookings
   SET duration_minutes = (extract(epoch FROM ("end" - begin)) / 60)::integer
 WHERE duration_minutes IS NULL;

ALTER TABLE customers ADD COLUMN email_normalized varchar(320);
UPDATE customers SET email_normalized = lower(btrim(email));
CREATE UNIQUE INDEX customers_email_normalized_key ON customers (email_normalized);

COMMIT;
