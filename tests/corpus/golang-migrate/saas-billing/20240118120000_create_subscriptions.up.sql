CREATE TABLE subscriptions (
    id                   bigint              GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id           bigint              NOT NULL REFERENCES accounts (id),
    plan_id              smallint            NOT NULL REFERENCES plans (id),
    status               subscription_status NOT NULL DEFAULT 'trialing',
    seats                integer             NOT NULL DEFAULT 1 CHECK (seats > 0),
    current_period_start timestamptz         NOT NULL,
    current_period_end   timestamptz         NOT NULL,
    trial_ends_at        timestamptz,
    canceled_at          timestamptz,
    created_at           timestamptz         NOT NULL DEFAULT now(),
    updated_at           timestamptz         NOT NULL DEFAULT now(),

    CONSTRAINT subscriptions_period_order
        CHECK (current_period_end > current_period_start),
    CONSTRAINT subscriptions_canceled_has_timestamp
        CHECK ((status = 'canceled') = (canceled_at IS NOT NULL)),
    CONSTRAINT subscriptions_trial_only_while_trialing
        CHECK (trial_ends_at IS NULL OR status IN ('trialing', 'active', 'canceled'))
);

-- An account may have many historical subscriptions but at most one that is
-- still live.
CREATE UNIQUE INDEX subscriptions_one_live_per_account
    ON subscriptions (account_id)
    WHERE status IN ('trialing', 'active', 'past_due');

CREATE INDEX subscriptions_plan_id_idx ON subscriptions (plan_id);

CREATE TRIGGER subscriptions_set_updated_at
    BEFORE UPDATE ON subscriptions
    FOR EACH ROW
    EXECUTE FUNCTION set_updated_at();
