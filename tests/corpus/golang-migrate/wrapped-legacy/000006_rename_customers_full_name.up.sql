BEGIN;

-- The views keep working: they reference the column by number, and their own
-- output column (customer_name) is unchanged.
ALTER TABLE customers RENAME COLUMN full_name TO display_name;

COMMIT;
