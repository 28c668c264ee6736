-- Functions are executable by PUBLIC by default. Lock the mutating ones down
-- and hand them to the writer role; readers get the reporting functions.
REVOKE EXECUTE ON FUNCTION ledger.close_account(bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION ledger.import_accounts(jsonb) FROM PUBLIC;
REVOKE EXECUTE ON PROCEDURE ledger.post_transfer(bigint, bigint, numeric, text) FROM PUBLIC;
REVOKE EXECUTE ON PROCEDURE ledger.archive_entries(timestamptz) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION ledger.close_account(bigint),
                          ledger.import_accounts(jsonb)
    TO corpus_functions_heavy_writer;
GRANT EXECUTE ON PROCEDURE ledger.post_transfer(bigint, bigint, numeric, text),
                           ledger.archive_entries(timestamptz)
    TO corpus_functions_heavy_writer;

GRANT EXECUTE ON FUNCTION ledger.account_balance(bigint),
                          ledger.balance_label(bigint),
                          ledger.trial_balance()
    TO corpus_functions_heavy_reader;
