package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

// tokenServer answers TokenRequests with "token-<n>" and records them.
type tokenServer struct {
	mu       sync.Mutex
	requests []*authv1.TokenRequest
}

func (s *tokenServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

func newTokenWorker(t *testing.T, refresh time.Duration) (*podWorker, *tokenServer) {
	t.Helper()
	client := fake.NewSimpleClientset()
	srv := &tokenServer{}
	client.PrependReactor("create", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "token" {
			return false, nil, nil
		}
		req := a.(k8stesting.CreateAction).GetObject().(*authv1.TokenRequest).DeepCopy()
		srv.mu.Lock()
		srv.requests = append(srv.requests, req)
		n := len(srv.requests)
		srv.mu.Unlock()
		req.Status = authv1.TokenRequestStatus{
			Token:               fmt.Sprintf("token-%d", n),
			ExpirationTimestamp: metav1.NewTime(time.Now().Add(time.Duration(*req.Spec.ExpirationSeconds) * time.Second)),
		}
		return true, req, nil
	})
	a := &Agent{cfg: Config{StateDir: t.TempDir(), TokenRefreshPeriod: refresh}, client: client}
	pod := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "uid-1"},
		Spec: v1.PodSpec{ServiceAccountName: "sa", Volumes: []v1.Volume{{
			Name: "kube-api-access",
			VolumeSource: v1.VolumeSource{Projected: &v1.ProjectedVolumeSource{Sources: []v1.VolumeProjection{{
				ServiceAccountToken: &v1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr.To[int64](3600)},
			}}}},
		}}},
	}
	return newPodWorker(a, pod), srv
}

func readToken(t *testing.T, w *podWorker) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(w.volumeDir("kube-api-access"), "token"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestTokenBoundToPodAndReusedAcrossResyncUntilDue(t *testing.T) {
	w, srv := newTokenWorker(t, 0) // kubelet rule: 80% of 3600 s
	ctx := context.Background()
	if err := w.syncVolumes(ctx); err != nil {
		t.Fatal(err)
	}
	if got := readToken(t, w); got != "token-1" {
		t.Fatalf("token %q, want token-1", got)
	}
	ref := srv.requests[0].Spec.BoundObjectRef
	if ref == nil || ref.Kind != "Pod" || ref.Name != "p" || ref.UID != "uid-1" {
		t.Fatalf("token not bound to the pod: %+v", ref)
	}
	if d := time.Until(w.volumes["kube-api-access"].refresh); d < 47*time.Minute || d > 48*time.Minute {
		t.Fatalf("refresh in %v, want 80%% of 1 h (48 min)", d)
	}
	// The minute resync rebuilds the volume but must not rotate a token that
	// is not due (the kubelet's token manager caches it).
	w.volumes["kube-api-access"].synced = time.Now().Add(-2 * time.Minute)
	if err := w.syncVolumes(ctx); err != nil {
		t.Fatal(err)
	}
	if n := srv.count(); n != 1 {
		t.Fatalf("%d TokenRequests after a resync, want 1", n)
	}
	if got := readToken(t, w); got != "token-1" {
		t.Fatalf("token %q after a resync, want token-1", got)
	}
}

func TestTokenRefreshPeriodRotatesThroughDataSwap(t *testing.T) {
	w, srv := newTokenWorker(t, 100*time.Millisecond)
	ctx := context.Background()
	if err := w.syncVolumes(ctx); err != nil {
		t.Fatal(err)
	}
	dir := w.volumeDir("kube-api-access")
	first, _ := os.Readlink(filepath.Join(dir, "..data"))
	// Poll (the agent's own 1 s loop, compressed) until the token is due.
	deadline := time.Now().Add(10 * time.Second)
	for readToken(t, w) == "token-1" {
		if time.Now().After(deadline) {
			t.Fatal("token not rotated within 10 s with a 100 ms refresh period")
		}
		time.Sleep(10 * time.Millisecond)
		if err := w.syncVolumes(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := readToken(t, w); got != "token-2" {
		t.Fatalf("rotated token %q, want token-2", got)
	}
	if n := srv.count(); n != 2 {
		t.Fatalf("%d TokenRequests, want 2", n)
	}
	second, _ := os.Readlink(filepath.Join(dir, "..data"))
	if second == first {
		t.Fatalf("..data still points at %s: not an atomic swap", first)
	}
	if link, _ := os.Readlink(filepath.Join(dir, "token")); link != filepath.Join("..data", "token") {
		t.Fatalf("token is %q, want a link through ..data", link)
	}
	if _, err := os.Stat(filepath.Join(dir, first)); !os.IsNotExist(err) {
		t.Fatalf("old payload directory %s left behind", first)
	}
}
