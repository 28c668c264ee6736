DROP TRIGGER entry_lines_balanced ON ledger.entry_lines;
DROP FUNCTION ledger.entry_lines_check_balance();
