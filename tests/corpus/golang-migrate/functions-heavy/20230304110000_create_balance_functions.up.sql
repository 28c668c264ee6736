-- SQL-standard function bodies (PostgreSQL 14+). The body is parsed when the
-- function is created, so its dependencies on ledger.entry_lines are
-- recorded, and it is not a string: the semicolons between BEGIN ATOMIC and
-- END belong to the CREATE FUNCTION.

CREATE FUNCTION ledger.account_balance(p_account_id bigint)
RETURNS numeric
LANGUAGE sql
STABLE
PARALLEL SAFE
BEGIN ATOMIC
    SELECT coalesce(sum(CASE l.side WHEN 'debit' THEN l.amount ELSE -l.amount END), 0)
      FROM ledger.entry_lines AS l
     WHERE l.account_id = p_account_id;
END;

-- A CASE ... END at the top level of an atomic body: its END is not the end
-- of the body.
CREATE FUNCTION ledger.balance_label(p_account_id bigint)
RETURNS text
LANGUAGE sql
STABLE
BEGIN ATOMIC
    SELECT CASE
               WHEN ledger.account_balance(p_account_id) > 0 THEN 'debit balance'
               WHEN ledger.account_balance(p_account_id) < 0 THEN 'credit balance'
               ELSE 'settled; nothing owed'
           END;
END;

CREATE FUNCTION ledger.trial_balance()
RETURNS TABLE (account_code text, currency ledger.currency_code, balance numeric)
LANGUAGE sql
STABLE
BEGIN ATOMIC
    SELECT a.code, a.currency, ledger.account_balance(a.id)
      FROM ledger.accounts AS a
     WHERE NOT a.is_closed
     ORDER BY a.code;
END;

-- Two statements in one atomic body; the last one's result is returned.
CREATE FUNCTION ledger.close_account(p_account_id bigint)
RETURNS bigint
LANGUAGE sql
BEGIN ATOMIC
    UPDATE ledger.accounts SET is_closed = true WHERE id = p_account_id;
    SELECT count(*) FROM ledger.accounts WHERE is_closed;
END;

-- The short SQL-standard form: RETURN expression, no BEGIN ATOMIC.
CREATE FUNCTION ledger.entry_is_balanced(p_entry_id bigint)
RETURNS boolean
LANGUAGE sql
STABLE
RETURN (SELECT coalesce(sum(amount) FILTER (WHERE side = 'debit'), 0)
             = coalesce(sum(amount) FILTER (WHERE side = 'credit'), 0)
          FROM ledger.entry_lines
         WHERE entry_id = p_entry_id);

COMMENT ON FUNCTION ledger.account_balance(bigint) IS
    'debits minus credits; positive means the account is in debit; closed accounts included';
COMMENT ON FUNCTION ledger.close_account(bigint) IS
    'marks the account closed; returns how many accounts are now closed; idempotent';
