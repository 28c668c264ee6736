// Package agent is the local cluster's node agent: a small kubelet stand-in
// that registers one Ready Node, renews its Lease and runs the pods bound to
// it as Docker containers on the host network. It exists so the e2e tests
// exercise real control-plane behaviour (Job controller, ServiceAccount
// tokens, RBAC) against pods that really run.
package agent

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	coordv1 "k8s.io/api/coordination/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedv1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/component-base/version"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
)

// Config is the agent's static configuration.
type Config struct {
	NodeName  string
	NodeIP    string // loopback: every pod shares the host network
	PodCIDR   string // loopback prefix for pod IPs (podip.go); empty: pods get NodeIP
	StateDir  string // pod volumes and termination logs live here
	APIHost   string // what pods get as KUBERNETES_SERVICE_HOST
	APIPort   string
	DockerBin string
	// TokenRefreshPeriod, when > 0, rotates projected ServiceAccount tokens
	// at least this often (tests: the API's minimum token lifetime is 10 min,
	// too long to wait for the kubelet's 80% rule).
	TokenRefreshPeriod time.Duration
}

// Agent owns the node's registration and one worker per bound pod.
type Agent struct {
	cfg      Config
	client   kubernetes.Interface
	docker   *Docker
	recorder record.EventRecorder
	podIPs   *ipPool // nil: every pod reports the node IP

	mu      sync.Mutex
	workers map[types.UID]*podWorker
	cancels map[types.UID]context.CancelFunc
}

func New(cfg Config, client kubernetes.Interface) (*Agent, error) {
	var pool *ipPool
	if cfg.PodCIDR != "" {
		var err error
		if pool, err = newIPPool(cfg.PodCIDR); err != nil {
			return nil, err
		}
	}
	b := record.NewBroadcaster()
	b.StartRecordingToSink(&typedv1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	return &Agent{
		cfg: cfg, client: client, docker: &Docker{Bin: cfg.DockerBin}, podIPs: pool,
		recorder: b.NewRecorder(scheme.Scheme, v1.EventSource{Component: "kubelet", Host: cfg.NodeName}),
		workers:  map[types.UID]*podWorker{}, cancels: map[types.UID]context.CancelFunc{},
	}, nil
}

func (a *Agent) allocatable() v1.ResourceList {
	return v1.ResourceList{
		v1.ResourceCPU:              *resource.NewQuantity(int64(runtime.NumCPU()), resource.DecimalSI),
		v1.ResourceMemory:           resource.MustParse("8Gi"),
		v1.ResourcePods:             resource.MustParse("110"),
		v1.ResourceEphemeralStorage: resource.MustParse("20Gi"),
	}
}

// serviceEnv is what the kubelet injects for the default/kubernetes Service,
// pointed at the loopback API server the pods can actually reach.
func (a *Agent) serviceEnv() []envVar {
	h, p := a.cfg.APIHost, a.cfg.APIPort
	return []envVar{
		{"KUBERNETES_SERVICE_HOST", h}, {"KUBERNETES_SERVICE_PORT", p}, {"KUBERNETES_SERVICE_PORT_HTTPS", p},
		{"KUBERNETES_PORT", "tcp://" + h + ":" + p}, {"KUBERNETES_PORT_" + p + "_TCP", "tcp://" + h + ":" + p},
		{"KUBERNETES_PORT_" + p + "_TCP_PROTO", "tcp"}, {"KUBERNETES_PORT_" + p + "_TCP_PORT", p},
		{"KUBERNETES_PORT_" + p + "_TCP_ADDR", h},
	}
}

func (a *Agent) nodeStatus(ctx context.Context) v1.NodeStatus {
	now := metav1.Now()
	c := func(t v1.NodeConditionType, s v1.ConditionStatus, reason, msg string) v1.NodeCondition {
		return v1.NodeCondition{Type: t, Status: s, Reason: reason, Message: msg, LastHeartbeatTime: now, LastTransitionTime: now}
	}
	host, _ := os.Hostname()
	return v1.NodeStatus{
		Capacity: a.allocatable(), Allocatable: a.allocatable(),
		Conditions: []v1.NodeCondition{
			c(v1.NodeMemoryPressure, v1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
			c(v1.NodeDiskPressure, v1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
			c(v1.NodePIDPressure, v1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
			c(v1.NodeReady, v1.ConditionTrue, "KubeletReady", "node agent is posting ready status"),
		},
		Addresses: []v1.NodeAddress{{Type: v1.NodeInternalIP, Address: a.cfg.NodeIP}, {Type: v1.NodeHostName, Address: host}},
		NodeInfo: v1.NodeSystemInfo{
			KubeletVersion: version.Get().GitVersion, OperatingSystem: "linux", Architecture: runtime.GOARCH,
			ContainerRuntimeVersion: "docker://" + a.docker.Version(ctx), OSImage: "schemagate local node agent",
		},
	}
}

// register creates the Node (with its status, as the kubelet does), or
// refreshes the status of the existing one from a fresh read so that fields
// others own (taints set by the node lifecycle controller) are left alone.
func (a *Agent) register(ctx context.Context) (*v1.Node, error) {
	nodes := a.client.CoreV1().Nodes()
	node := &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: a.cfg.NodeName, Labels: map[string]string{
		"kubernetes.io/hostname": a.cfg.NodeName, "kubernetes.io/os": "linux", "kubernetes.io/arch": runtime.GOARCH,
	}}, Status: a.nodeStatus(ctx)}
	created, err := nodes.Create(ctx, node, metav1.CreateOptions{})
	if err == nil {
		return created, nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return nil, err
	}
	for i := 0; ; i++ {
		cur, err := nodes.Get(ctx, a.cfg.NodeName, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		next := a.nodeStatus(ctx)
		for i, c := range next.Conditions {
			for _, p := range cur.Status.Conditions {
				if p.Type == c.Type && p.Status == c.Status {
					next.Conditions[i].LastTransitionTime = p.LastTransitionTime
				}
			}
		}
		cur.Status = next
		updated, err := nodes.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		if err == nil {
			return updated, nil
		}
		if !apierrors.IsConflict(err) || i >= 5 {
			return nil, err
		}
	}
}

// heartbeat renews the node Lease every 10s and the Ready condition every
// minute, like the kubelet's defaults.
func (a *Agent) heartbeat(ctx context.Context, node *v1.Node) {
	leases := a.client.CoordinationV1().Leases(v1.NamespaceNodeLease)
	lastStatus := time.Now()
	for {
		now := metav1.NewMicroTime(time.Now())
		lease, err := leases.Get(ctx, a.cfg.NodeName, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			_, err = leases.Create(ctx, &coordv1.Lease{
				ObjectMeta: metav1.ObjectMeta{Name: a.cfg.NodeName, OwnerReferences: []metav1.OwnerReference{{
					APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID}}},
				Spec: coordv1.LeaseSpec{HolderIdentity: ptr.To(a.cfg.NodeName), LeaseDurationSeconds: ptr.To[int32](40), RenewTime: &now},
			}, metav1.CreateOptions{})
		case err == nil:
			lease.Spec.HolderIdentity = ptr.To(a.cfg.NodeName)
			lease.Spec.LeaseDurationSeconds = ptr.To[int32](40)
			lease.Spec.RenewTime = &now
			_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
		}
		if err != nil {
			klog.Warningf("node lease: %v", err)
		}
		if time.Since(lastStatus) >= time.Minute {
			if n, err := a.register(ctx); err == nil {
				node, lastStatus = n, time.Now()
			} else {
				klog.Warningf("node status: %v", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Second):
		}
	}
}

func (a *Agent) dispatch(ctx context.Context, pod *v1.Pod) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if w, ok := a.workers[pod.UID]; ok {
		w.update(pod)
		return
	}
	if a.podIPs != nil && !pod.Spec.HostNetwork {
		if _, err := a.podIPs.assign(pod.UID, pod.Status.PodIP); err != nil {
			klog.Errorf("pod %s/%s: %v (it reports the node IP)", pod.Namespace, pod.Name, err)
		}
	}
	w := newPodWorker(a, pod)
	wctx, cancel := context.WithCancel(ctx)
	a.workers[pod.UID], a.cancels[pod.UID] = w, cancel
	go w.run(wctx)
}

// forget stops a pod's worker after the pod left the API and removes what
// it left on the host.
func (a *Agent) forget(ctx context.Context, uid types.UID) {
	a.mu.Lock()
	w, ok := a.workers[uid]
	cancel := a.cancels[uid]
	delete(a.workers, uid)
	delete(a.cancels, uid)
	a.mu.Unlock()
	if !ok {
		return
	}
	cancel()
	<-w.stopped
	w.cleanup(ctx)
	if a.podIPs != nil {
		a.podIPs.release(uid)
	}
}

// Run registers the node and serves pods until ctx ends.
func (a *Agent) Run(ctx context.Context) error {
	var node *v1.Node
	var err error
	for {
		if node, err = a.register(ctx); err == nil {
			break
		}
		klog.Warningf("register node: %v (retrying)", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	klog.Infof("node %s registered (kubelet version %s)", node.Name, node.Status.NodeInfo.KubeletVersion)
	go a.heartbeat(ctx, node)

	factory := informers.NewSharedInformerFactoryWithOptions(a.client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", a.cfg.NodeName).String()
	}))
	inf := factory.Core().V1().Pods().Informer()
	_, err = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { a.dispatch(ctx, o.(*v1.Pod)) },
		UpdateFunc: func(_, o any) { a.dispatch(ctx, o.(*v1.Pod)) },
		DeleteFunc: func(o any) {
			if t, ok := o.(cache.DeletedFinalStateUnknown); ok {
				o = t.Obj
			}
			if p, ok := o.(*v1.Pod); ok {
				go a.forget(context.Background(), p.UID)
			}
		},
	})
	if err != nil {
		return err
	}
	a.reservePodIPs(ctx)
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return fmt.Errorf("pod informer did not sync")
	}
	a.collectOrphans(ctx, inf.GetStore())
	if a.podIPs != nil {
		// Addresses reserved for pods that were gone before the informer saw them.
		keep := map[types.UID]bool{}
		for _, o := range inf.GetStore().List() {
			keep[o.(*v1.Pod).UID] = true
		}
		a.podIPs.releaseExcept(keep)
	}
	<-ctx.Done()
	return nil
}

// collectOrphans removes containers of pods that no longer exist (the agent
// was down while they were force-deleted).
func (a *Agent) collectOrphans(ctx context.Context, store cache.Store) {
	known := map[string]bool{}
	for _, o := range store.List() {
		known[string(o.(*v1.Pod).UID)] = true
	}
	ids, err := a.docker.List(ctx, labelStateDir, a.cfg.StateDir)
	if err != nil {
		return
	}
	states, _ := a.docker.Inspect(ctx, ids...)
	for id, s := range states {
		if !known[s.Labels[labelUID]] {
			klog.Infof("removing orphaned container %s of pod %s/%s", s.Name, s.Labels[labelNamespace], s.Labels[labelPod])
			_ = a.docker.Remove(ctx, id)
		}
	}
}
