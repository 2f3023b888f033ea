package engine

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/health"
)

// typeSwitch is a test check type whose probes answer what the test sets
// for the check's address: switchOK, switchDown (the endpoint fails) or
// switchLocal (this node cannot probe: out of file descriptors, as the
// real prober reports it). Real probers are tested in internal/health,
// against real sockets and a real fd limit; here the engine's reaction is
// under test.
const typeSwitch = "test-switch"

const (
	switchOK int32 = iota
	switchDown
	switchLocal
)

type switchTarget struct {
	mode  atomic.Int32
	calls atomic.Int64
}

var switches sync.Map // address → *switchTarget

func init() {
	health.Probers[typeSwitch] = func(ctx context.Context, t *health.Target) health.Result {
		c := t.Check
		v, _ := switches.LoadOrStore(c.Address, &switchTarget{})
		s := v.(*switchTarget)
		defer s.calls.Add(1)
		now := time.Now()
		r := health.Result{Check: c.Name, Start: now, At: now}
		switch s.mode.Load() {
		case switchOK:
			r.OK = true
		case switchDown:
			r.Error = "dial tcp 192.0.2.1:80: connect: connection refused"
		case switchLocal:
			r.Error = "local: too many open files (not a backend failure)"
			r.Local = health.LocalFileDescriptors
		}
		return r
	}
}

// switched returns the switch of a test-switch check address.
func switched(addr string) *switchTarget {
	v, _ := switches.LoadOrStore(addr, &switchTarget{})
	return v.(*switchTarget)
}

func switchCheck(name, addr string) api.HealthCheck {
	c := check(name, addr)
	c.Type = typeSwitch
	return c
}

// TestLocalProbeFailuresNeverMoveTraffic: while this node cannot probe
// (local failures), no traffic moves either way — a healthy primary is not
// failed over, and a failed primary is not failed back to — and the events
// say why the check reads unknown.
func TestLocalProbeFailuresNeverMoveTraffic(t *testing.T) {
	r := newRig(t)
	addrA, addrB := t.Name()+"/a", t.Name()+"/b"
	a := switched(addrA)
	r.put(switchCheck("a", addrA))
	r.put(switchCheck("b", addrB))
	r.put(activePassive("web", 0, "a", "b"))
	r.start()
	state := func(name string) string {
		st, _ := r.e.HealthStatus(name)
		return st.State
	}
	r.waitFor("a and b healthy", 5*time.Second, func() bool { return state("a") == api.StateHealthy && state("b") == api.StateHealthy })
	if got := r.serving("web"); got != "a" {
		t.Fatalf("serving %s, want a", got)
	}
	// probes waits for n more probes of a (fall and rise are 1, so one
	// probe would be enough to move anything that could move).
	probes := func(n int64) {
		t.Helper()
		want := a.calls.Load() + n
		r.waitFor("probes of a", 5*time.Second, func() bool { return a.calls.Load() >= want })
	}

	// 1. Healthy primary, node out of fds: a reads unknown (counts as up).
	a.mode.Store(switchLocal)
	probes(10)
	if s, got := state("a"), r.serving("web"); s != api.StateUnknown || got != "a" {
		t.Fatalf("while this node cannot probe a healthy a: state %s, serving %s; want unknown, a", s, got)
	}
	st, _ := r.e.HealthStatus("a")
	if o := st.Sites["local"]; o.State != api.StateUnknown || !strings.HasPrefix(o.LastError, "local: too many open files") || o.Failures != 0 {
		t.Fatalf("site observation %+v, want unknown with the local reason and no failure counted", o)
	}

	// 2. The endpoint really fails: failover.
	a.mode.Store(switchDown)
	r.waitFor("failover to b", 5*time.Second, func() bool { return r.serving("web") == "b" })
	before, _ := r.e.Decision("web")

	// 3. Failed primary, node out of fds: a stays unhealthy, no failback.
	a.mode.Store(switchLocal)
	probes(10)
	after, _ := r.e.Decision("web")
	if s := state("a"); s != api.StateUnhealthy || after.Generation != before.Generation {
		t.Fatalf("while this node cannot probe a failed a: state %s, decision %+v; want unhealthy and no new decision", s, after)
	}

	// 4. Probing works and a answers: failback (delay 0).
	a.mode.Store(switchOK)
	r.waitFor("failback to a", 5*time.Second, func() bool { return r.serving("web") == "a" })

	r.e.Flush()
	evs, err := r.e.Events(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var unhealthy, unknownWhy int
	for _, ev := range evs {
		if ev.Type != api.EventHealth || ev.Object != "health-checks/a" {
			continue
		}
		if strings.HasPrefix(ev.Message, "check a is unhealthy") {
			unhealthy++
			if strings.Contains(ev.Message, "local:") {
				t.Errorf("a local failure was reported as unhealthy: %q", ev.Message)
			}
		}
		if ev.Message == "check a is unknown (was healthy): local: too many open files (not a backend failure)" {
			unknownWhy++
		}
	}
	if unhealthy != 1 || unknownWhy != 1 {
		t.Fatalf("health events of a: %d unhealthy, %d unknown-with-reason; want 1 and 1:\n%+v", unhealthy, unknownWhy, evs)
	}
}
