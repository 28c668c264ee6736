-- Parse a user-typed amount such as ' $1,234.50 '. Bad input yields the
-- default instead of an error.
CREATE FUNCTION ledger.try_parse_amount(p_text text, p_default numeric DEFAULT NULL)
RETURNS numeric
LANGUAGE plpgsql
IMMUTABLE
AS $$
DECLARE
    v_clean text;
BEGIN
    v_clean := replace(replace(btrim(p_text), ',', ''), '$', '');
    RETURN v_clean::numeric(14, 2);
EXCEPTION
    WHEN invalid_text_representation THEN
        RETURN p_default;
    WHEN numeric_value_out_of_range THEN
        RAISE NOTICE 'amount "%" out of range; using default %', p_text, p_default;
        RETURN p_default;
END;
$$;

CREATE FUNCTION ledger.assert_entry_balanced(p_entry_id bigint)
RETURNS void
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    v_debits  numeric;
    v_credits numeric;
BEGIN
    SELECT coalesce(sum(amount) FILTER (WHERE side = 'debit'), 0),
           coalesce(sum(amount) FILTER (WHERE side = 'credit'), 0)
      INTO v_debits, v_credits
      FROM ledger.entry_lines
     WHERE entry_id = p_entry_id;

    IF v_debits <> v_credits THEN
        RAISE EXCEPTION 'journal entry % is unbalanced: debits % <> credits %',
                        p_entry_id, v_debits, v_credits
              USING ERRCODE = 'check_violation',
                    HINT = 'post matching debit and credit lines; see ledger.post_transfer';
    END IF;
END;
$$;

-- Bulk import with a sub-block per row: a bad row is reported and skipped
-- instead of aborting the whole import.
CREATE FUNCTION ledger.import_accounts(p_rows jsonb)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    v_row      jsonb;
    v_imported integer := 0;
BEGIN
    IF jsonb_typeof(p_rows) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'expected a JSON array, got %', coalesce(jsonb_typeof(p_rows), 'NULL');
    END IF;

    FOR v_row IN SELECT value FROM jsonb_array_elements(p_rows) LOOP
        BEGIN
            INSERT INTO ledger.accounts (code, name, currency, owner_email)
            VALUES (v_row ->> 'code', v_row ->> 'name', v_row ->> 'currency', v_row ->> 'owner_email');
            v_imported := v_imported + 1;
        EXCEPTION
            WHEN unique_violation THEN
                RAISE NOTICE 'account % already exists; skipped', v_row ->> 'code';
            WHEN check_violation OR not_null_violation THEN
                RAISE NOTICE 'account % rejected: %', v_row ->> 'code', SQLERRM;
        END;
    END LOOP;

    RETURN v_imported;
END;
$$;
