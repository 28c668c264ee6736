package agent

import (
	"context"
	"errors"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// A container that ends while the API server is down must still be
// reported: writeStatus says the write failed, so the worker keeps trying
// (the chaos suite found pods left Running for good, their containers long
// gone, after a kube-apiserver restart).
func TestTerminalStatusWrittenAfterTheAPIServerComesBack(t *testing.T) {
	pod := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u1"},
		Spec:       v1.PodSpec{RestartPolicy: v1.RestartPolicyNever, Containers: []v1.Container{{Name: "c"}}},
		Status:     v1.PodStatus{Phase: v1.PodRunning},
	}
	client := fake.NewSimpleClientset(pod)
	down := false
	client.PrependReactor("*", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		if down {
			return true, nil, errors.New("dial tcp 127.0.0.1:6443: connect: connection refused")
		}
		return false, nil, nil
	})
	a := &Agent{cfg: Config{NodeIP: "127.0.0.1"}, client: client}
	w := newPodWorker(a, pod)
	ctx := context.Background()
	w.containers[0].st = &dockerState{ID: "c1", Status: "running", Running: true}
	if !w.writeStatus(ctx) {
		t.Fatal("writing the Running status failed with the API server up")
	}

	// The container exits 7 while the API server is down.
	w.containers[0].st = &dockerState{ID: "c1", Status: "exited", Exit: 7}
	w.containers[0].term = &v1.ContainerStateTerminated{ExitCode: 7, Reason: "Error"}
	w.terminal = v1.PodFailed
	down = true
	if w.writeStatus(ctx) {
		t.Fatal("writeStatus reported success while every request failed")
	}
	down = false
	if !w.writeStatus(ctx) {
		t.Fatal("writeStatus failed with the API server back")
	}
	got, err := client.CoreV1().Pods("ns").Get(ctx, "p", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status.Phase != v1.PodFailed {
		t.Fatalf("phase %s, want Failed", got.Status.Phase)
	}
}
