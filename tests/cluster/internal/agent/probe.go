package agent

// probe.go runs readiness, liveness and startup probes (exec through
// `docker exec`, httpGet and tcpSocket against the pod IP, a loopback
// address of its own: podip.go).

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/klog/v2"
)

// probeState tracks one probe of one container attempt.
type probeState struct {
	probe   *v1.Probe
	result  bool
	succ    int
	fail    int
	lastRun time.Time
}

func newProbe(p *v1.Probe, initial bool) *probeState {
	if p == nil {
		return nil
	}
	return &probeState{probe: p, result: initial}
}

func thr(v int32, def int) int {
	if v <= 0 {
		return def
	}
	return int(v)
}

func resolvePort(port intstr.IntOrString, c *v1.Container) (int, error) {
	if port.Type == intstr.Int {
		return port.IntValue(), nil
	}
	for _, p := range c.Ports {
		if p.Name == port.StrVal {
			return int(p.ContainerPort), nil
		}
	}
	if n, err := strconv.Atoi(port.StrVal); err == nil {
		return n, nil
	}
	return 0, fmt.Errorf("port %q not found in container %s", port.StrVal, c.Name)
}

// runOnce executes the probe handler; true means success.
func (w *podWorker) runOnce(ctx context.Context, c *ctr, p *v1.Probe) (bool, string) {
	timeout := time.Duration(thr(p.TimeoutSeconds, 1)) * time.Second
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	host := w.podIP()
	switch {
	case p.Exec != nil:
		code, out, err := w.a.docker.Exec(ctx, c.id, p.Exec.Command)
		if err != nil {
			return false, err.Error()
		}
		return code == 0, out
	case p.HTTPGet != nil:
		port, err := resolvePort(p.HTTPGet.Port, c.spec)
		if err != nil {
			return false, err.Error()
		}
		if p.HTTPGet.Host != "" {
			host = p.HTTPGet.Host
		}
		scheme := "http"
		if p.HTTPGet.Scheme == v1.URISchemeHTTPS {
			scheme = "https"
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet,
			fmt.Sprintf("%s://%s%s", scheme, net.JoinHostPort(host, strconv.Itoa(port)), p.HTTPGet.Path), nil)
		if err != nil {
			return false, err.Error()
		}
		for _, h := range p.HTTPGet.HTTPHeaders {
			req.Header.Add(h.Name, h.Value)
		}
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, // as the kubelet does
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode >= 200 && resp.StatusCode < 400, resp.Status
	case p.TCPSocket != nil:
		port, err := resolvePort(p.TCPSocket.Port, c.spec)
		if err != nil {
			return false, err.Error()
		}
		if p.TCPSocket.Host != "" {
			host = p.TCPSocket.Host
		}
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return false, err.Error()
		}
		conn.Close()
		return true, ""
	}
	klog.Warningf("pod %s/%s container %s: probe handler not supported here, counted as success", w.pod.Namespace, w.pod.Name, c.spec.Name)
	return true, ""
}

// step runs the probe if due and returns whether its result changed to a
// failure that crossed the threshold.
func (w *podWorker) step(ctx context.Context, c *ctr, ps *probeState, kind string) {
	if ps == nil || c.st == nil || !c.st.Running {
		return
	}
	now := time.Now()
	if now.Sub(c.st.Started) < time.Duration(ps.probe.InitialDelaySeconds)*time.Second {
		return
	}
	if !ps.lastRun.IsZero() && now.Sub(ps.lastRun) < time.Duration(thr(ps.probe.PeriodSeconds, 10))*time.Second {
		return
	}
	ps.lastRun = now
	ok, out := w.runOnce(ctx, c, ps.probe)
	if ok {
		ps.succ++
		ps.fail = 0
		if ps.succ >= thr(ps.probe.SuccessThreshold, 1) {
			ps.result = true
		}
		return
	}
	ps.fail++
	ps.succ = 0
	w.event(v1.EventTypeWarning, "Unhealthy", "%s probe failed: %s", kind, out)
	if ps.fail >= thr(ps.probe.FailureThreshold, 3) {
		ps.result = false
	}
}

// probe advances a running container's probes; it kills the container when
// a liveness or startup probe fails, so the restart policy takes over.
func (w *podWorker) probe(ctx context.Context, c *ctr) {
	if c.startup != nil && !c.startup.result {
		w.step(ctx, c, c.startup, "Startup")
		if !c.startup.result && c.startup.fail >= thr(c.startup.probe.FailureThreshold, 3) {
			w.event(v1.EventTypeNormal, "Killing", "Container %s failed startup probe, will be restarted", c.spec.Name)
			w.stopContainer(ctx, c, w.grace())
		}
		return
	}
	w.step(ctx, c, c.readiness, "Readiness")
	if c.liveness != nil {
		w.step(ctx, c, c.liveness, "Liveness")
		if !c.liveness.result {
			w.event(v1.EventTypeNormal, "Killing", "Container %s failed liveness probe, will be restarted", c.spec.Name)
			w.stopContainer(ctx, c, w.grace())
			c.liveness.result, c.liveness.fail = true, 0
		}
	}
}
