package agent

// start.go turns a container spec into `docker create` + `docker start`:
// image presence under imagePullPolicy (nothing is ever pulled: there is no
// registry), environment, security context, mounts and the termination log.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
)

func (w *podWorker) setWaiting(c *ctr, reason, msg string) {
	c.waitReason, c.waitMsg = reason, msg
}

// imageUser parses an image's USER into a numeric uid when possible.
func imageUser(user string) (uid int64, numeric bool) {
	u := strings.SplitN(user, ":", 2)[0]
	if u == "" || u == "root" {
		return 0, true
	}
	n, err := strconv.ParseInt(u, 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

// secCtx merges the pod- and container-level security context fields docker
// can honour.
type secCtx struct {
	runAsUser, runAsGroup *int64
	runAsNonRoot          bool
	readOnlyRoot          bool
	privileged            bool
	noNewPrivs            bool
	capAdd, capDrop       []string
	groups                []int64
}

func (w *podWorker) security(c *v1.Container) secCtx {
	var s secCtx
	if p := w.pod.Spec.SecurityContext; p != nil {
		s.runAsUser, s.runAsGroup = p.RunAsUser, p.RunAsGroup
		s.runAsNonRoot = p.RunAsNonRoot != nil && *p.RunAsNonRoot
		s.groups = append(s.groups, p.SupplementalGroups...)
		if p.FSGroup != nil {
			s.groups = append(s.groups, *p.FSGroup)
		}
	}
	if cs := c.SecurityContext; cs != nil {
		if cs.RunAsUser != nil {
			s.runAsUser = cs.RunAsUser
		}
		if cs.RunAsGroup != nil {
			s.runAsGroup = cs.RunAsGroup
		}
		if cs.RunAsNonRoot != nil {
			s.runAsNonRoot = *cs.RunAsNonRoot
		}
		s.readOnlyRoot = cs.ReadOnlyRootFilesystem != nil && *cs.ReadOnlyRootFilesystem
		s.privileged = cs.Privileged != nil && *cs.Privileged
		s.noNewPrivs = cs.AllowPrivilegeEscalation != nil && !*cs.AllowPrivilegeEscalation
		if cs.Capabilities != nil {
			for _, a := range cs.Capabilities.Add {
				s.capAdd = append(s.capAdd, string(a))
			}
			for _, d := range cs.Capabilities.Drop {
				s.capDrop = append(s.capDrop, string(d))
			}
		}
	}
	return s
}

// start creates and starts the next attempt of c, or records why it cannot.
func (w *podWorker) start(ctx context.Context, c *ctr) {
	image := c.spec.Image
	present, imageID, user, err := w.a.docker.ImageInspect(ctx, image)
	if err != nil {
		w.setWaiting(c, "ErrImagePull", err.Error())
		return
	}
	if !present {
		if c.spec.ImagePullPolicy == v1.PullNever {
			msg := fmt.Sprintf("Container image %q is not present with pull policy of Never", image)
			w.setWaiting(c, "ErrImageNeverPull", msg)
			w.event(v1.EventTypeWarning, "ErrImageNeverPull", "%s", msg)
			return
		}
		reason := "ErrImagePull"
		if c.waitReason == "ErrImagePull" || c.waitReason == "ImagePullBackOff" {
			reason = "ImagePullBackOff"
		}
		msg := fmt.Sprintf("image %q is not present on this node and no registry is reachable from it (pull policy %s); load it into the local Docker Engine", image, c.spec.ImagePullPolicy)
		w.setWaiting(c, reason, msg)
		w.event(v1.EventTypeWarning, "Failed", "Failed to pull image %q: %s", image, msg)
		return
	}
	if !c.pulledOnce {
		w.event(v1.EventTypeNormal, "Pulled", "Container image %q already present on machine", image)
		c.pulledOnce = true
	}
	env, err := w.resolveEnv(ctx, c.spec)
	if err != nil {
		if _, ok := err.(*configError); ok {
			w.setWaiting(c, "CreateContainerConfigError", err.Error())
			w.event(v1.EventTypeWarning, "Failed", "Error: %v", err)
		} else {
			w.setWaiting(c, "CreateContainerConfigError", err.Error())
		}
		return
	}
	sc := w.security(c.spec)
	if sc.runAsNonRoot {
		if sc.runAsUser != nil {
			if *sc.runAsUser == 0 {
				msg := fmt.Sprintf("container's runAsUser breaks non-root policy (pod: %q, container: %s)", podRef(w.pod), c.spec.Name)
				w.setWaiting(c, "CreateContainerConfigError", msg)
				w.event(v1.EventTypeWarning, "Failed", "Error: %s", msg)
				return
			}
		} else if uid, numeric := imageUser(user); !numeric || uid == 0 {
			msg := fmt.Sprintf("container has runAsNonRoot and image will run as root (pod: %q, container: %s)", podRef(w.pod), c.spec.Name)
			if !numeric {
				msg = fmt.Sprintf("container has runAsNonRoot and image has non-numeric user (%s), cannot verify user is non-root (pod: %q, container: %s)", user, podRef(w.pod), c.spec.Name)
			}
			w.setWaiting(c, "CreateContainerConfigError", msg)
			w.event(v1.EventTypeWarning, "Failed", "Error: %s", msg)
			return
		}
	}

	attempt := c.attempt
	if c.id != "" {
		attempt++
	}
	kind := "main"
	if c.init {
		kind = "init"
	}
	name := fmt.Sprintf("k8s_%s_%s_%s_%s_%d", shortName(c.spec.Name), shortName(w.pod.Name), shortName(w.pod.Namespace), w.uid, attempt)
	args := []string{
		"--name", name, "--network", "host",
		"--label", labelUID + "=" + string(w.uid), "--label", labelPod + "=" + w.pod.Name,
		"--label", labelNamespace + "=" + w.pod.Namespace, "--label", labelContainer + "=" + c.spec.Name,
		"--label", labelAttempt + "=" + strconv.Itoa(attempt), "--label", labelKind + "=" + kind,
		"--label", labelStateDir + "=" + w.a.cfg.StateDir,
	}
	if sc.runAsUser != nil {
		u := strconv.FormatInt(*sc.runAsUser, 10)
		if sc.runAsGroup != nil {
			u += ":" + strconv.FormatInt(*sc.runAsGroup, 10)
		}
		args = append(args, "--user", u)
	} else if sc.runAsGroup != nil {
		uid, _ := imageUser(user)
		args = append(args, "--user", fmt.Sprintf("%d:%d", uid, *sc.runAsGroup))
	}
	for _, g := range sc.groups {
		args = append(args, "--group-add", strconv.FormatInt(g, 10))
	}
	if sc.readOnlyRoot {
		args = append(args, "--read-only")
	}
	if sc.privileged {
		args = append(args, "--privileged")
	}
	if sc.noNewPrivs {
		args = append(args, "--security-opt", "no-new-privileges")
	}
	for _, a := range sc.capAdd {
		args = append(args, "--cap-add", a)
	}
	for _, d := range sc.capDrop {
		args = append(args, "--cap-drop", d)
	}
	if c.spec.WorkingDir != "" {
		args = append(args, "-w", c.spec.WorkingDir)
	}
	if c.spec.Stdin {
		args = append(args, "-i")
	}
	if c.spec.TTY {
		args = append(args, "-t")
	}

	// Values reach the CLI through its environment (`-e NAME`), never argv.
	var cliEnv []string
	vals := map[string]string{}
	for _, e := range env {
		vals[e.Name] = e.Value
		if strings.HasPrefix(e.Name, "DOCKER_") || e.Name == "HOME" || e.Name == "PATH" || strings.Contains(e.Name, "=") {
			args = append(args, "-e", e.Name+"="+e.Value)
			continue
		}
		args = append(args, "-e", e.Name)
		cliEnv = append(cliEnv, e.Name+"="+e.Value)
	}
	lookup := func(n string) (string, bool) { v, ok := vals[n]; return v, ok }

	for i := range c.spec.VolumeMounts {
		m := &c.spec.VolumeMounts[i]
		src, ro, err := w.hostPathFor(m, lookup)
		if err != nil {
			w.setWaiting(c, "CreateContainerConfigError", err.Error())
			return
		}
		mnt := fmt.Sprintf("type=bind,source=%s,target=%s", src, m.MountPath)
		if ro {
			mnt += ",readonly"
		}
		args = append(args, "--mount", mnt)
	}
	if p := c.spec.TerminationMessagePath; p != "" {
		tl := w.termLogPath(c, attempt)
		if err := os.MkdirAll(filepath.Dir(tl), 0o755); err == nil {
			if err := os.WriteFile(tl, nil, 0o666); err == nil {
				_ = os.Chmod(tl, 0o666) // writable whatever user the container runs as
				args = append(args, "--mount", fmt.Sprintf("type=bind,source=%s,target=%s", tl, p))
			}
		}
	}

	cmd := make([]string, 0, len(c.spec.Command))
	for _, s := range c.spec.Command {
		cmd = append(cmd, expand(s, lookup))
	}
	cargs := make([]string, 0, len(c.spec.Args))
	for _, s := range c.spec.Args {
		cargs = append(cargs, expand(s, lookup))
	}
	if len(cmd) > 0 {
		// --entrypoint also clears the image's CMD, as Kubernetes' command does.
		args = append(args, "--entrypoint", cmd[0], image)
		args = append(args, cmd[1:]...)
	} else {
		args = append(args, image)
	}
	args = append(args, cargs...)

	// Keep the previous attempt (for lastState/logs), drop older ones.
	if c.id != "" {
		old, _ := w.a.docker.List(ctx, labelUID, string(w.uid))
		states, _ := w.a.docker.Inspect(ctx, old...)
		for id, s := range states {
			n, _ := strconv.Atoi(s.Labels[labelAttempt])
			if s.Labels[labelContainer] == c.spec.Name && s.Labels[labelKind] == kind && n < attempt-1 {
				_ = w.a.docker.Remove(ctx, id)
			}
		}
	}
	id, err := w.a.docker.Create(ctx, args, cliEnv)
	if err != nil {
		w.setWaiting(c, "CreateContainerError", err.Error())
		w.event(v1.EventTypeWarning, "Failed", "Error: %v", err)
		return
	}
	if c.id != "" {
		c.prev = c.term
	}
	c.id, c.imageID, c.attempt, c.term, c.st = id, imageID, attempt, nil, nil
	c.waitReason, c.waitMsg, c.nextStart = "", "", timeZero
	c.resetProbes()
	w.event(v1.EventTypeNormal, "Created", "Created container: %s", c.spec.Name)
	if err := w.a.docker.Start(ctx, id); err != nil {
		klog.Infof("pod %s/%s container %s: start failed: %v", w.pod.Namespace, w.pod.Name, c.spec.Name, err)
		w.event(v1.EventTypeWarning, "Failed", "Error: %v", err)
		w.refresh(ctx)
		if c.term != nil && c.term.Message == "" {
			c.term.Message = err.Error()
		}
		if c.term != nil && c.term.Reason != "OOMKilled" && (c.st == nil || c.st.Started.IsZero()) {
			c.term.Reason = "StartError"
			if c.term.ExitCode == 0 {
				c.term.ExitCode = 128
			}
		}
		return
	}
	w.event(v1.EventTypeNormal, "Started", "Started container %s", c.spec.Name)
	go w.watchExit(ctx, id)
	w.refresh(ctx)
}

var timeZero = time.Time{}
