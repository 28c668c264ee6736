-- Read model for the admin dashboard: one row per live account.
CREATE VIEW account_billing_summary AS
SELECT a.id                         AS account_id,
       a.slug,
       a.name,
       p.code                       AS plan_code,
       p.tier::text                 AS plan_tier,
       s.status                     AS subscription_status,
       s.seats,
       s.current_period_end,
       coalesce(o.open_invoices, 0) AS open_invoices,
       coalesce(o.open_total_cents, 0) AS open_total_cents
  FROM accounts AS a
  LEFT JOIN subscriptions AS s
         ON s.account_id = a.id
        AND s.status IN ('trialing', 'active', 'past_due')
  LEFT JOIN plans AS p ON p.id = s.plan_id
  LEFT JOIN LATERAL (
        SELECT count(*)           AS open_invoices,
               sum(i.total_cents) AS open_total_cents
          FROM invoices AS i
         WHERE i.account_id = a.id
           AND i.status = 'open'
       ) AS o ON true
 WHERE a.deleted_at IS NULL;

COMMENT ON VIEW account_billing_summary IS
    'One row per live account: current plan; seats; open invoice count -- and the amount still owed';
