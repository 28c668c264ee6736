package main

// The fault injector: at random times from the seed it picks a fault kind
// by weight, a target, and how long the fault lasts; lasting faults (a
// paused replica, a cut link, a stopped etcd) heal by themselves in a
// goroutine. A kind that has no target at the moment (no Job running, say)
// is drawn again.

import (
	"context"
	"fmt"
	"math/rand"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

type faultKind struct {
	name   string
	weight int
	inject func(f *Injector) (target string, ok bool)
}

type Injector struct {
	s       *Suite
	rng     *rand.Rand
	mu      sync.Mutex // rng and the bookkeeping below
	healing sync.WaitGroup
	lasting int // faults healing now
	Counts  map[string]int
	Repairs map[string]bool
}

// Weights favour faults on the work in flight (a runner, its sessions, its
// Job, its Lease) over faults on the replicas: a leader killed every few
// seconds leaves no Job running to break.
var faultKinds = []faultKind{
	{"controller-sigkill", 5, func(f *Injector) (string, bool) { return f.signalController(syscall.SIGKILL) }},
	{"controller-sigterm", 2, func(f *Injector) (string, bool) { return f.signalController(syscall.SIGTERM) }},
	{"controller-pause", 4, (*Injector).pauseController},
	{"stale-image-restart", 1, (*Injector).staleImage},
	{"apiserver-sigkill", 2, func(f *Injector) (string, bool) { return f.disrupt("kube-apiserver", syscall.SIGKILL, 0, 3) }},
	{"apiserver-sigterm", 1, func(f *Injector) (string, bool) { return f.disrupt("kube-apiserver", syscall.SIGTERM, 0, 3) }},
	{"etcd-stop", 2, func(f *Injector) (string, bool) { return f.disrupt("etcd", syscall.SIGTERM, 1, 8) }},
	{"net-cut", 3, func(f *Injector) (string, bool) { return f.cut(proxyReset) }},
	{"net-partition", 3, func(f *Injector) (string, bool) { return f.cut(proxyBlackhole) }},
	{"net-delay", 2, func(f *Injector) (string, bool) { return f.cut(proxyDelay) }},
	{"runner-sigkill", 10, func(f *Injector) (string, bool) { return f.killRunner("KILL") }},
	{"runner-sigterm", 6, func(f *Injector) (string, bool) { return f.killRunner("TERM") }},
	{"pg-terminate-backend", 8, (*Injector).terminateBackend},
	{"pg-restart", 2, (*Injector).restartPostgres},
	{"lease-delete", 6, (*Injector).deleteLease},
	{"job-delete", 4, func(f *Injector) (string, bool) { return f.deleteJob(metav1.DeletePropagationBackground) }},
	{"job-delete-orphan", 5, func(f *Injector) (string, bool) { return f.deleteJob(metav1.DeletePropagationOrphan) }},
	{"sm-recreate", 2, (*Injector).recreateSM},
}

func (f *Injector) intn(n int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rng.Intn(n)
}

// between: a duration in [lo, hi] seconds.
func (f *Injector) between(lo, hi float64) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return time.Duration((lo + f.rng.Float64()*(hi-lo)) * float64(time.Second))
}

// Inject draws kinds until one applies; returns its name and target.
func (f *Injector) Inject() (string, string) {
	total := 0
	for _, k := range faultKinds {
		total += k.weight
	}
	for attempt := 0; attempt < 20; attempt++ {
		n := f.intn(total)
		for _, k := range faultKinds {
			if n < k.weight {
				// A kind without a target now gets a few seconds to have one
				// (the next Job to start), so the mix stays near the weights.
				for try := 0; try < 6; try++ {
					if target, ok := k.inject(f); ok {
						f.mu.Lock()
						f.Counts[k.name]++
						f.mu.Unlock()
						return k.name, target
					}
					time.Sleep(500 * time.Millisecond)
				}
				break
			}
			n -= k.weight
		}
	}
	return "", ""
}

// heal runs fn after d in a goroutine the end of the run waits for.
func (f *Injector) heal(d time.Duration, fn func()) {
	f.mu.Lock()
	f.lasting++
	f.mu.Unlock()
	f.healing.Add(1)
	go func() {
		defer f.healing.Done()
		time.Sleep(d)
		fn()
		f.mu.Lock()
		f.lasting--
		f.mu.Unlock()
	}()
}

func (f *Injector) tooManyLasting() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lasting >= 3
}

// pickController: the leader more often (70%), among running replicas.
func (f *Injector) pickController(wantUnpaused bool) *Controller {
	var running, leaders []*Controller
	for _, c := range f.s.ctls {
		if c.Running() && (!wantUnpaused || !c.Paused()) {
			running = append(running, c)
			if c.Leader() {
				leaders = append(leaders, c)
			}
		}
	}
	if len(running) == 0 {
		return nil
	}
	if len(leaders) > 0 && f.intn(10) < 7 {
		return leaders[f.intn(len(leaders))]
	}
	return running[f.intn(len(running))]
}

func (f *Injector) signalController(sig syscall.Signal) (string, bool) {
	c := f.pickController(false)
	if c == nil {
		return "", false
	}
	leader := c.Leader()
	c.Signal(sig)
	down := f.between(0.5, 5)
	f.heal(down, func() {
		c.WaitExit(20 * time.Second)
		f.s.startController(c, f.s.image)
	})
	return fmt.Sprintf("%s (leader=%t), back in %s", c.Name, leader, down.Round(100*time.Millisecond)), true
}

func (f *Injector) staleImage() (string, bool) {
	c := f.pickController(true)
	if c == nil || f.tooManyLasting() {
		return "", false
	}
	c.Signal(syscall.SIGTERM)
	f.heal(0, func() {
		c.WaitExit(20 * time.Second)
		f.s.startController(c, staleImage)
	})
	return c.Name + " restarted with --job-image " + staleImage, true
}

func (f *Injector) pauseController() (string, bool) {
	c := f.pickController(true)
	if c == nil || f.tooManyLasting() {
		return "", false
	}
	leader := c.Leader()
	d := f.between(2, 20)
	cmd := c.Current()
	c.Signal(syscall.SIGSTOP)
	f.heal(d, func() { c.ContinueIf(cmd) })
	return fmt.Sprintf("%s (leader=%t) SIGSTOP for %s", c.Name, leader, d.Round(100*time.Millisecond)), true
}

func (f *Injector) disrupt(component string, sig syscall.Signal, lo, hi float64) (string, bool) {
	if !f.s.cluster.mu.TryLock() {
		return "", false // another control-plane fault is healing
	}
	f.s.cluster.mu.Unlock()
	down := f.between(lo, hi)
	f.heal(0, func() {
		if err := f.s.cluster.Disrupt(component, sig, down); err != nil {
			f.s.logf("note: %s disruption: %v", component, err)
		}
	})
	return fmt.Sprintf("%s %s, down %s", component, strings.TrimPrefix(sig.String(), "signal "), down.Round(100*time.Millisecond)), true
}

func (f *Injector) cut(mode proxyMode) (string, bool) {
	if f.tooManyLasting() {
		return "", false
	}
	c := f.pickController(false)
	if c == nil {
		return "", false
	}
	if m, _ := c.Proxy.state(); m != proxyPass {
		return "", false
	}
	var delay time.Duration
	d := f.between(2, 20)
	what := map[proxyMode]string{proxyReset: "connections reset", proxyBlackhole: "partitioned (no bytes pass)"}[mode]
	if mode == proxyDelay {
		delay = f.between(0.1, 1.5)
		d = f.between(5, 30)
		what = fmt.Sprintf("%s per chunk", delay.Round(10*time.Millisecond))
	}
	c.Proxy.Set(mode, delay)
	f.heal(d, func() { c.Proxy.Set(proxyPass, 0) })
	return fmt.Sprintf("%s to the API server: %s for %s", c.Name, what, d.Round(100*time.Millisecond)), true
}

// runningPods: the migration pods that run now, by name.
func (f *Injector) runningPods() []corev1.Pod {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pods, err := f.s.kube.CoreV1().Pods(workNS).List(ctx, metav1.ListOptions{LabelSelector: "schemagate.dev/migration"})
	if err != nil {
		return nil
	}
	var out []corev1.Pod
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (f *Injector) killRunner(signal string) (string, bool) {
	pods := f.runningPods()
	if len(pods) == 0 {
		return "", false
	}
	p := pods[f.intn(len(pods))]
	out, err := exec.Command("docker", "ps", "-q", "--filter", "label=io.kubernetes.pod.uid="+string(p.UID),
		"--filter", "label=io.kubernetes.container.name=migrate").Output()
	ids := strings.Fields(string(out))
	if err != nil || len(ids) == 0 {
		return "", false
	}
	if err := exec.Command("docker", "kill", "--signal", signal, ids[0]).Run(); err != nil {
		return "", false
	}
	return fmt.Sprintf("pod %s container migrate SIG%s", p.Name, signal), true
}

func (f *Injector) terminateBackend() (string, bool) {
	db, err := openDB(f.s.pg.DSN("postgres"))
	if err != nil {
		return "", false
	}
	defer db.Close()
	pids, err := RunnerSessions(db)
	if err != nil || len(pids) == 0 {
		return "", false
	}
	pid := pids[f.intn(len(pids))]
	var app string
	db.QueryRow(`SELECT application_name FROM pg_stat_activity WHERE pid = $1`, pid).Scan(&app)
	if _, err := db.Exec(`SELECT pg_terminate_backend($1)`, pid); err != nil {
		return "", false
	}
	return fmt.Sprintf("backend %d (%q)", pid, app), true
}

func (f *Injector) restartPostgres() (string, bool) {
	if f.tooManyLasting() {
		return "", false
	}
	f.heal(0, func() {
		if err := f.s.pg.Restart(); err != nil {
			f.s.logf("note: %v", err)
		}
	})
	return "fast restart", true
}

func (f *Injector) deleteLease() (string, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	leases, err := f.s.kube.CoordinationV1().Leases(operatorNS).List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", false
	}
	var db []coordinationv1.Lease
	for _, l := range leases.Items {
		if strings.HasPrefix(l.Name, "sg-db-") {
			db = append(db, l)
		}
	}
	if len(db) == 0 {
		return "", false
	}
	sort.Slice(db, func(i, j int) bool { return db[i].Name < db[j].Name })
	l := db[f.intn(len(db))]
	if err := f.s.kube.CoordinationV1().Leases(operatorNS).Delete(ctx, l.Name, metav1.DeleteOptions{}); err != nil {
		return "", false
	}
	holder := ""
	if l.Spec.HolderIdentity != nil {
		holder = *l.Spec.HolderIdentity
	}
	return fmt.Sprintf("Lease %s (holder %q)", l.Name, holder), true
}

func (f *Injector) deleteJob(policy metav1.DeletionPropagation) (string, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	jobs, err := f.s.kube.BatchV1().Jobs(workNS).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=schemagate"})
	if err != nil {
		return "", false
	}
	var active []string
	for _, j := range jobs.Items {
		if j.Status.Active > 0 && j.DeletionTimestamp == nil {
			active = append(active, j.Name)
		}
	}
	if len(active) == 0 {
		return "", false
	}
	sort.Strings(active)
	name := active[f.intn(len(active))]
	if err := f.s.kube.BatchV1().Jobs(workNS).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &policy}); err != nil {
		return "", false
	}
	return fmt.Sprintf("Job %s (propagation %s)", name, policy), true
}

func (f *Injector) recreateSM() (string, bool) {
	if f.tooManyLasting() {
		return "", false
	}
	sms := f.s.work.AllSMs()
	name := sms[f.intn(len(sms))]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	obj, err := f.s.dyn.Resource(smGVR).Namespace(workNS).Get(ctx, name, metav1.GetOptions{})
	if err != nil || obj.GetDeletionTimestamp() != nil {
		return "", false // gone or going already (another sm-recreate)
	}
	uid := obj.GetUID()
	if err := f.s.dyn.Resource(smGVR).Namespace(workNS).Delete(ctx, name, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &uid}}); err != nil {
		return "", false
	}
	f.heal(0, func() {
		// Deleted once the controller has let go (its finalizer); then the
		// same object again, as a GitOps tool would re-apply it. The wait is
		// bounded only by the convergence bound: a deletion that never ends
		// shows there as a SchemaMigration that is not Ready.
		deleted := time.Now()
		deadline := deleted.Add(15 * time.Minute)
		for time.Now().Before(deadline) {
			cur, err := f.s.dyn.Resource(smGVR).Namespace(workNS).Get(context.Background(), name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) || (err == nil && cur.GetUID() != uid) {
				break // gone (or already re-created by someone else)
			}
			time.Sleep(500 * time.Millisecond)
		}
		f.s.logf("sm-recreate: %s was gone %s after its deletion", name, time.Since(deleted).Round(100*time.Millisecond))
		for time.Now().Before(deadline) {
			err := f.s.work.CreateSM(context.Background(), f.s.work.SetOf(name), name)
			if err == nil || apierrors.IsAlreadyExists(err) {
				return
			}
			time.Sleep(500 * time.Millisecond)
		}
		f.s.logf("note: SchemaMigration %s was not re-created", name)
	})
	return "SchemaMigration " + name + " deleted, re-created once gone", true
}
