package engine

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// rig is an engine on a real bolt store in a temp dir.
type rig struct {
	t    *testing.T
	path string
	st   *store.Bolt
	e    *Engine
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{t: t, path: filepath.Join(t.TempDir(), "failoverd.db")}
	r.open()
	t.Cleanup(r.close)
	return r
}

func (r *rig) open() {
	r.t.Helper()
	st, err := store.OpenBolt(r.path, store.BoltOptions{})
	if err != nil {
		r.t.Fatal(err)
	}
	e, err := New(Options{Store: st, Site: "local", BaseURL: "http://127.0.0.1:1"})
	if err != nil {
		r.t.Fatal(err)
	}
	r.st, r.e = st, e
}

func (r *rig) start() { r.e.Start(context.Background()) }

func (r *rig) close() {
	if r.e != nil {
		r.e.Close()
		r.st.Close()
		r.e = nil
	}
}

// restart is a clean restart on the same data dir (not started).
func (r *rig) restart() {
	r.close()
	r.open()
}

func (r *rig) put(o api.Object) {
	r.t.Helper()
	var v uint64 = 1
	if cur, ok := r.e.Get(o.ObjectKind(), o.ObjectName()); ok {
		v = cur.ObjectVersion() + 1
	}
	o = api.WithVersion(o, v)
	err := r.e.Mutate(context.Background(), func() (*Change, error) {
		return &Change{Kind: o.ObjectKind(), Name: o.ObjectName(), Object: o,
			Audit: api.Event{Type: api.EventAudit, Message: "test"}}, nil
	})
	if err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) setOverride(policy string, ov *api.Override) {
	r.t.Helper()
	err := r.e.Mutate(context.Background(), func() (*Change, error) {
		return &Change{Override: &OverrideChange{Policy: policy, Set: ov}, Audit: api.Event{Type: api.EventAudit}}, nil
	})
	if err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) waitFor(what string, within time.Duration, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			r.t.Fatalf("not within %s: %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (r *rig) serving(policy string) string {
	d, _ := r.e.Decision(policy)
	return servingNames(d.Serving)
}

// backend is a real HTTP server on 127.0.0.1 that can be stopped and
// started on the same port.
type backend struct {
	t    *testing.T
	addr string
	srv  *http.Server
}

func newBackend(t *testing.T) *backend {
	b := &backend{t: t, addr: "127.0.0.1:0"}
	b.up()
	t.Cleanup(b.down)
	return b
}

func (b *backend) up() {
	ln, err := net.Listen("tcp", b.addr)
	for i := 0; err != nil && i < 50; i++ {
		time.Sleep(20 * time.Millisecond)
		ln, err = net.Listen("tcp", b.addr)
	}
	if err != nil {
		b.t.Fatal(err)
	}
	b.addr = ln.Addr().String()
	b.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) })}
	go b.srv.Serve(ln)
}

func (b *backend) down() {
	if b.srv != nil {
		b.srv.Close()
		b.srv = nil
	}
}

func check(name, addr string) api.HealthCheck {
	c := api.HealthCheck{Name: name, Site: name, Type: api.CheckHTTP, Address: addr, IntervalSeconds: 0.1, TimeoutSeconds: 0.05, Rise: 1, Fall: 1}
	c.Normalize()
	return c
}

func activePassive(name string, failback int, checks ...string) api.TrafficPolicy {
	p := api.TrafficPolicy{Name: name, Mode: api.ModeActivePassive, FailbackDelaySeconds: &failback,
		WhenAllDown: api.AllDownFailClosed, Targets: map[string]api.PolicyTarget{}}
	for i, c := range checks {
		p.Targets[c] = api.PolicyTarget{Site: c, Addresses: []string{"192.0.2." + string(rune('1'+i))}, HealthChecks: []string{c}, Priority: i + 1}
	}
	p.Normalize()
	return p
}

func TestFailoverSurvivesRestart(t *testing.T) {
	r := newRig(t)
	a, b := newBackend(t), newBackend(t)
	r.put(check("a", a.addr))
	r.put(check("b", b.addr))
	r.put(activePassive("web", 3600, "a", "b"))
	r.start()
	r.waitFor("both healthy", 5*time.Second, func() bool {
		sa, _ := r.e.HealthStatus("a")
		sb, _ := r.e.HealthStatus("b")
		return sa.State == api.StateHealthy && sb.State == api.StateHealthy
	})
	if got := r.serving("web"); got != "a" {
		t.Fatalf("serving %s, want a", got)
	}
	a.down()
	r.waitFor("failover to b", 5*time.Second, func() bool { return r.serving("web") == "b" })
	before, _ := r.e.Decision("web")
	a.up() // a recovers, but the failback delay is an hour

	r.restart()
	after, _ := r.e.Decision("web")
	if after.Generation != before.Generation || servingNames(after.Serving) != "b" {
		t.Fatalf("after restart: generation %d serving %s; want generation %d serving b (a restart must not move traffic)",
			after.Generation, servingNames(after.Serving), before.Generation)
	}
	if st, _ := r.e.HealthStatus("a"); st.State != api.StateUnhealthy {
		t.Fatalf("check a restored as %s, want its last known state unhealthy", st.State)
	}
	r.start()
	r.waitFor("a healthy again", 5*time.Second, func() bool {
		st, _ := r.e.HealthStatus("a")
		return st.State == api.StateHealthy
	})
	if got := r.serving("web"); got != "b" {
		t.Fatalf("failed back to %s before the failback delay", got)
	}
}

func TestBurstScheduleWindowFlipsOnItsOwn(t *testing.T) {
	r := newRig(t)
	now := time.Now()
	r.put(api.BurstToggle{Name: "bf", Site: "dr", BodyEngaged: "burst", BodyReleased: "no-burst",
		Schedule: []api.Window{{Start: now.Add(300 * time.Millisecond), End: now.Add(700 * time.Millisecond)}}})
	r.start()
	burst := func() BurstAnswer {
		a, ok := r.e.Snapshot().Burst("bf")
		if !ok {
			t.Fatal("toggle bf is not in the snapshot")
		}
		return a
	}
	if a := burst(); a.Engaged || a.Body != "no-burst" {
		t.Fatalf("before its window: %+v", a)
	}
	r.waitFor("window starts", 3*time.Second, func() bool { return burst().Engaged })
	if body := burst().Body; body != "burst" {
		t.Fatalf("body %q, want burst", body)
	}
	r.waitFor("window ends", 3*time.Second, func() bool { return !burst().Engaged })
}

func TestOverridePinsAndExpires(t *testing.T) {
	r := newRig(t)
	a, b := newBackend(t), newBackend(t)
	r.put(check("a", a.addr))
	r.put(check("b", b.addr))
	r.put(activePassive("web", 0, "a", "b"))
	r.start()
	r.waitFor("serving a", 5*time.Second, func() bool { return r.serving("web") == "a" })
	r.setOverride("web", &api.Override{Target: "b", ExpiresAt: time.Now().Add(500 * time.Millisecond)})
	if got := r.serving("web"); got != "b" {
		t.Fatalf("override not applied at once: serving %s", got)
	}
	r.waitFor("override expires", 3*time.Second, func() bool { return r.serving("web") == "a" })
	if _, ok := r.e.Override("web"); ok {
		t.Fatal("expired override still reported")
	}
}

func TestDisablingACheckNeverMovesTraffic(t *testing.T) {
	r := newRig(t)
	a, b := newBackend(t), newBackend(t)
	r.put(check("a", a.addr))
	r.put(check("b", b.addr))
	r.put(activePassive("web", 0, "a", "b"))
	r.start()
	a.down()
	r.waitFor("failover to b", 5*time.Second, func() bool { return r.serving("web") == "b" })
	c := check("a", a.addr)
	c.Enabled = new(bool)
	r.put(c)
	// A disabled check has no opinion (unknown counts as up): a is preferred again.
	r.waitFor("back on a", 3*time.Second, func() bool { return r.serving("web") == "a" })
	if st, _ := r.e.HealthStatus("a"); st.State != api.StateUnknown {
		t.Fatalf("disabled check is %s, want unknown", st.State)
	}
}

func TestEventsCarryObservationTime(t *testing.T) {
	r := newRig(t)
	a, b := newBackend(t), newBackend(t)
	r.put(check("a", a.addr))
	r.put(check("b", b.addr))
	r.put(activePassive("web", 0, "a", "b"))
	r.start()
	r.waitFor("serving a", 5*time.Second, func() bool {
		st, _ := r.e.HealthStatus("a")
		return st.State == api.StateHealthy
	})
	a.down()
	r.waitFor("failover", 5*time.Second, func() bool { return r.serving("web") == "b" })
	r.e.Flush()
	evs, err := r.e.Events(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, ev := range evs {
		if ev.Type == api.EventDecision && ev.ObservedAt != nil && ev.Object == "traffic-policies/web" && !ev.Time.Before(*ev.ObservedAt) {
			if d, _ := r.e.Decision("web"); ev.ObservedAt.Equal(d.ObservedAt) {
				found = true
			}
		}
	}
	if !found {
		t.Fatalf("no decision event carrying the failover's observation time in %d events", len(evs))
	}
}

// TestEveryKindHasACollection: generic code reaches each kind's objects
// through e.objects, so a kind missing there would be silently dropped.
func TestEveryKindHasACollection(t *testing.T) {
	e := newRig(t).e
	for _, k := range api.Kinds {
		if e.objects[k] == nil {
			t.Errorf("no collection for %q", k)
		}
	}
}

// TestFollowerKeepsNewerHeldDecision: a node that decided, was cut off
// before the decision was stored, and reconnects, receives the late echo
// of its own older write through the feed as a follower. It keeps the
// newer decision it holds (going back would flip its answers and, were it
// to lead again, restart the decision's clocks), and takes any newer one.
func TestFollowerKeepsNewerHeldDecision(t *testing.T) {
	r := newRig(t)
	a, b := newBackend(t), newBackend(t)
	r.put(check("a", a.addr))
	r.put(check("b", b.addr))
	r.put(activePassive("web", 3600, "a", "b"))
	r.start()
	r.waitFor("serving a", 5*time.Second, func() bool { return r.serving("web") == "a" })
	a.down()
	r.waitFor("failover to b", 5*time.Second, func() bool { return r.serving("web") == "b" })

	e := r.e
	e.mu.Lock()
	defer e.mu.Unlock()
	e.leading = false // a follower now, as after a cut
	held := *e.runtime["web"]
	for _, tc := range []struct {
		name string
		gen  uint64
		want uint64
	}{
		{"older: the late echo of its own write", held.Decision.Generation - 1, held.Decision.Generation},
		{"the same generation: the stored one", held.Decision.Generation, held.Decision.Generation},
		{"newer: another leader's", held.Decision.Generation + 1, held.Decision.Generation + 1},
	} {
		rec := held
		rec.Decision.Generation = tc.gen
		e.applyStateLocked(store.Change{Bucket: store.BucketState, Key: keyPolicyPrefix + "web", Value: mustJSON(rec)}, e.now())
		if got := e.runtime["web"].Decision.Generation; got != tc.want {
			t.Errorf("%s (generation %d): holds generation %d, want %d", tc.name, tc.gen, got, tc.want)
		}
	}
	e.leading = true
}
