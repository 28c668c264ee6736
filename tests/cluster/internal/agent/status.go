package agent

// status.go computes the pod status the kubelet would report and writes it
// through the pods/status subresource, preserving conditions other
// components own (PodScheduled, DisruptionTarget, readiness gates).

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
)

// phase mirrors the kubelet's getPhase over the current container states.
func (w *podWorker) phase() v1.PodPhase {
	if w.terminal != "" {
		return w.terminal
	}
	for _, c := range w.containers {
		if !c.init {
			continue
		}
		if c.exited() && !c.succeeded() && w.pod.Spec.RestartPolicy == v1.RestartPolicyNever {
			return v1.PodFailed
		}
		if !c.succeeded() {
			return v1.PodPending
		}
	}
	running, waiting, stopped, succeeded := 0, 0, 0, 0
	for _, c := range w.containers {
		if c.init {
			continue
		}
		switch {
		case c.running():
			running++
		case c.exited():
			stopped++
			if c.succeeded() {
				succeeded++
			}
		default:
			waiting++
		}
	}
	switch {
	case waiting > 0:
		return v1.PodPending
	case running > 0:
		return v1.PodRunning
	case stopped > 0:
		switch {
		case w.pod.Spec.RestartPolicy == v1.RestartPolicyAlways:
			return v1.PodRunning
		case stopped == succeeded:
			return v1.PodSucceeded
		case w.pod.Spec.RestartPolicy == v1.RestartPolicyNever:
			return v1.PodFailed
		}
		return v1.PodRunning
	}
	return v1.PodPending
}

func (w *podWorker) containerStatus(c *ctr, initDone bool) v1.ContainerStatus {
	cs := v1.ContainerStatus{Name: c.spec.Name, Image: c.spec.Image, RestartCount: int32(c.attempt)}
	if c.imageID != "" {
		cs.ImageID = "docker://" + c.imageID
	}
	if c.id != "" {
		cs.ContainerID = "docker://" + c.id
	}
	started := false
	switch {
	case c.running():
		cs.State.Running = &v1.ContainerStateRunning{StartedAt: metav1.NewTime(c.st.Started)}
		started = c.startup == nil || c.startup.result
		cs.Ready = !c.init && started && (c.readiness == nil || c.readiness.result)
	case c.exited() && c.waitReason == "CrashLoopBackOff":
		cs.State.Waiting = &v1.ContainerStateWaiting{Reason: c.waitReason, Message: c.waitMsg}
		cs.LastTerminationState.Terminated = c.term
	case c.exited():
		cs.State.Terminated = c.term
	case c.waitReason != "":
		cs.State.Waiting = &v1.ContainerStateWaiting{Reason: c.waitReason, Message: c.waitMsg}
	case !c.init && !initDone:
		cs.State.Waiting = &v1.ContainerStateWaiting{Reason: "PodInitializing"}
	default:
		cs.State.Waiting = &v1.ContainerStateWaiting{Reason: "ContainerCreating"}
	}
	if cs.LastTerminationState.Terminated == nil && c.prev != nil {
		cs.LastTerminationState.Terminated = c.prev
	}
	cs.Started = &started
	return cs
}

func cond(t v1.PodConditionType, ok bool, reason, msg string) v1.PodCondition {
	s := v1.ConditionFalse
	if ok {
		s, reason, msg = v1.ConditionTrue, "", ""
	}
	return v1.PodCondition{Type: t, Status: s, Reason: reason, Message: msg}
}

var ownedConditions = map[v1.PodConditionType]bool{
	v1.PodReadyToStartContainers: true, v1.PodInitialized: true, v1.ContainersReady: true, v1.PodReady: true,
}

// computeStatus builds the status from the worker's view; conditions carry
// no times yet (merge assigns them).
func (w *podWorker) computeStatus() v1.PodStatus {
	phase := w.phase()
	st := v1.PodStatus{
		Phase: phase, HostIP: w.a.cfg.NodeIP, PodIP: w.podIP(),
		HostIPs: []v1.HostIP{{IP: w.a.cfg.NodeIP}}, PodIPs: []v1.PodIP{{IP: w.podIP()}},
		StartTime: &metav1.Time{Time: w.startTime.Truncate(time.Second)},
		Reason:    w.reason, Message: w.message,
	}
	initDone := true
	var pendingInit []string
	for _, c := range w.containers {
		if c.init && !c.succeeded() {
			initDone = false
			pendingInit = append(pendingInit, c.spec.Name)
		}
	}
	var unready []string
	for _, c := range w.containers {
		cs := w.containerStatus(c, initDone)
		if c.init {
			st.InitContainerStatuses = append(st.InitContainerStatuses, cs)
			continue
		}
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
		if !cs.Ready {
			unready = append(unready, c.spec.Name)
		}
	}
	terminal := phase == v1.PodSucceeded || phase == v1.PodFailed
	sandbox := w.volErr == nil && !terminal
	st.Conditions = append(st.Conditions, cond(v1.PodReadyToStartContainers, sandbox, "", ""))
	if terminal && phase == v1.PodSucceeded {
		initDone = true
	}
	st.Conditions = append(st.Conditions, cond(v1.PodInitialized, initDone, "ContainersNotInitialized",
		fmt.Sprintf("containers with incomplete status: [%s]", strings.Join(pendingInit, " "))))
	readyReason, readyMsg := "ContainersNotReady", fmt.Sprintf("containers with unready status: [%s]", strings.Join(unready, " "))
	if terminal {
		readyReason, readyMsg = "PodCompleted", ""
	}
	ready := len(unready) == 0 && !terminal
	st.Conditions = append(st.Conditions, cond(v1.ContainersReady, ready, readyReason, readyMsg))
	podReady := ready
	var gatesPending []string
	for _, g := range w.pod.Spec.ReadinessGates {
		ok := false
		for _, c := range w.pod.Status.Conditions {
			if c.Type == g.ConditionType && c.Status == v1.ConditionTrue {
				ok = true
			}
		}
		if !ok {
			gatesPending = append(gatesPending, string(g.ConditionType))
		}
	}
	if ready && len(gatesPending) > 0 {
		podReady, readyReason, readyMsg = false, "ReadinessGatesNotReady",
			fmt.Sprintf("corresponding condition of pod readiness gate %q does not exist.", gatesPending[0])
	}
	st.Conditions = append(st.Conditions, cond(v1.PodReady, podReady, readyReason, readyMsg))
	return st
}

// merge fills in fields owned by others and condition transition times.
func merge(cur *v1.PodStatus, next v1.PodStatus) v1.PodStatus {
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	prev := map[v1.PodConditionType]v1.PodCondition{}
	for _, c := range cur.Conditions {
		prev[c.Type] = c
	}
	var conds []v1.PodCondition
	for _, c := range next.Conditions {
		if p, ok := prev[c.Type]; ok && p.Status == c.Status {
			c.LastTransitionTime = p.LastTransitionTime
			c.LastProbeTime = p.LastProbeTime
		} else {
			c.LastTransitionTime = now
		}
		conds = append(conds, c)
	}
	for _, c := range cur.Conditions {
		if !ownedConditions[c.Type] {
			conds = append(conds, c)
		}
	}
	sort.SliceStable(conds, func(i, j int) bool { return conds[i].Type == v1.PodScheduled && conds[j].Type != v1.PodScheduled })
	next.Conditions = conds
	next.QOSClass = cur.QOSClass
	next.NominatedNodeName = cur.NominatedNodeName
	next.Resize = cur.Resize
	next.ResourceClaimStatuses = cur.ResourceClaimStatuses
	next.ObservedGeneration = cur.ObservedGeneration
	if cur.StartTime != nil {
		next.StartTime = cur.StartTime
	}
	return next
}

// writeStatus publishes the computed status when it differs from what the
// API server holds; it never moves a terminal pod back. It reports whether
// the API server now holds it: false when a request failed (the API server
// down, say), so the caller tries again on its next pass, as the kubelet's
// status manager does, instead of leaving a pod Running whose container is
// long gone.
func (w *podWorker) writeStatus(ctx context.Context) bool {
	next := w.computeStatus()
	if w.written != nil && equality.Semantic.DeepEqual(*w.written, next) {
		return true
	}
	pods := w.a.client.CoreV1().Pods(w.pod.Namespace)
	for i := 0; i < 5; i++ {
		cur, err := pods.Get(ctx, w.pod.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true
		}
		if err != nil {
			klog.Warningf("pod %s/%s: get: %v", w.pod.Namespace, w.pod.Name, err)
			return false
		}
		if cur.UID != w.uid {
			return true
		}
		if (cur.Status.Phase == v1.PodSucceeded || cur.Status.Phase == v1.PodFailed) && next.Phase != cur.Status.Phase {
			w.terminal = cur.Status.Phase
			w.written = &next
			return true
		}
		merged := merge(&cur.Status, next)
		if equality.Semantic.DeepEqual(cur.Status, merged) {
			w.written = &next
			return true
		}
		cur.Status = merged
		if _, err := pods.UpdateStatus(ctx, cur, metav1.UpdateOptions{}); err != nil {
			if apierrors.IsConflict(err) {
				continue
			}
			if !apierrors.IsNotFound(err) {
				klog.Warningf("pod %s/%s: update status: %v", w.pod.Namespace, w.pod.Name, err)
				return false
			}
			return true
		}
		w.written = &next
		return true
	}
	return false // conflicts all along: next pass
}
