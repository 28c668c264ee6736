REVOKE SELECT ON ledger.account_statement FROM corpus_functions_heavy_reader;
DROP VIEW ledger.account_statement;
