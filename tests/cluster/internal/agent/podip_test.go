package agent

import (
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

func TestIPPoolAssignsDistinctStableAddresses(t *testing.T) {
	p, err := newIPPool("127.1.0.0/30") // usable: .1 and .2
	if err != nil {
		t.Fatal(err)
	}
	a, _ := p.assign("a", "")
	b, _ := p.assign("b", "")
	if a != "127.1.0.1" || b != "127.1.0.2" {
		t.Fatalf("got %s %s, want 127.1.0.1 127.1.0.2", a, b)
	}
	if again, _ := p.assign("a", ""); again != a {
		t.Fatalf("a re-assigned %s, want %s", again, a)
	}
	if _, err := p.assign("c", ""); err == nil {
		t.Fatal("a /30 gave a third address")
	}
	p.release("a")
	if c, err := p.assign("c", ""); err != nil || c != "127.1.0.1" {
		t.Fatalf("after release: %s %v, want 127.1.0.1", c, err)
	}
}

func TestIPPoolKeepsTheAddressFromStatus(t *testing.T) {
	p, _ := newIPPool("127.1.0.0/16")
	if got, _ := p.assign(types.UID("x"), "127.1.3.4"); got != "127.1.3.4" {
		t.Fatalf("got %s, want the status address 127.1.3.4", got)
	}
	// Taken, or outside the pool (the old node-IP pod IP): a fresh one.
	if got, _ := p.assign(types.UID("y"), "127.1.3.4"); got == "127.1.3.4" {
		t.Fatal("two pods share 127.1.3.4")
	}
	if got, _ := p.assign(types.UID("z"), "127.0.0.1"); got == "127.0.0.1" {
		t.Fatal("an address outside the pool was kept")
	}
}

func TestIPPoolRejectsNonLoopback(t *testing.T) {
	for _, c := range []string{"10.0.0.0/16", "127.0.0.0/31", "::1/128", "nope"} {
		if _, err := newIPPool(c); err == nil {
			t.Errorf("%s accepted", c)
		}
	}
}

func TestIPPoolClaimReservesBeforeNewPods(t *testing.T) {
	p, _ := newIPPool("127.1.0.0/16")
	// After an agent restart: "old" reported 127.1.0.1 before a new pod arrives.
	if !p.claim("old", "127.1.0.1") {
		t.Fatal("claim of a free pool address failed")
	}
	if got, _ := p.assign("new", ""); got == "127.1.0.1" {
		t.Fatal("a new pod took the address an existing pod reports")
	}
	if got, _ := p.assign("old", "127.1.0.1"); got != "127.1.0.1" {
		t.Fatalf("old pod got %s, want its reserved 127.1.0.1", got)
	}
	if p.claim("other", "127.1.0.1") || p.claim("x", "10.0.0.1") {
		t.Fatal("claimed a taken or foreign address")
	}
	p.releaseExcept(map[types.UID]bool{"new": true})
	if _, ok := p.lookup("old"); ok {
		t.Fatal("releaseExcept kept an unlisted UID")
	}
	if _, ok := p.lookup("new"); !ok {
		t.Fatal("releaseExcept dropped a listed UID")
	}
}
