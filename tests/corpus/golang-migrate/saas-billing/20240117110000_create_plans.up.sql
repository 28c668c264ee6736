/* Plans are reference data: the application reads them at boot and the
   rows below are the catalogue we launched with. */
CREATE TABLE plans (
    id                  smallint  PRIMARY KEY,
    code                text      NOT NULL UNIQUE,
    tier                plan_tier NOT NULL,
    display_name        text      NOT NULL,
    monthly_price_cents integer   NOT NULL,
    -- annual billing gets two months free; stored so reports can sort on it
    yearly_price_cents  integer   GENERATED ALWAYS AS (monthly_price_cents * 10) STORED,
    seat_limit          integer,
    is_public           boolean   NOT NULL DEFAULT true,

    CONSTRAINT plans_price_non_negative CHECK (monthly_price_cents >= 0),
    CONSTRAINT plans_seat_limit_positive CHECK (seat_limit IS NULL OR seat_limit > 0)
);

INSERT INTO plans (id, code, tier, display_name, monthly_price_cents, seat_limit) VALUES
    (1, 'free',            'free',    'Free',          0,    3),
    (2, 'starter-monthly', 'starter', 'Starter',       1900, 10),
    (3, 'pro-monthly',     'pro',     'Pro',           4900, 50),
    (5, 'pro-legacy-2022', 'pro',     'Pro (2022)',    3900, 25);

-- The 2022 price point is grandfathered: existing customers only.
UPDATE plans SET is_public = false WHERE code = 'pro-legacy-2022';
