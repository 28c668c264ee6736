package main

// The system under test and its surroundings, all started (and stopped, by
// PID) by the suite: a cluster of its own (scripts/cluster.sh with its own
// CLUSTER_RUN), a throw-away PostgreSQL on loopback, and the controller
// replicas, each behind its own Proxy to the API server.

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Cluster wraps scripts/cluster.sh for a run directory of the suite's own.
type Cluster struct {
	root, run string
	env       []string
	apiPort   int
	mu        sync.Mutex // one control-plane fault (or `up`) at a time
}

func NewCluster(root, run string) *Cluster {
	return &Cluster{root: root, run: run, env: append(os.Environ(),
		"CLUSTER_RUN="+run,
		// Another pod prefix and other ports than the shared cluster's.
		"SG_AGENT_ARGS=--pod-cidr=127.3.0.0/16",
		"SG_ETCD_PORT=24790", "SG_ETCD_PEER_PORT=24800", "SG_API_PORT=17443")}
}

func (c *Cluster) script(args ...string) (string, error) {
	cmd := exec.Command("bash", append([]string{filepath.Join(c.root, "scripts/cluster.sh")}, args...)...)
	cmd.Env = c.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("cluster.sh %s: %v\n%s", strings.Join(args, " "), err, tail(string(out), 20))
	}
	return string(out), nil
}

func (c *Cluster) Up() error {
	if _, err := c.script("up"); err != nil {
		return err
	}
	ports, err := os.ReadFile(filepath.Join(c.run, "ports.env"))
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(ports), "\n") {
		if v, ok := strings.CutPrefix(line, "API_PORT="); ok {
			c.apiPort, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if c.apiPort == 0 {
		return fmt.Errorf("no API_PORT in %s/ports.env", c.run)
	}
	return nil
}

func (c *Cluster) Down() { c.script("down") }

func (c *Cluster) Kubeconfig() string { return filepath.Join(c.run, "admin.kubeconfig") }
func (c *Cluster) APIAddr() string    { return fmt.Sprintf("127.0.0.1:%d", c.apiPort) }

func (c *Cluster) Pid(component string) (int, error) {
	out, err := c.script("pid", component)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(lastLine(out)))
}

// Disrupt signals a control-plane component, keeps it down for `down`, and
// starts it again with `up`, which waits until the cluster is usable.
func (c *Cluster) Disrupt(component string, sig syscall.Signal, down time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	pid, err := c.Pid(component)
	if err != nil {
		return err
	}
	syscall.Kill(pid, sig)
	if !waitGone(pid, 30*time.Second) {
		syscall.Kill(pid, syscall.SIGKILL)
		waitGone(pid, 10*time.Second)
	}
	time.Sleep(down)
	_, err = c.script("up")
	return err
}

// Postgres is a throw-away server: trust for 127.0.0.1 (the URLs the
// SchemaMigrations get still carry a password, which must stay unseen),
// commit timestamps on (the checker orders commits by them).
type Postgres struct {
	dir, bin string
	Port     int
	asUser   []string
}

func StartPostgres(dir string) (*Postgres, error) {
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		return nil, fmt.Errorf("PostgreSQL server binaries not found (scripts/setup.sh installs them)")
	}
	p := &Postgres{dir: dir, bin: filepath.Dir(bins[len(bins)-1])}
	if os.Geteuid() == 0 {
		p.asUser = []string{"runuser", "-u", "postgres", "--"}
		exec.Command("chown", "postgres:", dir).Run()
	}
	if out, err := p.run(filepath.Join(p.bin, "initdb"), "-D", dir+"/data", "-U", "postgres",
		"--auth=trust", "-N"); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	for port := 26432; port < 26532; port++ {
		if portBusy(port) {
			continue
		}
		p.Port = port
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c track_commit_timestamp=on "+
			"-c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off", port, dir)
		if _, err := p.run(filepath.Join(p.bin, "pg_ctl"), "-D", dir+"/data", "-l", dir+"/server.log",
			"-w", "-t", "60", "-o", opts, "start"); err == nil {
			return p, nil
		}
	}
	return nil, fmt.Errorf("postgres did not start: %s", tail(readFile(dir+"/server.log"), 20))
}

func (p *Postgres) run(args ...string) (string, error) {
	all := append(append([]string{}, p.asUser...), args...)
	out, err := exec.Command(all[0], all[1:]...).CombinedOutput()
	return string(out), err
}

// Restart is a fast restart: every session is cut, in-flight transactions
// roll back; pg_ctl keeps the options it was started with.
func (p *Postgres) Restart() error {
	// -l: the new postmaster must not inherit our pipe (we would wait for it).
	out, err := p.run(filepath.Join(p.bin, "pg_ctl"), "-D", p.dir+"/data", "-l", p.dir+"/server.log",
		"-m", "fast", "-w", "-t", "60", "restart")
	if err != nil {
		return fmt.Errorf("pg_ctl restart: %v: %s", err, out)
	}
	return nil
}

func (p *Postgres) Stop() {
	p.run(filepath.Join(p.bin, "pg_ctl"), "-D", p.dir+"/data", "-m", "immediate", "stop")
}

// URL as a SchemaMigration's Secret holds it (with the password).
func (p *Postgres) URL(db, password string) string {
	return fmt.Sprintf("postgresql://%s@127.0.0.1:%d/%s?sslmode=disable",
		url.UserPassword("postgres", password).String(), p.Port, db)
}

// DSN for the suite's own connections (no password needed: trust).
func (p *Postgres) DSN(db string) string {
	return fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=%s sslmode=disable connect_timeout=5", p.Port, db)
}

// Controller is one `schemagate controller` replica, a process of the suite.
type Controller struct {
	Name    string
	bin     string
	args    []string
	Proxy   *Proxy
	LogPath string
	Metrics string

	mu       sync.Mutex
	cmd      *exec.Cmd
	expected bool // the suite stopped it (a kill is not a crash)
	stopped  bool // SIGSTOPped
	Crashes  []string
	Restarts int
	// Exits after losing leadership: by design (as controller-runtime's
	// managers do), the pod's restart policy brings it back; so does the
	// suite, playing the kubelet.
	LostLeadership int
	OnExit         func() // called after an exit the suite did not cause
	done           chan struct{}
}

// Start starts the replica unless it runs already (two heals of one fault
// sequence may both try).
func (c *Controller) Start(image string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd != nil && !c.exited() {
		return nil
	}
	log, err := os.OpenFile(c.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	args := append(append([]string{"controller"}, c.args...), "--job-image", image)
	cmd := exec.Command(c.bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return err
	}
	// For scripts/chaos.sh to end it by PID should the suite itself die.
	os.WriteFile(c.LogPath+".pid", []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
	c.cmd, c.expected, c.stopped = cmd, false, false
	c.Restarts++
	done := make(chan struct{})
	c.done = done
	go func() {
		err := cmd.Wait()
		log.Close()
		c.mu.Lock()
		unexpected := !c.expected && c.cmd == cmd
		if unexpected {
			if strings.Contains(tail(readFile(c.LogPath), 3), "lost leadership") {
				c.LostLeadership++
			} else {
				c.Crashes = append(c.Crashes, fmt.Sprintf("crash: %s exited by itself (%v); its log ends: %s",
					c.Name, err, tail(readFile(c.LogPath), 3)))
			}
		}
		onExit := c.OnExit
		c.mu.Unlock()
		close(done)
		if unexpected && onExit != nil {
			onExit()
		}
	}()
	return nil
}

// Signal sends sig to a running replica; a terminating one is expected to go.
func (c *Controller) Signal(sig syscall.Signal) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil || c.cmd.Process == nil || c.exited() {
		return false
	}
	switch sig {
	case syscall.SIGKILL, syscall.SIGTERM:
		c.expected = true
		if c.stopped {
			c.cmd.Process.Signal(syscall.SIGCONT)
		}
	case syscall.SIGSTOP:
		c.stopped = true
	case syscall.SIGCONT:
		c.stopped = false
	}
	return c.cmd.Process.Signal(sig) == nil
}

func (c *Controller) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func (c *Controller) Running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cmd != nil && !c.exited()
}

func (c *Controller) Paused() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopped && c.cmd != nil && !c.exited()
}

// Current identifies the running process, for a heal that must act on the
// process its fault hit and not on a later one.
func (c *Controller) Current() *exec.Cmd {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cmd
}

// ContinueIf sends SIGCONT if cmd is still the running process.
func (c *Controller) ContinueIf(cmd *exec.Cmd) {
	c.mu.Lock()
	same := c.cmd == cmd
	c.mu.Unlock()
	if same {
		c.Signal(syscall.SIGCONT)
	}
}

// WaitExit waits for the current process to end (after a kill).
func (c *Controller) WaitExit(d time.Duration) bool {
	c.mu.Lock()
	done := c.done
	c.mu.Unlock()
	if done == nil {
		return true
	}
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// Leader reads /metrics: is this replica leading now?
func (c *Controller) Leader() bool {
	cl := http.Client{Timeout: 500 * time.Millisecond}
	resp, err := cl.Get(c.Metrics + "/metrics")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if sc.Text() == "schemagate_leader 1" {
			return true
		}
	}
	return false
}

func portBusy(port int) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
	if err == nil {
		c.Close()
		return true
	}
	return false
}

func waitGone(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil {
			return true
		}
		if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
			if i := strings.LastIndexByte(string(st), ')'); i > 0 && i+2 < len(st) && st[i+2] == 'Z' {
				return true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func lastLine(s string) string { return tail(s, 1) }
