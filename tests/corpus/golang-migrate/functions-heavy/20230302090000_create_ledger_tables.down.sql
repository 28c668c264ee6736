REVOKE ALL ON ledger.accounts, ledger.journal_entries, ledger.entry_lines
    FROM corpus_functions_heavy_reader, corpus_functions_heavy_writer;

DROP TABLE ledger.entry_lines;
DROP TABLE ledger.journal_entries;
DROP TABLE ledger.accounts;
