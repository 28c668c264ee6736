package main

// The workload: several databases, each shared by three SchemaMigrations
// (two with the same source and tracking table, one with a table of its
// own), all under the database's one Lease. Every migration file records
// itself in the database's chaos_audit table from inside its own
// transaction, which is what the checker reads. Sets grow while faults run.

import (
	"context"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

const (
	workNS     = "chaos"
	operatorNS = "chaos-system"
)

var smGVR = schema.GroupVersionResource{Group: "schemagate.dev", Version: "v1alpha1", Resource: "schemamigrations"}

type Version struct {
	V     int64
	NoTx  bool
	Sleep time.Duration
}

// MigrationSet is one ConfigMap of migrations and the tracking table its
// SchemaMigrations use.
type MigrationSet struct {
	DB, ConfigMap, Table string
	SMs                  []string
	Versions             []Version
}

type Workload struct {
	kube     kubernetes.Interface
	dyn      dynamic.Interface
	pg       *Postgres
	password string
	rng      *rand.Rand // only under mu
	mu       sync.Mutex
	Sets     []*MigrationSet
	DBs      []string
}

func auditSQL(table string, v int64, phase string) string {
	return fmt.Sprintf("INSERT INTO chaos_audit (tbl, version, phase) VALUES ('%s', %d, '%s');\n", table, v, phase)
}

// File is the migration's text. Transactional files write their audit rows
// in the migration's own transaction (so a row exists exactly when the
// migration committed); no-transaction files write them as statements of
// their own, around a CREATE INDEX CONCURRENTLY.
func (s *MigrationSet) File(v Version) string {
	var b strings.Builder
	work := "work_" + s.Table
	if v.NoTx {
		b.WriteString("-- schemagate:no-transaction\n")
	}
	b.WriteString(auditSQL(s.Table, v.V, "start"))
	if v.V == 1 {
		fmt.Fprintf(&b, "CREATE TABLE %s (v bigint NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());\n", work)
	}
	if v.NoTx {
		fmt.Fprintf(&b, "CREATE INDEX CONCURRENTLY IF NOT EXISTS %s_%d_idx ON %s (v, at);\n", work, v.V, work)
	} else {
		fmt.Fprintf(&b, "INSERT INTO %s (v) VALUES (%d);\n", work, v.V)
	}
	if v.Sleep > 0 {
		fmt.Fprintf(&b, "SELECT pg_sleep(%.2f);\n", v.Sleep.Seconds())
	}
	b.WriteString(auditSQL(s.Table, v.V, "end"))
	return b.String()
}

func (s *MigrationSet) Data() map[string]string {
	out := map[string]string{}
	for _, v := range s.Versions {
		out[fmt.Sprintf("%04d_m%d.up.sql", v.V, v.V)] = s.File(v)
	}
	return out
}

func (s *MigrationSet) Target() int64 { return s.Versions[len(s.Versions)-1].V }

func (w *Workload) newVersion(s *MigrationSet) Version {
	v := Version{V: int64(len(s.Versions) + 1)}
	if v.V > 1 && w.rng.Intn(100) < 15 {
		v.NoTx = true
	}
	// Long enough that faults often land on a running migration.
	switch r := w.rng.Intn(100); {
	case r < 10: // longer than the database Lease's renew period
		v.Sleep = time.Duration(20+w.rng.Intn(6)) * time.Second
	case r < 70:
		v.Sleep = time.Duration(500+w.rng.Intn(5000)) * time.Millisecond
	}
	return v
}

func (w *Workload) Setup(ctx context.Context, databases int) error {
	for _, ns := range []string{workNS, operatorNS} {
		_, err := w.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	for i := 0; i < databases; i++ {
		db := fmt.Sprintf("d%d", i)
		w.DBs = append(w.DBs, db)
		if err := execSQL(w.pg.DSN("postgres"), "CREATE DATABASE "+db); err != nil {
			return err
		}
		if err := execSQL(w.pg.DSN(db), `CREATE TABLE chaos_audit (
			id bigserial PRIMARY KEY, tbl text NOT NULL, version bigint NOT NULL, phase text NOT NULL,
			at timestamptz NOT NULL DEFAULT clock_timestamp(),
			backend_pid int NOT NULL DEFAULT pg_backend_pid(),
			txid bigint NOT NULL DEFAULT txid_current(),
			app text NOT NULL DEFAULT current_setting('application_name'))`); err != nil {
			return err
		}
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: db + "-url", Namespace: workNS},
			StringData: map[string]string{"url": w.pg.URL(db, w.password)}}
		if _, err := w.kube.CoreV1().Secrets(workNS).Create(ctx, sec, metav1.CreateOptions{}); err != nil {
			return err
		}
		a := &MigrationSet{DB: db, ConfigMap: db + "-set-a", Table: "schemagate_migrations", SMs: []string{db + "-a1", db + "-a2"}}
		b := &MigrationSet{DB: db, ConfigMap: db + "-set-b", Table: "b_migrations", SMs: []string{db + "-b"}}
		for _, s := range []*MigrationSet{a, b} {
			w.mu.Lock()
			for n := 0; n < 3; n++ {
				s.Versions = append(s.Versions, w.newVersion(s))
			}
			w.mu.Unlock()
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: s.ConfigMap, Namespace: workNS}, Data: s.Data()}
			if _, err := w.kube.CoreV1().ConfigMaps(workNS).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
				return err
			}
			for _, sm := range s.SMs {
				if err := w.CreateSM(ctx, s, sm); err != nil {
					return err
				}
			}
			w.Sets = append(w.Sets, s)
		}
	}
	return nil
}

func (w *Workload) SetOf(sm string) *MigrationSet {
	for _, s := range w.Sets {
		for _, n := range s.SMs {
			if n == sm {
				return s
			}
		}
	}
	return nil
}

func (w *Workload) AllSMs() []string {
	var out []string
	for _, s := range w.Sets {
		out = append(out, s.SMs...)
	}
	sort.Strings(out)
	return out
}

func (w *Workload) CreateSM(ctx context.Context, s *MigrationSet, name string) error {
	spec := map[string]interface{}{
		"database": map[string]interface{}{"secretRef": map[string]interface{}{"name": s.DB + "-url"}},
		"source":   map[string]interface{}{"configMaps": []interface{}{s.ConfigMap}},
	}
	if s.Table != "schemagate_migrations" {
		spec["runner"] = map[string]interface{}{"trackingTable": s.Table}
	}
	obj := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "schemagate.dev/v1alpha1", "kind": "SchemaMigration",
		"metadata": map[string]interface{}{"name": name, "namespace": workNS},
		"spec":     spec,
	}}
	_, err := w.dyn.Resource(smGVR).Namespace(workNS).Create(ctx, obj, metav1.CreateOptions{})
	return err
}

// Grow adds one version to a random set (its ConfigMap updated in place).
func (w *Workload) Grow(ctx context.Context) (string, error) {
	w.mu.Lock()
	s := w.Sets[w.rng.Intn(len(w.Sets))]
	v := w.newVersion(s)
	s.Versions = append(s.Versions, v)
	data := s.Data()
	w.mu.Unlock()
	for attempt := 0; attempt < 20; attempt++ {
		cm, err := w.kube.CoreV1().ConfigMaps(workNS).Get(ctx, s.ConfigMap, metav1.GetOptions{})
		if err == nil {
			cm.Data = data
			_, err = w.kube.CoreV1().ConfigMaps(workNS).Update(ctx, cm, metav1.UpdateOptions{})
		}
		if err == nil {
			kind := "tx"
			if v.NoTx {
				kind = "no-tx"
			}
			return fmt.Sprintf("%s v%d (%s, sleep %s)", s.ConfigMap, v.V, kind, v.Sleep.Round(10*time.Millisecond)), nil
		}
		time.Sleep(500 * time.Millisecond) // the API server may be down: a fault
	}
	w.mu.Lock()
	s.Versions = s.Versions[:len(s.Versions)-1]
	w.mu.Unlock()
	return "", fmt.Errorf("could not update ConfigMap %s", s.ConfigMap)
}
