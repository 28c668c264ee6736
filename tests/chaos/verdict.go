package main

// After the faults: convergence (every SchemaMigration Ready at its set's
// newest version), the human's part (repairing an interrupted
// no-transaction migration, as docs/runner.md asks), and the checks.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// readyAt: Ready=True for the current generation at the set's target.
func readyAt(obj *unstructured.Unstructured, target int64) (bool, string) {
	gen := obj.GetGeneration()
	observed, _, _ := unstructured.NestedInt64(obj.Object, "status", "observedGeneration")
	applied, _, _ := unstructured.NestedInt64(obj.Object, "status", "appliedVersion")
	want, _, _ := unstructured.NestedInt64(obj.Object, "status", "targetVersion")
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	ready, reason, message := "Unknown", "", ""
	stalled := ""
	for _, c := range conds {
		m, _ := c.(map[string]interface{})
		switch m["type"] {
		case "Ready":
			ready, _ = m["status"].(string)
			reason, _ = m["reason"].(string)
			message, _ = m["message"].(string)
		case "Stalled":
			if m["status"] == "True" {
				stalled, _ = m["reason"].(string)
			}
		}
	}
	ok := ready == "True" && observed == gen && applied == target && want == target
	what := fmt.Sprintf("Ready=%s reason=%s stalled=%q applied=%d target=%d (want %d) generation %d/%d: %s",
		ready, reason, stalled, applied, want, target, observed, gen, message)
	if stalled != "" {
		what = "STALLED " + stalled + " " + what
	}
	return ok, what
}

func (s *Suite) converge(timeout time.Duration, inj *Injector) ([]time.Duration, []string) {
	start := time.Now()
	deadline := start.Add(timeout)
	first := map[string]time.Duration{}
	lastRepair := map[string]time.Time{}
	state := map[string]string{}
	for {
		all := true
		for _, name := range s.work.AllSMs() {
			set := s.work.SetOf(name)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			obj, err := s.dyn.Resource(smGVR).Namespace(workNS).Get(ctx, name, metav1.GetOptions{})
			cancel()
			if err != nil {
				state[name], all = "not readable: "+err.Error(), false
				continue
			}
			ok, what := readyAt(obj, set.Target())
			state[name] = what
			if !ok {
				all = false
				delete(first, name)
				if inj != nil && strings.HasPrefix(what, "STALLED NeedsRepair") && time.Since(lastRepair[set.Table+set.DB]) > 20*time.Second {
					lastRepair[set.Table+set.DB] = time.Now()
					s.repair(inj, set)
				}
				continue
			}
			if _, seen := first[name]; !seen {
				first[name] = time.Since(start)
			}
		}
		if all {
			var out []time.Duration
			for _, d := range first {
				out = append(out, d)
			}
			return out, nil
		}
		if time.Now().After(deadline) {
			s.dumpState()
			var missing []string
			for _, name := range s.work.AllSMs() {
				if _, ok := first[name]; !ok {
					missing = append(missing, fmt.Sprintf("convergence: %s not Ready at its target %s after the faults: %s",
						name, timeout, state[name]))
				}
			}
			return nil, missing
		}
		time.Sleep(time.Second)
	}
}

// repair does what docs/runner.md asks of a human after an interrupted
// no-transaction migration: drop what it left half-built (an INVALID index),
// `schemagate migrate repair`, and ask for a retry.
func (s *Suite) repair(inj *Injector, set *MigrationSet) {
	db, err := openDB(s.pg.DSN(set.DB))
	if err != nil {
		return
	}
	defer db.Close()
	// A human looks before repairing: a `running` record of a runner that
	// is at work now (a retry already started) is not a dead run's mark.
	var busy int
	db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = $1
		AND application_name LIKE 'schemagate %'`, set.DB).Scan(&busy)
	if busy > 0 {
		return
	}
	rows, _ := readTracking(db, set.Table)
	var stuck []string
	for _, r := range rows {
		if r.State != "applied" {
			stuck = append(stuck, fmt.Sprintf("v%d %s", r.Version, r.State))
			inj.mu.Lock()
			inj.Repairs[fmt.Sprintf("%s/%d", set.Table, r.Version)] = true
			inj.mu.Unlock()
		}
	}
	invalid, _ := db.Query(`SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		JOIN pg_class t ON t.oid = i.indrelid WHERE NOT i.indisvalid AND t.relname = $1`, "work_"+set.Table)
	var dropped []string
	for invalid != nil && invalid.Next() {
		var name string
		invalid.Scan(&name)
		dropped = append(dropped, name)
	}
	if invalid != nil {
		invalid.Close()
	}
	for _, name := range dropped {
		db.Exec("DROP INDEX IF EXISTS " + name)
	}
	dir, _ := os.MkdirTemp(s.runDir, "repair-")
	for file, text := range set.Data() {
		os.WriteFile(filepath.Join(dir, file), []byte(text), 0o644)
	}
	u := fmt.Sprintf("postgresql://postgres@127.0.0.1:%d/%s?sslmode=disable", s.pg.Port, set.DB)
	out, err := exec.Command(s.bin, "migrate", "repair", "--dir", dir, "--database-url", u, "--table", set.Table).CombinedOutput()
	if err != nil {
		s.logf("note: repair of %s/%s: %v %s", set.DB, set.Table, err, tail(string(out), 3))
	}
	patch := fmt.Sprintf(`{"metadata":{"annotations":{"schemagate.dev/retry":"%d"}}}`, time.Now().UnixNano())
	for _, sm := range set.SMs {
		s.dyn.Resource(smGVR).Namespace(workNS).Patch(context.Background(), sm, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	}
	s.logf("repair  %s/%s: records %v, invalid indexes dropped %v, retry asked of %v", set.DB, set.Table, stuck, dropped, set.SMs)
}

func (s *Suite) checkDatabases(inj *Injector) []string {
	var v []string
	for _, dbName := range s.work.DBs {
		db, err := openDB(s.pg.DSN(dbName))
		if err != nil {
			v = append(v, "check: "+err.Error())
			continue
		}
		audit, err := readAudit(db)
		if err != nil {
			v = append(v, "check: audit of "+dbName+": "+err.Error())
		}
		noTx := map[string]bool{}
		var tracking []trackRow
		var sets []*MigrationSet
		for _, set := range s.work.Sets {
			if set.DB != dbName {
				continue
			}
			sets = append(sets, set)
			for _, ver := range set.Versions {
				noTx[fmt.Sprintf("%s/%d", set.Table, ver.V)] = ver.NoTx
			}
			rows, err := readTracking(db, set.Table)
			if err != nil {
				v = append(v, "check: tracking of "+dbName+": "+err.Error())
			}
			tracking = append(tracking, rows...)
		}
		db.Close()
		rs := runs(audit, noTx)
		v = append(v, CheckExclusion(dbName, rs)...)
		for _, set := range sets {
			v = append(v, CheckExactlyOnce(dbName, set, rs, inj.Repairs)...)
			v = append(v, CheckTracking(dbName, set, tracking)...)
		}
		v = append(v, CheckFenceOrder(dbName, tracking)...)
		var b strings.Builder
		for _, r := range audit {
			fmt.Fprintf(&b, "%s\t%s\t%d\t%s\t%s\t%d\t%s\t%s\n", dbName, r.Tbl, r.Version, r.Phase, ts(r.At), r.Txid, r.App, ts(r.Commit))
		}
		appendFile(filepath.Join(s.runDir, "audit.tsv"), b.String())
		b.Reset()
		for _, r := range tracking {
			fmt.Fprintf(&b, "%s\t%s\t%d\t%s\t%d\t%t\t%s\t%s\n", dbName, r.Tbl, r.Version, r.State, r.Token, r.NoTx, ts(r.Commit), r.Applier)
		}
		appendFile(filepath.Join(s.runDir, "tracking.tsv"), b.String())
	}
	return v
}

func appendFile(path, text string) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err == nil {
		f.WriteString(text)
		f.Close()
	}
}

// scanSecrets: the database password, raw or encoded, in no status, Event,
// Job, pod (termination messages), container log or controller log.
// Findings name the place and line, never the line itself.
func (s *Suite) scanSecrets() []string {
	forms := []string{s.password, url.QueryEscape(s.password), url.PathEscape(s.password),
		strings.TrimPrefix(url.UserPassword("", s.password).String(), ":")}
	places := map[string]string{}
	ctx := context.Background()
	for _, res := range []struct{ name, group, version, resource string }{
		{"schemamigrations", "schemagate.dev", "v1alpha1", "schemamigrations"},
		{"events", "", "v1", "events"}, {"jobs", "batch", "v1", "jobs"}, {"pods", "", "v1", "pods"},
	} {
		gvr := smGVR
		gvr.Group, gvr.Version, gvr.Resource = res.group, res.version, res.resource
		list, err := s.dyn.Resource(gvr).Namespace(workNS).List(ctx, metav1.ListOptions{})
		if err == nil {
			b, _ := json.MarshalIndent(list.Items, "", " ")
			places[res.name] = string(b)
		}
	}
	for _, c := range s.ctls {
		places[filepath.Base(c.LogPath)] = readFile(c.LogPath)
	}
	out, _ := exec.Command("docker", "ps", "-aq", "--filter", "label=dev.schemagate.node-agent.state-dir="+s.cluster.run+"/node").Output()
	for _, id := range strings.Fields(string(out)) {
		logs, _ := exec.Command("docker", "logs", id).CombinedOutput()
		places["container "+id] = string(logs)
	}
	var v []string
	searched := 0
	for place, text := range places {
		searched += len(text)
		for n, line := range strings.Split(text, "\n") {
			for _, f := range forms {
				if f != "" && strings.Contains(line, f) {
					v = append(v, fmt.Sprintf("secret: the database password is in %s, line %d", place, n+1))
					break
				}
			}
		}
	}
	s.logf("secrets: searched %d bytes in %d places", searched, len(places))
	return v
}

// dumpState keeps the API objects that explain a failed convergence (pods,
// Jobs, Leases, SchemaMigrations, Events) in the state directory.
func (s *Suite) dumpState() {
	kubectl := filepath.Join(filepath.Dir(s.clusterBin()), "kubectl")
	for _, what := range []struct{ ns, kinds string }{
		{workNS, "schemamigrations.schemagate.dev,jobs,pods,events"}, {operatorNS, "leases"},
	} {
		out, _ := exec.Command(kubectl, "--kubeconfig", s.cluster.Kubeconfig(), "-n", what.ns, "get", what.kinds, "-o", "yaml").CombinedOutput()
		os.WriteFile(filepath.Join(s.runDir, "objects-"+what.ns+".yaml"), out, 0o644)
	}
	s.logf("convergence failed: API objects kept in %s/objects-*.yaml", s.runDir)
}
