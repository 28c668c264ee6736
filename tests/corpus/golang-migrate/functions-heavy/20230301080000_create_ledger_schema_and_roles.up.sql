-- Double-entry ledger. All objects are schema-qualified; nothing relies on
-- search_path.
CREATE SCHEMA ledger;

-- Roles are cluster-wide, so they may already exist (another database on the
-- same server ran this migration first). CREATE ROLE has no IF NOT EXISTS,
-- hence the DO block.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'corpus_functions_heavy_reader') THEN
        CREATE ROLE corpus_functions_heavy_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'corpus_functions_heavy_writer') THEN
        CREATE ROLE corpus_functions_heavy_writer NOLOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA ledger TO corpus_functions_heavy_reader, corpus_functions_heavy_writer;
