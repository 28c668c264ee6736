CREATE FUNCTION ledger.add_money(a ledger.money_amount, b ledger.money_amount)
RETURNS ledger.money_amount
LANGUAGE plpgsql
IMMUTABLE
STRICT
AS $$
DECLARE
    result ledger.money_amount;
BEGIN
    IF a.currency IS DISTINCT FROM b.currency THEN
        RAISE EXCEPTION 'cannot add % and %', a.currency, b.currency
              USING ERRCODE = 'data_exception';
    END IF;
    result.amount   := a.amount + b.amount;
    result.currency := a.currency;
    RETURN result;
END;
$$;

-- A schema-qualified operator: ROW(1.00, 'EUR')::ledger.money_amount
-- OPERATOR(ledger.+) ROW(2.50, 'EUR')::ledger.money_amount
CREATE OPERATOR ledger.+ (
    LEFTARG    = ledger.money_amount,
    RIGHTARG   = ledger.money_amount,
    FUNCTION   = ledger.add_money,
    COMMUTATOR = OPERATOR(ledger.+)
);

COMMENT ON OPERATOR ledger.+ (ledger.money_amount, ledger.money_amount) IS
    'same-currency addition; raises data_exception on mismatch; NULL in, NULL out';
