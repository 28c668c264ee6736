-- Uses the label added by the previous migration (it is committed by now).
INSERT INTO plans (id, code, tier, display_name, monthly_price_cents, seat_limit, is_public)
VALUES (4, 'enterprise-annual', 'enterprise', 'Enterprise', 49900, NULL, false);
