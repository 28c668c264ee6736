BEGIN;
ALTER TABLE service_settings DROP COLUMN updated_by;
COMMIT;
