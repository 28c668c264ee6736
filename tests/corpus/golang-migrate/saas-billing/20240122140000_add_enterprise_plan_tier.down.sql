/*
 * PostgreSQL has no ALTER TYPE ... DROP VALUE, so the enum is rebuilt
 * without 'enterprise' and the one column using it is converted.
 *
 * /* If any row still used the label the cast below would fail, which is what
 *    we want: the seeded enterprise plan is removed by the down of the next
 *    migration, which runs before this one. */
 *
 * Nothing else may depend on plan_tier when this runs (no views, no
 * functions, no column defaults), otherwise add them here.
 */
ALTER TYPE plan_tier RENAME TO plan_tier_old;

CREATE TYPE plan_tier AS ENUM ('free', 'starter', 'pro');

ALTER TABLE plans
    ALTER COLUMN tier TYPE plan_tier USING tier::text::plan_tier;

DROP TYPE plan_tier_old;
