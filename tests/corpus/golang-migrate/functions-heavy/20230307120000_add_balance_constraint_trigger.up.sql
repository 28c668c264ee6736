-- Deferred constraint trigger: an entry may be unbalanced while its lines are
-- being inserted, but not at commit.
CREATE FUNCTION ledger.entry_lines_check_balance()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        -- the entry itself may be gone (ON DELETE CASCADE from journal_entries)
        IF EXISTS (SELECT 1 FROM ledger.journal_entries WHERE id = OLD.entry_id) THEN
            PERFORM ledger.assert_entry_balanced(OLD.entry_id);
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM ledger.assert_entry_balanced(NEW.entry_id);
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER entry_lines_balanced
    AFTER INSERT OR UPDATE OR DELETE ON ledger.entry_lines
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    EXECUTE FUNCTION ledger.entry_lines_check_balance();
