-- Enumerated types shared by the billing domain.
-- They live in their own migration so that later files can extend them with
-- ALTER TYPE ... ADD VALUE without touching any table definition.

CREATE TYPE plan_tier AS ENUM ('free', 'starter', 'pro');

CREATE TYPE subscription_status AS ENUM (
    'trialing',
    'active',
    'past_due',
    'canceled'
);

CREATE TYPE invoice_status AS ENUM ('draft', 'open', 'paid', 'uncollectible', 'void');
