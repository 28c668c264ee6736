-- A PL/pgSQL procedure that commits between batches so a large archive run
-- does not hold one huge transaction. The COMMIT below is part of the quoted
-- body: it runs only when the procedure is CALLed outside a transaction
-- block, never while this migration is applied.
CREATE PROCEDURE ledger.archive_entries_in_batches(p_before timestamptz, p_batch_size integer DEFAULT 1000)
LANGUAGE plpgsql
AS $proc$
DECLARE
    v_moved integer;
    v_total integer := 0;
BEGIN
    IF p_batch_size IS NULL OR p_batch_size < 1 THEN
        RAISE EXCEPTION 'p_batch_size must be positive; got %', p_batch_size;
    END IF;

    LOOP
        WITH batch AS (
            SELECT id FROM ledger.journal_entries
             WHERE posted_at < p_before
             ORDER BY id
             LIMIT p_batch_size
        ), moved AS (
            INSERT INTO ledger.journal_entries_archive (id, posted_at, memo, lines)
            SELECT e.id, e.posted_at, e.memo,
                   coalesce((SELECT jsonb_agg(to_jsonb(l) ORDER BY l.id)
                               FROM ledger.entry_lines AS l
                              WHERE l.entry_id = e.id), '[]'::jsonb)
              FROM ledger.journal_entries AS e
             WHERE e.id IN (SELECT id FROM batch)
            RETURNING id
        )
        DELETE FROM ledger.journal_entries
         WHERE id IN (SELECT id FROM moved);

        GET DIAGNOSTICS v_moved = ROW_COUNT;
        EXIT WHEN v_moved = 0;
        v_total := v_total + v_moved;
        COMMIT;
    END LOOP;

    RAISE NOTICE 'archived % entries older than %', v_total, p_before;
END;
$proc$;

REVOKE EXECUTE ON PROCEDURE ledger.archive_entries_in_batches(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON PROCEDURE ledger.archive_entries_in_batches(timestamptz, integer)
    TO corpus_functions_heavy_writer;
