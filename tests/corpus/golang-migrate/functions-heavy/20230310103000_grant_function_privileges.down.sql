REVOKE EXECUTE ON FUNCTION ledger.account_balance(bigint),
                           ledger.balance_label(bigint),
                           ledger.trial_balance()
    FROM corpus_functions_heavy_reader;

REVOKE EXECUTE ON PROCEDURE ledger.post_transfer(bigint, bigint, numeric, text),
                            ledger.archive_entries(timestamptz)
    FROM corpus_functions_heavy_writer;
REVOKE EXECUTE ON FUNCTION ledger.close_account(bigint),
                           ledger.import_accounts(jsonb)
    FROM corpus_functions_heavy_writer;

-- Back to the default: executable by PUBLIC.
GRANT EXECUTE ON PROCEDURE ledger.archive_entries(timestamptz) TO PUBLIC;
GRANT EXECUTE ON PROCEDURE ledger.post_transfer(bigint, bigint, numeric, text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION ledger.import_accounts(jsonb) TO PUBLIC;
GRANT EXECUTE ON FUNCTION ledger.close_account(bigint) TO PUBLIC;
