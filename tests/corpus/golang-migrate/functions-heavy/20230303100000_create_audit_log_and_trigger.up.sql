-- Every change to a ledger table is recorded as an event row in audit_log.
CREATE TABLE ledger.audit_log (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor       text        NOT NULL DEFAULT session_user,
    txid        bigint      NOT NULL DEFAULT txid_current(),
    table_name  text        NOT NULL,
    operation   text        NOT NULL,
    row_before  jsonb,
    row_after   jsonb,
    CONSTRAINT audit_log_operation_known
        CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE'))
);

CREATE INDEX audit_log_table_occurred_idx ON ledger.audit_log (table_name, occurred_at);

CREATE FUNCTION ledger.audit_row_change()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_table text := TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
BEGIN
    IF TG_LEVEL = 'STATEMENT' THEN
        INSERT INTO ledger.audit_log (table_name, operation) VALUES (v_table, TG_OP);
        RETURN NULL;
    END IF;

    INSERT INTO ledger.audit_log (table_name, operation, row_before, row_after)
    VALUES (v_table,
            TG_OP,
            CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) END,
            CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN to_jsonb(NEW) END);
    RETURN NULL;
EXCEPTION
    WHEN OTHERS THEN
        -- Never fail the business write because auditing failed; shout instead.
        RAISE WARNING 'audit_row_change on % failed: % (SQLSTATE %)', v_table, SQLERRM, SQLSTATE;
        RETURN NULL;
END
$body$;

CREATE TRIGGER accounts_audit
    AFTER INSERT OR UPDATE OR DELETE ON ledger.accounts
    FOR EACH ROW EXECUTE FUNCTION ledger.audit_row_change();

CREATE TRIGGER accounts_audit_truncate
    AFTER TRUNCATE ON ledger.accounts
    FOR EACH STATEMENT EXECUTE FUNCTION ledger.audit_row_change();

CREATE TRIGGER entry_lines_audit
    AFTER INSERT OR UPDATE OR DELETE ON ledger.entry_lines
    FOR EACH ROW EXECUTE FUNCTION ledger.audit_row_change();

REVOKE ALL ON FUNCTION ledger.audit_row_change() FROM PUBLIC;
GRANT SELECT ON ledger.audit_log TO corpus_functions_heavy_reader;
