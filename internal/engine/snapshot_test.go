package engine

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// contents is everything a Snapshot answers, as plain maps.
type contents struct {
	decisions map[string]api.Decision
	burst     map[string]BurstAnswer
}

func contentsOf(s *Snapshot) contents {
	c := contents{decisions: map[string]api.Decision{}, burst: map[string]BurstAnswer{}}
	s.RangeDecisions(func(name string, a *PolicyAnswer) bool {
		c.decisions[name] = a.Decision
		return true
	})
	s.burst.Range(func(name string, a BurstAnswer) bool {
		c.burst[name] = a
		return true
	})
	return c
}

// rebuilt is what a snapshot built whole from the engine's state holds
// (the rule publishLocked applied before it was per entry).
func rebuilt(e *Engine) contents {
	e.mu.RLock()
	defer e.mu.RUnlock()
	c := contents{decisions: map[string]api.Decision{}, burst: map[string]BurstAnswer{}}
	for name, rt := range e.runtime {
		if _, ok := e.policies[name]; ok && rt.Decision.Generation > 0 {
			c.decisions[name] = rt.Decision
		}
	}
	for name, t := range e.toggles {
		on := e.toggleOn[name]
		body := t.BodyReleased
		if on {
			body = t.BodyEngaged
		}
		c.burst[name] = BurstAnswer{Engaged: on, Body: body}
	}
	return c
}

// sameAnswers compares decisions as DNS sees them (the reason may move
// without a new entry) and burst answers exactly.
func sameAnswers(a, b contents) bool {
	if !maps.Equal(a.burst, b.burst) || len(a.decisions) != len(b.decisions) {
		return false
	}
	for name, d := range a.decisions {
		o, ok := b.decisions[name]
		if !ok || o.Generation != d.Generation || !servingEqual(o.Serving, d.Serving) || o.TTLSeconds != d.TTLSeconds {
			return false
		}
	}
	return true
}

// TestSnapshotFollowsEveryChange makes each kind of change and checks that
// the per-entry snapshot holds what a whole rebuild would, that
// AnswerVersion moves exactly when DNS answers change, that snapshots
// published before are left as they were, and that a restart publishes
// the same answers.
func TestSnapshotFollowsEveryChange(t *testing.T) {
	r := newRig(t)
	hour := time.Now().Add(time.Hour)
	steps := []struct {
		name string
		do   func()
		// answers: whether DNS answers change.
		answers bool
	}{
		{"policies created", func() {
			for i := range 5 {
				r.put(activePassive(fmt.Sprintf("web%d", i), 0, "a", "b"))
			}
		}, true},
		{"toggle created", func() {
			r.put(api.BurstToggle{Name: "bf", Site: "dr", BodyEngaged: "burst", BodyReleased: "calm"})
		}, false},
		{"override moves one decision", func() { r.setOverride("web1", &api.Override{Target: "b", ExpiresAt: hour}) }, true},
		{"toggle engaged", func() {
			on := true
			r.put(api.BurstToggle{Name: "bf", Site: "dr", Engaged: &on, BodyEngaged: "burst", BodyReleased: "calm"})
		}, false},
		{"toggle body changed", func() {
			on := true
			r.put(api.BurstToggle{Name: "bf", Site: "dr", Engaged: &on, BodyEngaged: "BURST", BodyReleased: "calm"})
		}, false},
		{"policy updated, same answer", func() {
			p := activePassive("web2", 0, "a", "b")
			p.RTOSeconds = 60
			r.put(p)
		}, false},
		{"ttl changed", func() {
			p := activePassive("web3", 0, "a", "b")
			p.TTLSeconds = ptr(5)
			r.put(p)
		}, true},
		{"override cleared", func() { r.setOverride("web1", nil) }, true},
		{"policy deleted", func() { r.remove(api.KindTrafficPolicy, "web4") }, true},
		{"toggle deleted", func() { r.remove(api.KindBurstToggle, "bf") }, false},
		{"policy recreated", func() { r.put(activePassive("web4", 0, "a", "b")) }, true},
	}
	type seen struct {
		snap *Snapshot
		c    contents
	}
	var history []seen
	prev := r.e.Snapshot()
	for _, st := range steps {
		st.do()
		s := r.e.Snapshot()
		got, want := contentsOf(s), rebuilt(r.e)
		if !sameAnswers(got, want) {
			t.Fatalf("%s: snapshot holds %+v, a rebuild %+v", st.name, got, want)
		}
		if changed := !reflect.DeepEqual(got, contentsOf(prev)); changed != (s.Version > prev.Version) || s.Version < prev.Version {
			t.Errorf("%s: contents changed %t, version %d after %d", st.name, changed, s.Version, prev.Version)
		}
		if moved := s.AnswerVersion != prev.AnswerVersion; moved != st.answers {
			t.Errorf("%s: AnswerVersion moved = %t, want %t", st.name, moved, st.answers)
		}
		if st.answers && s.Newest.Before(prev.Newest) {
			t.Errorf("%s: Newest went back from %s to %s", st.name, prev.Newest, s.Newest)
		}
		history = append(history, seen{s, got})
		prev = s
	}
	for i, h := range history {
		if got := contentsOf(h.snap); !reflect.DeepEqual(got, h.c) {
			t.Errorf("snapshot of step %q changed after it was published:\n%+v\n%+v", steps[i].name, got, h.c)
		}
	}
	before := contentsOf(r.e.Snapshot())
	r.restart()
	if after := contentsOf(r.e.Snapshot()); !sameAnswers(after, before) {
		t.Errorf("after a restart the snapshot holds %+v, before %+v", after, before)
	}
}

// TestNoChangeNoSnapshot: a publish with nothing touched keeps the
// current snapshot, so DNS does not recompile for nothing.
func TestNoChangeNoSnapshot(t *testing.T) {
	r := newRig(t)
	r.put(activePassive("web", 0, "a", "b"))
	s := r.e.Snapshot()
	r.e.mu.Lock()
	r.e.publishLocked()
	r.e.mu.Unlock()
	if r.e.Snapshot() != s {
		t.Fatal("publishing with nothing touched replaced the snapshot")
	}
}

func TestPolicyAnswerDerived(t *testing.T) {
	s := NewSnapshot("Example.ORG.", api.Decision{Policy: "web", Generation: 1, TTLSeconds: 30},
		api.Decision{Policy: "undecided"})
	if s.Zone != "example.org." || s.Decisions() != 1 {
		t.Fatalf("NewSnapshot: zone %q, %d decisions", s.Zone, s.Decisions())
	}
	a, ok := s.Decision("web")
	if !ok {
		t.Fatal("no entry for web")
	}
	builds := 0
	build := func(d api.Decision) any { builds++; return strings.Repeat("x", d.TTLSeconds) }
	ownerA, ownerB := new(int), new(int)
	for range 3 {
		if v := a.Derived(ownerA, build); v != strings.Repeat("x", 30) {
			t.Fatalf("Derived = %v", v)
		}
	}
	if builds != 1 {
		t.Fatalf("built %d times for one owner, want once", builds)
	}
	a.Derived(ownerB, build)
	if builds != 2 {
		t.Fatalf("another owner got the first owner's value")
	}
	next := s.WithDecisions(api.Decision{Policy: "web", Generation: 2, TTLSeconds: 5})
	b, _ := next.DecisionBytes([]byte("web"))
	if v := b.Derived(ownerA, build); v != "xxxxx" {
		t.Fatalf("a new decision kept the old derived value %v", v)
	}
	if next.AnswerVersion == s.AnswerVersion {
		t.Fatal("WithDecisions did not move AnswerVersion")
	}
	if gone := next.WithDecisions(api.Decision{Policy: "web"}); gone.Decisions() != 0 {
		t.Fatal("a generation-0 decision did not remove the entry")
	}
}

// BenchmarkPublish is the cost of one decision change at n policies:
// evaluate-equivalent bookkeeping, then publishLocked. It should not grow
// with n (beyond the persistent map's log₃₂ n).
func BenchmarkPublish(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("policies=%d", n), func(b *testing.B) {
			e := &Engine{opts: Options{Zone: "failover.internal."}, policies: map[string]api.TrafficPolicy{},
				runtime: map[string]*policyRuntime{}, toggles: map[string]api.BurstToggle{}, toggleOn: map[string]bool{}}
			now := time.Now()
			for i := range n {
				name := fmt.Sprintf("p%05d", i)
				e.policies[name] = api.TrafficPolicy{Name: name}
				e.runtime[name] = &policyRuntime{Decision: api.Decision{Policy: name, Generation: 1, Since: now, TTLSeconds: 30,
					Serving: []api.ServingTarget{{Target: "a", Addresses: []string{"192.0.2.1"}}}}}
			}
			e.publishLocked()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				name := fmt.Sprintf("p%05d", i%n)
				rt := e.runtime[name]
				rt.Decision.Generation++
				e.touchPolicyLocked(name)
				e.publishLocked()
			}
			if got := e.Snapshot().Decisions(); got != n {
				b.Fatalf("%d decisions, want %d", got, n)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func (r *rig) remove(k api.Kind, name string) {
	r.t.Helper()
	err := r.e.Mutate(context.Background(), func() (*Change, error) {
		return &Change{Kind: k, Name: name, Audit: api.Event{Type: api.EventAudit, Message: "test"}}, nil
	})
	if err != nil {
		r.t.Fatal(err)
	}
}

// TestCheckUsersFollowPolicies: the check → policies index agrees with a
// scan of every policy after creates, updates that change checks, and
// deletes, and after a restart.
func TestCheckUsersFollowPolicies(t *testing.T) {
	r := newRig(t)
	scan := func(check string) []string {
		var out []string
		for _, name := range api.SortedKeys(r.e.policies) {
			for _, tg := range r.e.policies[name].Targets {
				if slices.Contains(tg.HealthChecks, check) {
					out = append(out, name)
					break
				}
			}
		}
		return out
	}
	verify := func(step string) {
		t.Helper()
		r.e.mu.RLock()
		defer r.e.mu.RUnlock()
		for _, c := range []string{"a", "b", "c", "d"} {
			if got, want := r.e.checkUsers.of(c), scan(c); !slices.Equal(got, want) && len(got)+len(want) > 0 {
				t.Errorf("%s: policies using %s: index %v, scan %v", step, c, got, want)
			}
		}
	}
	r.put(activePassive("web", 0, "a", "b"))
	r.put(activePassive("api", 0, "b", "c"))
	verify("created")
	r.put(activePassive("web", 0, "c", "d"))
	verify("web moved from a, b to c, d")
	r.remove(api.KindTrafficPolicy, "api")
	verify("api deleted")
	r.restart()
	verify("restarted")
	if refs := r.e.Referrers(api.KindHealthCheck, "d"); !slices.Equal(refs, []string{objectRef(api.KindTrafficPolicy, "web")}) {
		t.Errorf("Referrers of d = %v", refs)
	}
}

// BenchmarkCheckTransition is the engine's cost of one check's state
// change at 10,000 policies, each using its own check: finding the
// policies to re-evaluate (the index) and evaluating the one that uses it.
func BenchmarkCheckTransition(b *testing.B) {
	st, err := store.OpenBolt(filepath.Join(b.TempDir(), "failoverd.db"), store.BoltOptions{})
	if err != nil {
		b.Fatal(err)
	}
	e, err := New(Options{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close(); st.Close() })
	e.mu.Lock()
	defer e.mu.Unlock()
	// Declared straight into the engine: 10,000 commits would measure
	// the store.
	for i := range 10000 {
		e.setObjectLocked(activePassive(fmt.Sprintf("p%05d", i), 0, fmt.Sprintf("c%05d", i), "standby"))
	}
	now := time.Now()
	for i := 0; b.Loop(); i++ {
		e.reactToCheckLocked(fmt.Sprintf("c%05d", i%10000), now, now)
	}
}
