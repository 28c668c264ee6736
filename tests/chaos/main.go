// Command chaos is the chaos suite (run it through scripts/chaos.sh): two
// `schemagate controller` replicas on a cluster of the suite's own, a
// workload of databases shared by several SchemaMigrations on a throw-away
// PostgreSQL, and faults injected at random from a printed seed. The
// verdict comes from the database's own records (check.go), not from the
// controller's view of itself. The last line is always
//
//	chaos: <N> faults, <V> violations, seed <S>
//
// and the exit status is non-zero when V > 0.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

const staleImage = "schemagate:chaos-stale"

type Suite struct {
	root, runDir, bin, image string
	cluster                  *Cluster
	pg                       *Postgres
	ctls                     []*Controller
	kube                     kubernetes.Interface
	dyn                      dynamic.Interface
	work                     *Workload
	start                    time.Time
	logMu                    sync.Mutex
	password                 string
}

func (s *Suite) logf(format string, args ...interface{}) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	fmt.Printf("chaos: +%6.1fs %s\n", time.Since(s.start).Seconds(), fmt.Sprintf(format, args...))
}

func (s *Suite) startController(c *Controller, image string) {
	if c.Running() {
		return
	}
	for attempt := 0; attempt < 5; attempt++ {
		if err := c.Start(image); err == nil {
			return
		}
		time.Sleep(time.Second)
	}
	s.logf("note: could not start %s", c.Name)
}

func main() {
	faults := flag.Int("faults", 100, "faults to inject")
	seed := flag.Int64("seed", 0, "seed (0: from the clock; printed either way)")
	minutes := flag.Float64("minutes", 0, "minutes to spread the faults over (default: 3.6 s per fault)")
	databases := flag.Int("databases", 3, "databases, each shared by 3 SchemaMigrations")
	convergeTimeout := flag.Duration("converge-timeout", 8*time.Minute, "bound on convergence after the last fault")
	root := flag.String("root", ".", "the schemagate checkout")
	bin := flag.String("schemagate", "build/schemagate", "the schemagate binary for the controller replicas")
	image := flag.String("image", "schemagate:dev", "the runner image for Jobs")
	runDir := flag.String("run-dir", "", "state directory (default: a new one under /tmp; kept when a violation is found)")
	flag.Parse()
	if *seed == 0 {
		*seed = time.Now().UnixNano() % 1_000_000_007
	}
	if *minutes == 0 {
		*minutes = float64(*faults) * 3.6 / 60
	}
	s := &Suite{root: *root, bin: *bin, image: *image, start: time.Now(),
		password: fmt.Sprintf("chaos-pw-%d:/@?#%%20'\" é", rand.New(rand.NewSource(*seed)).Int63())}
	s.runDir = *runDir
	if s.runDir == "" {
		s.runDir, _ = os.MkdirTemp("", "sg-chaos-")
	}
	os.Chmod(s.runDir, 0o755) // the postgres account reaches its data directory through it
	fmt.Printf("chaos: seed %d (--seed %d replays the same faults), %d faults over %.1f min, state in %s\n",
		*seed, *seed, *faults, *minutes, s.runDir)
	violations, injected := s.run(*seed, *faults, *minutes, *databases, *convergeTimeout)
	for _, v := range violations {
		fmt.Println("chaos: VIOLATION " + v)
	}
	if len(violations) > 0 {
		fmt.Printf("chaos: evidence kept in %s (controller logs, audit.tsv, tracking.tsv, timeline)\n", s.runDir)
	}
	fmt.Printf("chaos: %d faults, %d violations, seed %d\n", injected, len(violations), *seed)
	if len(violations) > 0 {
		os.Exit(1)
	}
	os.RemoveAll(s.runDir)
}

func (s *Suite) fatal(format string, args ...interface{}) []string {
	return []string{"setup: " + fmt.Sprintf(format, args...)}
}

func (s *Suite) run(seed int64, faults int, minutes float64, databases int, convergeTimeout time.Duration) ([]string, int) {
	// Setup: the cluster, PostgreSQL, the CRD, the workload, two replicas.
	s.cluster = NewCluster(s.root, filepath.Join(s.runDir, "cluster"))
	s.logf("starting a cluster of the suite's own in %s", s.cluster.run)
	if err := s.cluster.Up(); err != nil {
		return s.fatal("%v", err), 0
	}
	defer s.cluster.Down()
	pgDir := filepath.Join(s.runDir, "pg")
	os.MkdirAll(pgDir, 0o755)
	pg, err := StartPostgres(pgDir)
	if err != nil {
		return s.fatal("%v", err), 0
	}
	s.pg = pg
	defer pg.Stop()
	if out, err := exec.Command("docker", "tag", s.image, staleImage).CombinedOutput(); err != nil {
		return s.fatal("docker tag %s: %v %s", s.image, err, out), 0
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", s.cluster.Kubeconfig())
	if err != nil {
		return s.fatal("%v", err), 0
	}
	cfg.QPS, cfg.Burst = 50, 100
	s.kube = kubernetes.NewForConfigOrDie(cfg)
	s.dyn = dynamic.NewForConfigOrDie(cfg)
	kubectl := filepath.Join(filepath.Dir(s.clusterBin()), "kubectl")
	if out, err := exec.Command(kubectl, "--kubeconfig", s.cluster.Kubeconfig(), "apply", "-f", filepath.Join(s.root, "crds")).CombinedOutput(); err != nil {
		return s.fatal("apply CRD: %v %s", err, out), 0
	}
	exec.Command(kubectl, "--kubeconfig", s.cluster.Kubeconfig(), "wait", "--for=condition=Established",
		"crd/schemamigrations.schemagate.dev", "--timeout=60s").Run()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	s.work = &Workload{kube: s.kube, dyn: s.dyn, pg: pg, password: s.password, rng: rand.New(rand.NewSource(seed + 1))}
	if err := s.work.Setup(ctx, databases); err != nil {
		return s.fatal("workload: %v", err), 0
	}
	for i, name := range []string{"replica-a", "replica-b"} {
		p, err := NewProxy(s.cluster.APIAddr())
		if err != nil {
			return s.fatal("%v", err), 0
		}
		defer p.Close()
		kc := filepath.Join(s.runDir, name+".kubeconfig")
		admin, _ := os.ReadFile(s.cluster.Kubeconfig())
		os.WriteFile(kc, []byte(strings.ReplaceAll(string(admin), s.cluster.APIAddr(), p.Addr())), 0o600)
		port := 28180 + i
		for portBusy(port) {
			port += 10
		}
		c := &Controller{Name: name, bin: s.bin, Proxy: p, LogPath: filepath.Join(s.runDir, name+".log"),
			Metrics: fmt.Sprintf("http://127.0.0.1:%d", port),
			args: []string{"--kubeconfig", kc, "--namespace", operatorNS, "--namespaces", workNS,
				"--metrics-addr", fmt.Sprintf("127.0.0.1:%d", port), "--recheck-interval", "90s"}}
		c.OnExit = func() {
			time.Sleep(2 * time.Second) // the kubelet's restart, without its back-off
			s.startController(c, s.image)
		}
		s.ctls = append(s.ctls, c)
		s.startController(c, s.image)
	}
	defer func() {
		for _, c := range s.ctls {
			c.mu.Lock()
			c.OnExit = nil
			c.mu.Unlock()
			c.Signal(syscall.SIGKILL)
			c.WaitExit(10 * time.Second)
		}
	}()
	sampler := &Sampler{}
	sampleCtx, stopSampling := context.WithCancel(ctx)
	go sampler.Run(sampleCtx, pg.DSN("postgres"))
	s.logf("workload: %d databases, %d SchemaMigrations; waiting for the first Ready", databases, len(s.work.AllSMs()))
	if _, missing := s.converge(3*time.Minute, nil); len(missing) > 0 {
		stopSampling()
		return append(s.fatal("the workload never became Ready before any fault"), missing...), 0
	}

	// Faults, while the sets grow.
	inj := &Injector{s: s, rng: rand.New(rand.NewSource(seed)), Counts: map[string]int{}, Repairs: map[string]bool{}}
	growCtx, stopGrowing := context.WithCancel(ctx)
	var growing sync.WaitGroup
	growing.Add(1)
	go func() {
		defer growing.Done()
		rng := rand.New(rand.NewSource(seed + 2))
		for {
			select {
			case <-growCtx.Done():
				return
			case <-time.After(time.Duration(2000+rng.Intn(5000)) * time.Millisecond):
			}
			if what, err := s.work.Grow(growCtx); err == nil {
				s.logf("grow    %s", what)
			}
		}
	}()
	// Faults at times drawn up front (exponential gaps, so the run lasts
	// about --minutes even when a kind waits for a target).
	mean := time.Duration(minutes * 60 / float64(faults) * float64(time.Second))
	injected := 0
	next := time.Now()
	for injected < faults {
		gap := time.Duration(inj.rng.ExpFloat64() * float64(mean))
		if gap > 3*mean {
			gap = 3 * mean
		}
		next = next.Add(gap)
		if wait := time.Until(next); wait > 0 {
			time.Sleep(wait)
		} else {
			time.Sleep(200 * time.Millisecond)
		}
		kind, target := inj.Inject()
		if kind == "" {
			continue
		}
		injected++
		s.logf("fault %4d %-20s %s", injected, kind, target)
	}
	stopGrowing()
	growing.Wait()
	s.logf("last fault injected; healing")
	inj.healing.Wait()
	for _, c := range s.ctls {
		c.Proxy.Set(proxyPass, 0)
		if c.Paused() {
			c.Signal(syscall.SIGCONT)
		}
		if !c.Running() {
			s.startController(c, s.image)
		}
	}
	if err := s.cluster.Up(); err != nil {
		s.logf("note: %v", err)
	}
	healed := time.Now()
	s.logf("every fault healed; waiting for convergence (bound %s)", convergeTimeout)
	times, missing := s.converge(convergeTimeout, inj)
	stopSampling()

	var violations []string
	violations = append(violations, missing...)
	violations = append(violations, s.checkDatabases(inj)...)
	violations = append(violations, sampler.Violations()...)
	for _, c := range s.ctls {
		c.mu.Lock()
		violations = append(violations, c.Crashes...)
		c.mu.Unlock()
	}
	violations = append(violations, s.scanSecrets()...)
	s.report(inj, times, healed, sampler)
	return violations, injected
}

func (s *Suite) clusterBin() string {
	out, _ := exec.Command("bash", "-c", "source "+filepath.Join(s.root, "scripts/cluster-env.sh")+` && echo "$CLUSTER_BIN/kube-apiserver"`).Output()
	return strings.TrimSpace(string(out))
}

func (s *Suite) report(inj *Injector, times []time.Duration, healed time.Time, sampler *Sampler) {
	var kinds []string
	for k := range inj.Counts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	fmt.Println("chaos: faults by kind")
	for _, k := range kinds {
		fmt.Printf("chaos:   %-22s %4d\n", k, inj.Counts[k])
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	if len(times) > 0 {
		p := func(q float64) time.Duration { return times[int(q*float64(len(times)-1)+0.5)] }
		fmt.Printf("chaos: convergence after the last fault healed: p50 %s, p99 %s, max %s over %d SchemaMigrations\n",
			p(0.5).Round(100*time.Millisecond), p(0.99).Round(100*time.Millisecond), times[len(times)-1].Round(100*time.Millisecond), len(times))
	}
	restarts, lost := 0, 0
	for _, c := range s.ctls {
		c.mu.Lock()
		restarts += c.Restarts - 1
		lost += c.LostLeadership
		c.mu.Unlock()
	}
	fmt.Printf("chaos: %d repairs of interrupted no-transaction migrations, %d controller restarts (%d after an exit on lost leadership), %d session samples (at most %d runner sessions on one database at once)\n",
		len(inj.Repairs), restarts, lost, sampler.Samples, sampler.MaxAtOnce)
	fmt.Printf("chaos: total %s\n", time.Since(s.start).Round(time.Second))
}
