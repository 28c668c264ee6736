DROP FUNCTION ledger.entry_is_balanced(bigint);
DROP FUNCTION ledger.close_account(bigint);
DROP FUNCTION ledger.trial_balance();
DROP FUNCTION ledger.balance_label(bigint);
DROP FUNCTION ledger.account_balance(bigint);
