package main

// The checker's own tests: each invariant is fed a history that breaks it
// (and one that keeps it), so a silent checker cannot pass for a clean run.

import (
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func txRun(tbl string, v int64, app string, txid int64, start, commit int) []auditRow {
	return []auditRow{
		{Tbl: tbl, Version: v, Phase: "start", At: at(start), Txid: txid, App: app, Commit: at(commit)},
		{Tbl: tbl, Version: v, Phase: "end", At: at(commit - 1), Txid: txid, App: app, Commit: at(commit)},
	}
}

func TestExclusionFlagsOverlappingCommittedRuns(t *testing.T) {
	audit := append(txRun("a", 1, "schemagate p1", 10, 0, 100), txRun("b", 1, "schemagate p2", 11, 50, 150)...)
	v := CheckExclusion("d0", runs(audit, nil))
	if len(v) != 1 || !strings.Contains(v[0], "exclusion") {
		t.Fatalf("want one exclusion violation, got %v", v)
	}
	sequential := append(txRun("a", 1, "schemagate p1", 10, 0, 100), txRun("b", 1, "schemagate p2", 11, 100, 150)...)
	if v := CheckExclusion("d0", runs(sequential, nil)); len(v) != 0 {
		t.Fatalf("sequential runs flagged: %v", v)
	}
}

func TestExclusionPairsNoTransactionRowsByRunner(t *testing.T) {
	noTx := map[string]bool{"a/2": true}
	audit := []auditRow{
		{Tbl: "a", Version: 2, Phase: "start", At: at(0), Txid: 1, App: "schemagate p1", Commit: at(0)},
		{Tbl: "a", Version: 2, Phase: "start", At: at(10), Txid: 3, App: "schemagate p2", Commit: at(10)},
		{Tbl: "a", Version: 2, Phase: "end", At: at(20), Txid: 4, App: "schemagate p2", Commit: at(20)},
		{Tbl: "a", Version: 2, Phase: "end", At: at(30), Txid: 2, App: "schemagate p1", Commit: at(30)},
	}
	rs := runs(audit, noTx)
	if len(rs) != 2 {
		t.Fatalf("want 2 runs, got %v", rs)
	}
	if v := CheckExclusion("d0", rs); len(v) == 0 {
		t.Fatal("two no-transaction runs at once not flagged")
	}
}

func TestExactlyOnce(t *testing.T) {
	set := &MigrationSet{Table: "a", Versions: []Version{{V: 1}, {V: 2}, {V: 3, NoTx: true}}}
	twice := append(append(txRun("a", 1, "x", 1, 0, 10), txRun("a", 1, "y", 2, 20, 30)...), txRun("a", 3, "x", 3, 40, 50)...)
	v := CheckExactlyOnce("d0", set, runs(twice, map[string]bool{"a/3": true}), nil)
	joined := strings.Join(v, "\n")
	if !strings.Contains(joined, "applied twice") || !strings.Contains(joined, "lost: on d0, a v2") {
		t.Fatalf("want a double apply of v1 and v2 lost, got %v", v)
	}
	// A no-transaction version run to its end twice is fine after a repair.
	noTx := map[string]bool{"a/3": true}
	rerun := append(append(txRun("a", 1, "x", 1, 0, 10), txRun("a", 2, "x", 2, 20, 30)...),
		auditRow{Tbl: "a", Version: 3, Phase: "start", At: at(40), App: "x"}, auditRow{Tbl: "a", Version: 3, Phase: "end", At: at(50), App: "x"},
		auditRow{Tbl: "a", Version: 3, Phase: "start", At: at(60), App: "y"}, auditRow{Tbl: "a", Version: 3, Phase: "end", At: at(70), App: "y"})
	if v := CheckExactlyOnce("d0", set, runs(rerun, noTx), map[string]bool{"a/3": true}); len(v) != 0 {
		t.Fatalf("repaired re-run flagged: %v", v)
	}
	if v := CheckExactlyOnce("d0", set, runs(rerun, noTx), nil); len(v) != 1 {
		t.Fatalf("unrepaired re-run not flagged: %v", v)
	}
}

func TestFenceOrder(t *testing.T) {
	rows := []trackRow{
		{Tbl: "a", Version: 1, Token: 5, Commit: at(0)},
		{Tbl: "b", Version: 1, Token: 9, Commit: at(10)},
		{Tbl: "a", Version: 2, Token: 5, Commit: at(20)}, // a stale runner committed
	}
	if v := CheckFenceOrder("d0", rows); len(v) != 1 || !strings.Contains(v[0], "token 5 after") {
		t.Fatalf("want one fencing violation, got %v", v)
	}
	if v := CheckFenceOrder("d0", rows[:2]); len(v) != 0 {
		t.Fatalf("ordered tokens flagged: %v", v)
	}
}

func TestTracking(t *testing.T) {
	set := &MigrationSet{Table: "a", Versions: []Version{{V: 1}, {V: 2}}}
	v := CheckTracking("d0", set, []trackRow{{Tbl: "a", Version: 1, State: "applied"}, {Tbl: "a", Version: 2, State: "running"}})
	if len(v) != 1 || !strings.Contains(v[0], "v2 is running") {
		t.Fatalf("want v2 running flagged, got %v", v)
	}
}

func TestSessions(t *testing.T) {
	// p1's backend lingers in a statement begun before p2 connected: a dead
	// client's backend, not two live runners.
	zombie := []session{
		{DB: "d0", App: "schemagate p1", Pid: 1, BackendStart: at(0), LastChange: at(100)},
		{DB: "d0", App: "schemagate p2", Pid: 2, BackendStart: at(200), LastChange: at(300)},
	}
	if v := CheckSessions(zombie); len(v) != 0 {
		t.Fatalf("lingering backend flagged: %v", v)
	}
	both := []session{
		{DB: "d0", App: "schemagate p1", Pid: 1, BackendStart: at(0), LastChange: at(400)},
		{DB: "d0", App: "schemagate p2", Pid: 2, BackendStart: at(200), LastChange: at(300)},
	}
	if v := CheckSessions(both); len(v) != 1 {
		t.Fatalf("two working runners not flagged: %v", v)
	}
	otherDB := []session{both[0], {DB: "d1", App: "schemagate p2", Pid: 2, BackendStart: at(200), LastChange: at(300)}}
	if v := CheckSessions(otherDB); len(v) != 0 {
		t.Fatalf("runners on two databases flagged: %v", v)
	}
}
