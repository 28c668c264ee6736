package agent

// podip.go gives every pod its own loopback address as its pod IP. Pods run
// with the host's network namespace, so two pods listening on one port
// (two replicas of a Deployment) collide on 127.0.0.1; binding to the pod
// IP from the downward API (status.podIP), as pods on real clusters may,
// keeps them apart, and probes go to the pod IP as the kubelet's do.
// Linux routes all of 127.0.0.0/8 to the loopback interface, so these
// addresses need no setup. hostNetwork pods keep the node IP.

import (
	"context"
	"fmt"
	"net/netip"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
)

// ipPool hands out addresses of one loopback prefix, one per pod UID.
// Safe for concurrent use.
type ipPool struct {
	prefix netip.Prefix

	mu    sync.Mutex
	byUID map[types.UID]netip.Addr
	used  map[netip.Addr]types.UID
	next  netip.Addr
}

// newIPPool accepts an IPv4 prefix inside 127.0.0.0/8 of at least 4 addresses.
func newIPPool(cidr string) (*ipPool, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("pod CIDR %q: %v", cidr, err)
	}
	p = p.Masked()
	if !p.Addr().Is4() || !netip.MustParsePrefix("127.0.0.0/8").Contains(p.Addr()) || p.Bits() < 8 || p.Bits() > 30 {
		return nil, fmt.Errorf("pod CIDR %q: want an IPv4 loopback prefix (127.0.0.0/8) of /8 to /30", cidr)
	}
	return &ipPool{prefix: p, byUID: map[types.UID]netip.Addr{}, used: map[netip.Addr]types.UID{}, next: p.Addr().Next()}, nil
}

func (p *ipPool) usable(a netip.Addr) bool {
	if !p.prefix.Contains(a) || a == p.prefix.Addr() {
		return false
	}
	// Not the last address (the prefix's broadcast address).
	return p.prefix.Contains(a.Next())
}

// assign returns the pod's address: the one it already has, the one its
// status carries (an agent restart keeps pod IPs) when free, else the next
// free one.
func (p *ipPool) assign(uid types.UID, current string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a, ok := p.byUID[uid]; ok {
		return a.String(), nil
	}
	if a, err := netip.ParseAddr(current); err == nil && p.usable(a) {
		if _, taken := p.used[a]; !taken {
			p.take(uid, a)
			return a.String(), nil
		}
	}
	start := p.next
	if !p.usable(start) {
		start = p.prefix.Addr().Next()
	}
	for a := start; ; {
		if _, taken := p.used[a]; !taken && p.usable(a) {
			p.take(uid, a)
			p.next = a.Next()
			return a.String(), nil
		}
		a = a.Next()
		if !p.usable(a) {
			a = p.prefix.Addr().Next()
		}
		if a == start {
			return "", fmt.Errorf("pod CIDR %s exhausted", p.prefix)
		}
	}
}

// claim gives uid exactly the address ip when it is in the pool and free.
func (p *ipPool) claim(uid types.UID, ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil || !p.usable(a) {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if owner, taken := p.used[a]; taken {
		return owner == uid
	}
	if _, has := p.byUID[uid]; has {
		return false
	}
	p.take(uid, a)
	return true
}

// releaseExcept frees the addresses of every UID not in keep.
func (p *ipPool) releaseExcept(keep map[types.UID]bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for uid, a := range p.byUID {
		if !keep[uid] {
			delete(p.used, a)
			delete(p.byUID, uid)
		}
	}
}

func (p *ipPool) take(uid types.UID, a netip.Addr) {
	p.byUID[uid] = a
	p.used[a] = uid
}

// release frees the pod's address once the pod is gone.
func (p *ipPool) release(uid types.UID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a, ok := p.byUID[uid]; ok {
		delete(p.used, a)
		delete(p.byUID, uid)
	}
}

// reservePodIPs claims, after an agent restart and before any pod is
// dispatched, the addresses its pods already report, so a pod created
// meanwhile cannot take one of them. Best effort: on error pods keep their
// addresses as long as nobody took them first.
func (a *Agent) reservePodIPs(ctx context.Context) {
	if a.podIPs == nil {
		return
	}
	pods, err := a.client.CoreV1().Pods("").List(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("spec.nodeName", a.cfg.NodeName).String()})
	if err != nil {
		klog.Warningf("reserving pod IPs: %v", err)
		return
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		if !p.Spec.HostNetwork && p.Status.PodIP != "" {
			a.podIPs.claim(p.UID, p.Status.PodIP)
		}
	}
}

// lookup returns the pod's address, if it has one.
func (p *ipPool) lookup(uid types.UID) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a, ok := p.byUID[uid]
	if !ok {
		return "", false
	}
	return a.String(), true
}

// podIP is the pod's IP: the node's for hostNetwork pods (and without a
// pool), else its own loopback address.
func (w *podWorker) podIP() string {
	if w.pod.Spec.HostNetwork || w.a.podIPs == nil {
		return w.a.cfg.NodeIP
	}
	if ip, ok := w.a.podIPs.lookup(w.uid); ok {
		return ip
	}
	return w.a.cfg.NodeIP
}
