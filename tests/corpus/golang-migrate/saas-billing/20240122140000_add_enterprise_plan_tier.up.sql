-- ALTER TYPE ... ADD VALUE gets a file of its own: a newly added enum label
-- cannot be used in the transaction that added it, and golang-migrate runs
-- a whole file as one implicit transaction. The plan row that uses the new
-- label is seeded by the next migration.
ALTER TYPE plan_tier ADD VALUE IF NOT EXISTS 'enterprise' AFTER 'pro';
