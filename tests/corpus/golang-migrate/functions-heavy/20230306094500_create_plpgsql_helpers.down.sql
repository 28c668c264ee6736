DROP FUNCTION ledger.import_accounts(jsonb);
DROP FUNCTION ledger.assert_entry_balanced(bigint);
DROP FUNCTION ledger.try_parse_amount(text, numeric);
