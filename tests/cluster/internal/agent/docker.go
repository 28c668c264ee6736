package agent

// docker.go drives the Docker Engine through its CLI. The CLI (not the Go
// SDK) keeps the nested module's dependency graph to what Kubernetes already
// needs, and every call is an ordinary, inspectable command line.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Docker runs the docker CLI. Safe for concurrent use.
type Docker struct {
	Bin string
}

// dockerState is the part of `docker inspect` the agent reports from.
type dockerState struct {
	ID      string
	Name    string
	Image   string // image ID (sha256:...)
	Labels  map[string]string
	Status  string // created, running, exited, dead, ...
	Running bool
	Exit    int
	OOM     bool
	Error   string
	Started time.Time
	Ended   time.Time
}

func (d *Docker) cmd(ctx context.Context, env []string, args ...string) (string, error) {
	c := exec.CommandContext(ctx, d.Bin, args...)
	if env != nil {
		c.Env = append(os.Environ(), env...)
	}
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if msg == "" {
			msg = err.Error()
		}
		return out.String(), fmt.Errorf("docker %s: %s", args[0], msg)
	}
	return out.String(), nil
}

// ImageInspect reports whether image is present locally, its ID and the
// user its config runs as.
func (d *Docker) ImageInspect(ctx context.Context, image string) (present bool, id, user string, err error) {
	out, err := d.cmd(ctx, nil, "image", "inspect", "--format", "{{.Id}}\t{{.Config.User}}", image)
	if err != nil {
		if strings.Contains(err.Error(), "No such image") || strings.Contains(err.Error(), "No such object") {
			return false, "", "", nil
		}
		return false, "", "", err
	}
	parts := strings.SplitN(strings.TrimSpace(out), "\t", 2)
	if len(parts) == 2 {
		user = parts[1]
	}
	return true, parts[0], user, nil
}

// Create creates (but does not start) a container; env carries values the
// CLI forwards for `-e NAME` arguments, so they never appear in argv.
func (d *Docker) Create(ctx context.Context, args []string, env []string) (string, error) {
	out, err := d.cmd(ctx, env, append([]string{"create"}, args...)...)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(out), nil
}

func (d *Docker) Start(ctx context.Context, id string) error {
	_, err := d.cmd(ctx, nil, "start", id)
	return err
}

// Stop sends SIGTERM, then SIGKILL after grace seconds.
func (d *Docker) Stop(ctx context.Context, id string, grace int64) error {
	if grace < 0 {
		grace = 0
	}
	_, err := d.cmd(ctx, nil, "stop", "-t", fmt.Sprint(grace), id)
	return err
}

func (d *Docker) Remove(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := d.cmd(ctx, nil, append([]string{"rm", "-f", "-v"}, ids...)...)
	return err
}

// Wait blocks until the container exits (or ctx ends).
func (d *Docker) Wait(ctx context.Context, id string) {
	_, _ = d.cmd(ctx, nil, "wait", id)
}

// Logs returns the last tail lines of the container's combined output.
func (d *Docker) Logs(ctx context.Context, id string, tail int) (string, error) {
	c := exec.CommandContext(ctx, d.Bin, "logs", "--tail", fmt.Sprint(tail), id)
	out, err := c.CombinedOutput()
	return string(out), err
}

// Exec runs cmd in the container and returns its exit code.
func (d *Docker) Exec(ctx context.Context, id string, cmd []string) (int, string, error) {
	c := exec.CommandContext(ctx, d.Bin, append([]string{"exec", id}, cmd...)...)
	out, err := c.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out), nil
	}
	if err != nil {
		return -1, string(out), err
	}
	return 0, string(out), nil
}

// List returns the IDs of all containers (any state) carrying label=value
// (or just the label when value is empty).
func (d *Docker) List(ctx context.Context, label, value string) ([]string, error) {
	f := label
	if value != "" {
		f += "=" + value
	}
	out, err := d.cmd(ctx, nil, "ps", "-a", "-q", "--no-trunc", "--filter", "label="+f)
	if err != nil {
		return nil, err
	}
	return strings.Fields(out), nil
}

type inspectJSON struct {
	ID     string `json:"Id"`
	Name   string `json:"Name"`
	Image  string `json:"Image"`
	Config struct {
		Labels map[string]string `json:"Labels"`
	} `json:"Config"`
	State struct {
		Status     string `json:"Status"`
		Running    bool   `json:"Running"`
		OOMKilled  bool   `json:"OOMKilled"`
		ExitCode   int    `json:"ExitCode"`
		Error      string `json:"Error"`
		StartedAt  string `json:"StartedAt"`
		FinishedAt string `json:"FinishedAt"`
	} `json:"State"`
}

func parseDockerTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() < 2000 {
		return time.Time{}
	}
	return t
}

// Inspect returns the state of the given containers; missing ones are absent
// from the result.
func (d *Docker) Inspect(ctx context.Context, ids ...string) (map[string]dockerState, error) {
	res := map[string]dockerState{}
	if len(ids) == 0 {
		return res, nil
	}
	out, err := d.cmd(ctx, nil, append([]string{"container", "inspect"}, ids...)...)
	if err != nil && !strings.Contains(err.Error(), "No such") {
		return nil, err
	}
	var raw []inspectJSON
	if strings.TrimSpace(out) != "" {
		if jerr := json.Unmarshal([]byte(out), &raw); jerr != nil {
			return nil, fmt.Errorf("docker inspect: %v", jerr)
		}
	}
	for _, r := range raw {
		res[r.ID] = dockerState{
			ID: r.ID, Name: strings.TrimPrefix(r.Name, "/"), Image: r.Image, Labels: r.Config.Labels,
			Status: r.State.Status, Running: r.State.Running, Exit: r.State.ExitCode, OOM: r.State.OOMKilled,
			Error: r.State.Error, Started: parseDockerTime(r.State.StartedAt), Ended: parseDockerTime(r.State.FinishedAt),
		}
	}
	return res, nil
}

// Version returns the engine's version (for the Node's containerRuntimeVersion).
func (d *Docker) Version(ctx context.Context) string {
	out, err := d.cmd(ctx, nil, "version", "--format", "{{.Server.Version}}")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(out)
}
