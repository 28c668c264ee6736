REVOKE SELECT ON ledger.audit_log FROM corpus_functions_heavy_reader;

DROP TRIGGER entry_lines_audit ON ledger.entry_lines;
DROP TRIGGER accounts_audit_truncate ON ledger.accounts;
DROP TRIGGER accounts_audit ON ledger.accounts;

DROP FUNCTION ledger.audit_row_change();
DROP TABLE ledger.audit_log;
