REVOKE USAGE ON SCHEMA ledger FROM corpus_functions_heavy_reader, corpus_functions_heavy_writer;

DROP SCHEMA ledger;

-- The roles are shared by every database on the server. Drop each one only
-- when no other database still holds privileges for it (pg_shdepend is
-- cluster-wide); the last database to migrate down removes them.
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['corpus_functions_heavy_writer', 'corpus_functions_heavy_reader'] LOOP
        IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r)
           AND NOT EXISTS (
                SELECT FROM pg_catalog.pg_shdepend AS d
                 WHERE d.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass
                   AND d.refobjid = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = r))
        THEN
            EXECUTE pg_catalog.format('DROP ROLE %I', r);
        END IF;
    END LOOP;
END
$$;
