CREATE TABLE ledger.journal_entries_archive (
    id          bigint      PRIMARY KEY,
    posted_at   timestamptz NOT NULL,
    memo        text        NOT NULL,
    lines       jsonb       NOT NULL,
    archived_at timestamptz NOT NULL DEFAULT now()
);

-- Procedures with SQL-standard bodies. CALL ledger.post_transfer(1, 2, 10.00, 'x');
CREATE PROCEDURE ledger.post_transfer(
    p_from_account bigint,
    p_to_account   bigint,
    p_amount       numeric,
    p_memo         text DEFAULT ''
)
LANGUAGE sql
BEGIN ATOMIC
    WITH entry AS (
        INSERT INTO ledger.journal_entries (memo) VALUES (p_memo) RETURNING id
    )
    INSERT INTO ledger.entry_lines (entry_id, account_id, side, amount)
    SELECT entry.id, v.account_id, v.side, p_amount
      FROM entry
     CROSS JOIN (VALUES (p_from_account, 'credit'::ledger.entry_side),
                        (p_to_account,   'debit'::ledger.entry_side)) AS v (account_id, side);
END;

CREATE PROCEDURE ledger.archive_entries(p_before timestamptz)
LANGUAGE sql
BEGIN ATOMIC
    INSERT INTO ledger.journal_entries_archive (id, posted_at, memo, lines)
    SELECT e.id, e.posted_at, e.memo,
           coalesce((SELECT jsonb_agg(to_jsonb(l) ORDER BY l.id)
                       FROM ledger.entry_lines AS l
                      WHERE l.entry_id = e.id), '[]'::jsonb)
      FROM ledger.journal_entries AS e
     WHERE e.posted_at < p_before;
    DELETE FROM ledger.journal_entries WHERE posted_at < p_before;
END;

COMMENT ON PROCEDURE ledger.archive_entries(timestamptz) IS
    'copies entries older than p_before into journal_entries_archive; then deletes them (lines cascade)';
