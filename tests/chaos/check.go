package main

// The invariants, judged from the database's own records: the audit rows
// every migration file writes (inside its transaction, so they exist exactly
// when it committed), the tools' tracking tables, and commit timestamps
// (track_commit_timestamp). The functions below are pure (check_test.go
// feeds them broken histories); collect.go reads the rows.

import (
	"fmt"
	"sort"
	"time"
)

type auditRow struct {
	Tbl     string
	Version int64
	Phase   string // start | end
	At      time.Time
	Txid    int64
	App     string // "schemagate <pod>": the runner that ran it
	Commit  time.Time
}

type trackRow struct {
	Tbl     string
	Version int64
	State   string
	Token   int64
	NoTx    bool
	Commit  time.Time
	Applier string
}

// run is one execution of a migration file that reached its last statement.
type run struct {
	Tbl         string
	Version     int64
	App         string
	NoTx        bool
	Start, Done time.Time // Done: the commit (transactional) or the end row
}

// runs pairs start and end rows: by transaction for transactional files
// (both rows commit together), by runner and version for no-transaction
// files (each row commits on its own; a start without an end is a run that
// died part-way, which has no interval).
func runs(audit []auditRow, noTx map[string]bool) []run {
	var out []run
	starts := map[string]auditRow{}
	for _, r := range audit {
		nt := noTx[fmt.Sprintf("%s/%d", r.Tbl, r.Version)]
		key := fmt.Sprintf("%s/%d/%d", r.Tbl, r.Version, r.Txid)
		if nt {
			key = fmt.Sprintf("%s/%d/%s", r.Tbl, r.Version, r.App)
		}
		switch r.Phase {
		case "start":
			starts[key] = r
		case "end":
			s, ok := starts[key]
			if !ok {
				continue
			}
			delete(starts, key)
			done := r.Commit
			if nt {
				done = r.At
			}
			out = append(out, run{Tbl: r.Tbl, Version: r.Version, App: r.App, NoTx: nt, Start: s.At, Done: done})
		}
	}
	return out
}

// CheckExclusion: no two runs on one database (one identity, one Lease,
// whatever their tracking tables) overlap in time.
func CheckExclusion(db string, rs []run) []string {
	sorted := append([]run(nil), rs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Start.Before(sorted[j].Start) })
	var v []string
	for i := 1; i < len(sorted); i++ {
		for j := i - 1; j >= 0 && j >= i-8; j-- {
			a, b := sorted[j], sorted[i]
			if b.Start.Before(a.Done) {
				v = append(v, fmt.Sprintf("exclusion: on %s, %s v%d by %q ran %s..%s while %s v%d by %q ran %s..%s",
					db, b.Tbl, b.Version, b.App, ts(b.Start), ts(b.Done), a.Tbl, a.Version, a.App, ts(a.Start), ts(a.Done)))
			}
		}
	}
	return v
}

// CheckExactlyOnce: every version of the set's final target ran to its end
// exactly once (transactional), at least once (no-transaction: a run cut
// after its last statement is repaired and run again, as the docs say),
// and nothing ran that is not in the set.
func CheckExactlyOnce(db string, set *MigrationSet, rs []run, repaired map[string]bool) []string {
	count := map[int64]int{}
	for _, r := range rs {
		if r.Tbl == set.Table {
			count[r.Version]++
		}
	}
	var v []string
	known := map[int64]bool{}
	for _, ver := range set.Versions {
		known[ver.V] = true
		n := count[ver.V]
		key := fmt.Sprintf("%s/%d", set.Table, ver.V)
		switch {
		case n == 0:
			v = append(v, fmt.Sprintf("lost: on %s, %s v%d never ran to its end", db, set.Table, ver.V))
		case n > 1 && !ver.NoTx:
			v = append(v, fmt.Sprintf("applied twice: on %s, %s v%d committed %d times", db, set.Table, ver.V, n))
		case n > 1 && !repaired[key]:
			v = append(v, fmt.Sprintf("applied twice: on %s, no-transaction %s v%d ran to its end %d times without a repair", db, set.Table, ver.V, n))
		}
	}
	for ver, n := range count {
		if !known[ver] {
			v = append(v, fmt.Sprintf("unknown: on %s, %s v%d ran %d times but is not in the set", db, set.Table, ver, n))
		}
	}
	return v
}

// CheckTracking: the tracking table says every version applied and holds no
// running or failed record (those would block every later run).
func CheckTracking(db string, set *MigrationSet, rows []trackRow) []string {
	state := map[int64]string{}
	for _, r := range rows {
		if r.Tbl == set.Table {
			state[r.Version] = r.State
		}
	}
	var v []string
	for _, ver := range set.Versions {
		if s := state[ver.V]; s != "applied" {
			if s == "" {
				s = "no record"
			}
			v = append(v, fmt.Sprintf("tracking: on %s, %s v%d is %s", db, set.Table, ver.V, s))
		}
		delete(state, ver.V)
	}
	for ver, s := range state {
		v = append(v, fmt.Sprintf("tracking: on %s, %s has v%d (%s), not in the set", db, set.Table, ver, s))
	}
	return v
}

// CheckFenceOrder: in commit order, the fencing tokens of a database's
// tracking records never go down: once a newer Lease holder's runner wrote,
// an older one committed nothing (across the database's tracking tables,
// which share its one Lease).
func CheckFenceOrder(db string, rows []trackRow) []string {
	sorted := make([]trackRow, 0, len(rows))
	for _, r := range rows {
		if r.Token > 0 {
			sorted = append(sorted, r)
		}
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Commit.Before(sorted[j].Commit) })
	var v []string
	for i := 1; i < len(sorted); i++ {
		a, b := sorted[i-1], sorted[i]
		if b.Token < a.Token {
			v = append(v, fmt.Sprintf("fencing: on %s, %s v%d committed at %s with token %d after %s v%d with token %d at %s",
				db, b.Tbl, b.Version, ts(b.Commit), b.Token, a.Tbl, a.Version, a.Token, ts(a.Commit)))
		}
	}
	return v
}

// session is a runner's main session as pg_stat_activity shows it.
type session struct {
	DB, App                  string
	Pid                      int
	BackendStart, LastChange time.Time
}

// CheckSessions: two runners' sessions on one database that both did
// something after the other connected were both alive and working at the
// same time. (A backend whose client died may linger inside a long
// statement; it never starts another, so it never counts.)
func CheckSessions(sample []session) []string {
	var v []string
	for i := range sample {
		for j := i + 1; j < len(sample); j++ {
			a, b := sample[i], sample[j]
			if a.DB != b.DB || a.App == b.App {
				continue
			}
			if a.LastChange.After(b.BackendStart) && b.LastChange.After(a.BackendStart) {
				v = append(v, fmt.Sprintf("sessions: on %s, %q (pid %d, since %s, active %s) and %q (pid %d, since %s, active %s) worked at the same time",
					a.DB, a.App, a.Pid, ts(a.BackendStart), ts(a.LastChange), b.App, b.Pid, ts(b.BackendStart), ts(b.LastChange)))
			}
		}
	}
	return v
}

func ts(t time.Time) string { return t.UTC().Format("15:04:05.000") }
