package main

// Reading the database's records for the checker, and the session sampler
// (pg_stat_activity every 100 ms, the runners' main sessions only).

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"
)

func readAudit(db *sql.DB) ([]auditRow, error) {
	rows, err := db.Query(`SELECT tbl, version, phase, at, txid, app,
		coalesce(pg_xact_commit_timestamp(xmin), at) FROM chaos_audit ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var r auditRow
		if err := rows.Scan(&r.Tbl, &r.Version, &r.Phase, &r.At, &r.Txid, &r.App, &r.Commit); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func readTracking(db *sql.DB, table string) ([]trackRow, error) {
	rows, err := db.Query(fmt.Sprintf(`SELECT version, state, coalesce(fence_token, 0), no_transaction,
		coalesce(pg_xact_commit_timestamp(xmin), now()), coalesce(applied_by, '') FROM %s`, table))
	if err != nil {
		if strings.Contains(err.Error(), "does not exist") {
			return nil, nil
		}
		return nil, err
	}
	defer rows.Close()
	var out []trackRow
	for rows.Next() {
		r := trackRow{Tbl: table}
		if err := rows.Scan(&r.Version, &r.State, &r.Token, &r.NoTx, &r.Commit, &r.Applier); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Sampler watches pg_stat_activity for runner main sessions that work at the
// same time on one database. It keeps each session's latest state_change.
type Sampler struct {
	mu         sync.Mutex
	violations map[string]string // deduplicated by the pair
	Samples    int
	MaxAtOnce  int // most runner main sessions on one database in one sample
	Errors     int
}

func (s *Sampler) Run(ctx context.Context, dsn string) {
	s.violations = map[string]string{}
	db, err := openDB(dsn)
	if err != nil {
		return
	}
	defer db.Close()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		sample, err := sampleSessions(ctx, db)
		s.mu.Lock()
		if err != nil {
			s.Errors++ // PostgreSQL restarting (a fault)
			s.mu.Unlock()
			continue
		}
		s.Samples++
		perDB := map[string]int{}
		for _, x := range sample {
			perDB[x.DB]++
			if perDB[x.DB] > s.MaxAtOnce {
				s.MaxAtOnce = perDB[x.DB]
			}
		}
		for _, v := range CheckSessions(sample) {
			key := v[:strings.Index(v, " worked")]
			if _, seen := s.violations[key]; !seen {
				s.violations[key] = v
			}
		}
		s.mu.Unlock()
	}
}

func sampleSessions(ctx context.Context, db *sql.DB) ([]session, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	rows, err := db.QueryContext(ctx, `SELECT datname, application_name, pid, backend_start,
		coalesce(state_change, backend_start) FROM pg_stat_activity
		WHERE application_name LIKE 'schemagate %'
		  AND application_name NOT LIKE 'schemagate fence %'
		  AND application_name NOT LIKE 'schemagate lock %'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []session
	for rows.Next() {
		var x session
		if err := rows.Scan(&x.DB, &x.App, &x.Pid, &x.BackendStart, &x.LastChange); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

func (s *Sampler) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, v := range s.violations {
		out = append(out, v)
	}
	return out
}

// RunnerSessions lists the backend pids of runner sessions (main and fence),
// for the pg_terminate_backend fault.
func RunnerSessions(db *sql.DB) ([]int, error) {
	rows, err := db.Query(`SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'schemagate %' ORDER BY pid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var p int
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
