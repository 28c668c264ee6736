CREATE VIEW ledger.account_statement AS
SELECT a.code                  AS account_code,
       e.posted_at,
       e.memo,
       l.side,
       ROW(l.amount, a.currency)::ledger.money_amount AS amount,
       sum(CASE l.side WHEN 'debit' THEN l.amount ELSE -l.amount END)
           OVER (PARTITION BY a.id ORDER BY e.posted_at, l.id) AS running_balance
  FROM ledger.entry_lines AS l
  JOIN ledger.journal_entries AS e ON e.id = l.entry_id
  JOIN ledger.accounts AS a ON a.id = l.account_id;

ALTER VIEW ledger.account_statement SET (security_barrier = true);

COMMENT ON VIEW ledger.account_statement IS
    'one row per entry line; running_balance is per account; ordered by posted_at; then line id';
COMMENT ON COLUMN ledger.account_statement.amount IS 'line amount as (amount, currency); see ledger.money_amount';

GRANT SELECT ON ledger.account_statement TO corpus_functions_heavy_reader;
