package agent

// podworker.go owns one pod on this node: it materialises volumes, runs init
// containers in order and then the app containers through Docker, applies
// the restart policy with the kubelet's crash-loop back-off, honours
// activeDeadlineSeconds and deletion, and reports status (status.go).
// A worker is driven by its own goroutine; nothing in it is shared.

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
)

const (
	labelUID       = "io.kubernetes.pod.uid"
	labelPod       = "io.kubernetes.pod.name"
	labelNamespace = "io.kubernetes.pod.namespace"
	labelContainer = "io.kubernetes.container.name"
	labelAttempt   = "dev.schemagate.node-agent.attempt"
	labelKind      = "dev.schemagate.node-agent.kind"
	// The agent's state directory: one value per cluster, so that two local
	// clusters on one Docker Engine never collect each other's containers.
	labelStateDir = "dev.schemagate.node-agent.state-dir"

	maxTerminationMessage = 4096 // the kubelet's per-container limit
	fallbackLogLines      = 80
	fallbackLogBytes      = 2048
	initialBackoff        = 10 * time.Second
	maxBackoff            = 300 * time.Second
)

// ctr is the runtime view of one container of the pod.
type ctr struct {
	spec       *v1.Container
	init       bool
	attempt    int // docker attempt index; equals restartCount
	id         string
	imageID    string
	st         *dockerState
	term       *v1.ContainerStateTerminated // current attempt, once exited
	prev       *v1.ContainerStateTerminated // previous attempt
	waitReason string
	waitMsg    string
	backoff    time.Duration
	nextStart  time.Time
	readiness  *probeState
	liveness   *probeState
	startup    *probeState
	pulledOnce bool
}

func (c *ctr) running() bool   { return c.st != nil && c.st.Running }
func (c *ctr) exited() bool    { return c.term != nil }
func (c *ctr) succeeded() bool { return c.term != nil && c.term.ExitCode == 0 }

type podWorker struct {
	a   *Agent
	uid types.UID
	dir string

	mu      sync.Mutex
	latest  *v1.Pod
	wake    chan struct{}
	stopped chan struct{}

	pod        *v1.Pod
	containers []*ctr // init containers first, in spec order
	volumes    map[string]*volumeState
	volErr     error
	startTime  time.Time
	terminal   v1.PodPhase // set once the pod reached Succeeded/Failed
	reason     string      // pod-level reason (DeadlineExceeded)
	message    string
	deleteSent bool
	quiet      bool // terminal and reported; skip polling Docker
	written    *v1.PodStatus
	events     map[string]time.Time
}

func newPodWorker(a *Agent, pod *v1.Pod) *podWorker {
	w := &podWorker{
		a: a, uid: pod.UID, dir: filepath.Join(a.cfg.StateDir, "pods", string(pod.UID)),
		latest: pod, wake: make(chan struct{}, 1), stopped: make(chan struct{}),
		volumes: map[string]*volumeState{}, events: map[string]time.Time{},
	}
	w.pod = pod
	for i := range pod.Spec.InitContainers {
		w.containers = append(w.containers, newCtr(&pod.Spec.InitContainers[i], true))
	}
	for i := range pod.Spec.Containers {
		w.containers = append(w.containers, newCtr(&pod.Spec.Containers[i], false))
	}
	return w
}

func newCtr(spec *v1.Container, init bool) *ctr {
	c := &ctr{spec: spec, init: init}
	c.resetProbes()
	return c
}

func (c *ctr) resetProbes() {
	if c.init {
		return
	}
	c.readiness = newProbe(c.spec.ReadinessProbe, false)
	c.liveness = newProbe(c.spec.LivenessProbe, true)
	c.startup = newProbe(c.spec.StartupProbe, false)
}

// update hands the worker a newer version of its pod.
func (w *podWorker) update(pod *v1.Pod) {
	w.mu.Lock()
	w.latest = pod
	w.mu.Unlock()
	w.poke()
}

func (w *podWorker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *podWorker) run(ctx context.Context) {
	defer close(w.stopped)
	if err := os.MkdirAll(w.dir, 0o755); err != nil {
		klog.Errorf("pod %s: %v", w.uid, err)
	}
	w.adopt(ctx)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		w.mu.Lock()
		w.pod = w.latest
		w.mu.Unlock()
		w.sync(ctx)
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-t.C:
		}
	}
}

func (w *podWorker) event(typ, reason, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	key := reason + "\x00" + msg
	if last, ok := w.events[key]; ok && time.Since(last) < 30*time.Second {
		return
	}
	w.events[key] = time.Now()
	w.a.recorder.Event(w.pod, typ, reason, msg)
}

func (w *podWorker) grace() int64 {
	if w.pod.DeletionGracePeriodSeconds != nil {
		return *w.pod.DeletionGracePeriodSeconds
	}
	if w.pod.Spec.TerminationGracePeriodSeconds != nil {
		return *w.pod.Spec.TerminationGracePeriodSeconds
	}
	return 30
}

// adopt picks up containers an earlier agent process started for this pod.
func (w *podWorker) adopt(ctx context.Context) {
	ids, err := w.a.docker.List(ctx, labelUID, string(w.uid))
	if err != nil || len(ids) == 0 {
		return
	}
	states, err := w.a.docker.Inspect(ctx, ids...)
	if err != nil {
		return
	}
	for _, c := range w.containers {
		kind := "main"
		if c.init {
			kind = "init"
		}
		best, bestAttempt := (*dockerState)(nil), -1
		for _, s := range states {
			if s.Labels[labelContainer] != c.spec.Name || s.Labels[labelKind] != kind {
				continue
			}
			n, _ := strconv.Atoi(s.Labels[labelAttempt])
			if n > bestAttempt {
				s := s
				best, bestAttempt = &s, n
			}
		}
		if best != nil {
			c.attempt, c.id, c.imageID = bestAttempt, best.ID, best.Image
			if best.Running {
				go w.watchExit(ctx, best.ID)
			}
		}
	}
}

func (w *podWorker) watchExit(ctx context.Context, id string) {
	w.a.docker.Wait(ctx, id)
	w.poke()
}

// refresh re-inspects the current containers and records exits.
func (w *podWorker) refresh(ctx context.Context) {
	var ids []string
	for _, c := range w.containers {
		if c.id != "" {
			ids = append(ids, c.id)
		}
	}
	states, err := w.a.docker.Inspect(ctx, ids...)
	if err != nil {
		klog.Warningf("pod %s: inspect: %v", w.uid, err)
		return
	}
	for _, c := range w.containers {
		if c.id == "" {
			continue
		}
		s, ok := states[c.id]
		if !ok {
			// Removed behind our back: report it like a lost container.
			if c.term == nil {
				c.term = &v1.ContainerStateTerminated{ExitCode: 137, Reason: "ContainerStatusUnknown",
					Message: "The container could not be located when the pod was terminated", ContainerID: "docker://" + c.id}
			}
			c.st = nil
			continue
		}
		c.st = &s
		if (s.Status == "exited" || s.Status == "dead") && c.term == nil {
			c.term = w.terminated(ctx, c, &s)
			if c.term.ExitCode != 0 {
				klog.Infof("pod %s/%s container %s exited %d (%s)", w.pod.Namespace, w.pod.Name, c.spec.Name, c.term.ExitCode, c.term.Reason)
			}
		}
	}
}

// terminated builds the terminated state, including the termination message.
func (w *podWorker) terminated(ctx context.Context, c *ctr, s *dockerState) *v1.ContainerStateTerminated {
	t := &v1.ContainerStateTerminated{
		ExitCode: int32(s.Exit), StartedAt: metav1.NewTime(s.Started), FinishedAt: metav1.NewTime(s.Ended),
		ContainerID: "docker://" + s.ID,
	}
	switch {
	case s.OOM:
		t.Reason = "OOMKilled"
	case s.Started.IsZero() && s.Error != "":
		t.Reason = "StartError"
	case s.Exit == 0:
		t.Reason = "Completed"
	default:
		t.Reason = "Error"
	}
	msg := ""
	if f, err := os.Open(w.termLogPath(c, c.attempt)); err == nil {
		b, _ := io.ReadAll(io.LimitReader(f, maxTerminationMessage))
		f.Close()
		msg = string(b)
	}
	if msg == "" && t.Reason == "StartError" {
		msg = s.Error
	}
	if msg == "" && s.Exit != 0 && c.spec.TerminationMessagePolicy == v1.TerminationMessageFallbackToLogsOnError {
		logs, _ := w.a.docker.Logs(ctx, s.ID, fallbackLogLines)
		if len(logs) > fallbackLogBytes {
			logs = logs[len(logs)-fallbackLogBytes:]
		}
		msg = logs
	}
	t.Message = msg
	return t
}

func (w *podWorker) termLogPath(c *ctr, attempt int) string {
	kind := "c"
	if c.init {
		kind = "i"
	}
	return filepath.Join(w.dir, "containers", fmt.Sprintf("%s-%s-%d.termination-log", kind, c.spec.Name, attempt))
}

func (w *podWorker) stopContainer(ctx context.Context, c *ctr, grace int64) {
	if c.id == "" || !c.running() {
		return
	}
	if err := w.a.docker.Stop(ctx, c.id, grace); err != nil {
		klog.Warningf("pod %s: stop %s: %v", w.uid, c.spec.Name, err)
	}
}

func (w *podWorker) killAll(ctx context.Context, grace int64, why string) {
	var wg sync.WaitGroup
	for _, c := range w.containers {
		if c.running() {
			w.event(v1.EventTypeNormal, "Killing", "Stopping container %s%s", c.spec.Name, why)
			wg.Add(1)
			go func(c *ctr) { defer wg.Done(); w.stopContainer(ctx, c, grace) }(c)
		}
	}
	wg.Wait()
	w.refresh(ctx)
}

// shouldRestart applies the restart policy to an exited container.
func (w *podWorker) shouldRestart(c *ctr) bool {
	if c.term == nil {
		return false
	}
	switch w.pod.Spec.RestartPolicy {
	case v1.RestartPolicyAlways:
		return !c.init || c.term.ExitCode != 0
	case v1.RestartPolicyOnFailure:
		return c.term.ExitCode != 0
	}
	return false
}

// scheduleRestart arms the crash-loop back-off after an exit.
func (w *podWorker) scheduleRestart(c *ctr) {
	if !c.nextStart.IsZero() {
		return
	}
	ran := c.term.FinishedAt.Sub(c.term.StartedAt.Time)
	switch {
	case c.backoff == 0 || ran > 10*time.Minute:
		c.backoff = initialBackoff
	default:
		c.backoff *= 2
		if c.backoff > maxBackoff {
			c.backoff = maxBackoff
		}
	}
	c.nextStart = time.Now().Add(c.backoff)
	w.event(v1.EventTypeWarning, "BackOff", "Back-off restarting failed container %s in pod %s_%s(%s)", c.spec.Name, w.pod.Name, w.pod.Namespace, w.uid)
}

// advance starts or restarts c when due; it returns false while c blocks
// the containers after it (init containers only).
func (w *podWorker) advance(ctx context.Context, c *ctr) {
	if c.running() {
		w.probe(ctx, c)
		return
	}
	if c.id != "" && c.term == nil {
		return // created, state pending
	}
	if c.exited() {
		if !w.shouldRestart(c) {
			return
		}
		w.scheduleRestart(c)
		if time.Now().Before(c.nextStart) {
			c.waitReason = "CrashLoopBackOff"
			c.waitMsg = fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", c.backoff, c.spec.Name, w.pod.Name, w.pod.Namespace, w.uid)
			return
		}
	}
	w.start(ctx, c)
}

// sync is one reconcile pass of the pod.
func (w *podWorker) sync(ctx context.Context) {
	pod := w.pod
	if w.startTime.IsZero() {
		if pod.Status.StartTime != nil {
			w.startTime = pod.Status.StartTime.Time
		} else {
			w.startTime = time.Now()
		}
	}
	if w.terminal == "" && (pod.Status.Phase == v1.PodSucceeded || pod.Status.Phase == v1.PodFailed) {
		w.terminal = pod.Status.Phase // reported by an earlier agent process
	}
	if w.quiet && pod.DeletionTimestamp == nil {
		return // terminal, stopped and reported: nothing to do until deletion
	}
	w.refresh(ctx)

	if pod.DeletionTimestamp != nil {
		w.killAll(ctx, w.grace(), "")
		if w.terminal == "" {
			w.terminal = w.finalPhase()
		}
		w.writeStatus(ctx)
		if !w.deleteSent {
			zero := int64(0)
			err := w.a.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
				GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &w.uid}})
			if err == nil || apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
				w.deleteSent = true
			} else {
				klog.Warningf("pod %s/%s: delete: %v", pod.Namespace, pod.Name, err)
			}
		}
		return
	}
	if w.terminal != "" {
		w.killAll(ctx, 0, "")
		// Quiet only once the terminal status is in the API server: an
		// earlier status written before the container ended does not count.
		w.quiet = w.writeStatus(ctx)
		return
	}
	if ads := pod.Spec.ActiveDeadlineSeconds; ads != nil && time.Since(w.startTime) >= time.Duration(*ads)*time.Second {
		w.event(v1.EventTypeNormal, "DeadlineExceeded", "Pod was active on the node longer than the specified deadline")
		w.killAll(ctx, w.grace(), "")
		w.terminal, w.reason, w.message = v1.PodFailed, "DeadlineExceeded", "Pod was active on the node longer than the specified deadline"
		w.writeStatus(ctx)
		return
	}
	if err := w.syncVolumes(ctx); err != nil {
		w.volErr = err
		w.event(v1.EventTypeWarning, "FailedMount", "%v", err)
		w.writeStatus(ctx)
		return
	}
	w.volErr = nil

	initDone := true
	for _, c := range w.containers {
		if !c.init {
			continue
		}
		if c.succeeded() {
			continue
		}
		initDone = false
		w.advance(ctx, c)
		break
	}
	if initDone {
		for _, c := range w.containers {
			if !c.init {
				w.advance(ctx, c)
			}
		}
	}
	if phase := w.phase(); phase == v1.PodSucceeded || phase == v1.PodFailed {
		w.terminal = phase
	}
	w.writeStatus(ctx)
}

// finalPhase is the phase of a pod stopped because it is being deleted.
func (w *podWorker) finalPhase() v1.PodPhase {
	for _, c := range w.containers {
		if !c.succeeded() {
			return v1.PodFailed
		}
	}
	return v1.PodSucceeded
}

// cleanup removes the pod's containers and files once it is gone.
func (w *podWorker) cleanup(ctx context.Context) {
	ids, _ := w.a.docker.List(ctx, labelUID, string(w.uid))
	if err := w.a.docker.Remove(ctx, ids...); err != nil {
		klog.Warningf("pod %s: remove containers: %v", w.uid, err)
	}
	_ = os.RemoveAll(w.dir)
}

func podRef(p *v1.Pod) string { return fmt.Sprintf("%s_%s(%s)", p.Name, p.Namespace, p.UID) }

func shortName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_' {
			return r
		}
		return '-'
	}, s)
}
