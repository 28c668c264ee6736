BEGIN;
ALTER TABLE service_settings ADD COLUMN updated_by text;
UPDATE service_settings SET updated_by = 'migration' WHERE updated_by IS NULL;
COMMIT;
