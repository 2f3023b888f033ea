package policy

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

var t0 = time.Date(2025, 11, 28, 4, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// target builds a policy target answering one documentation address.
func target(addr string, priority int) api.PolicyTarget {
	return api.PolicyTarget{Site: "s-" + strings.ReplaceAll(addr, ".", "-"), Addresses: []string{addr}, Priority: priority, HealthChecks: []string{"hc"}}
}

// activePassive is dc1 (priority 1) over dc2 (priority 2), with a fallback.
func activePassive(edit func(*api.TrafficPolicy)) api.TrafficPolicy {
	p := api.TrafficPolicy{
		Name:        "web",
		Mode:        api.ModeActivePassive,
		Targets:     map[string]api.PolicyTarget{"dc1": target("192.0.2.1", 1), "dc2": target("192.0.2.2", 2)},
		WhenAllDown: api.AllDownFallback,
		Fallback:    &api.Fallback{Addresses: []string{"198.51.100.1"}},
	}
	if edit != nil {
		edit(&p)
	}
	p.Normalize()
	return p
}

// activeActive is a (weight 3), b (weight 1) and c (weight 0).
func activeActive(edit func(*api.TrafficPolicy)) api.TrafficPolicy {
	return activePassive(func(p *api.TrafficPolicy) {
		p.Mode = api.ModeActiveActive
		p.Targets = map[string]api.PolicyTarget{}
		for i, n := range []string{"a", "b", "c"} {
			t := target(fmt.Sprintf("192.0.2.%d", 10+i), 0)
			t.Weight = ptr([]int{3, 1, 0}[i])
			p.Targets[n] = t
		}
		if edit != nil {
			edit(p)
		}
	})
}

func withBurst(p *api.TrafficPolicy) {
	p.BurstToggle = "black-friday"
	p.Targets["dr"] = api.PolicyTarget{Addresses: []string{"203.0.113.1"}, BurstOnly: true}
}

func delays(failover, failback int, mode string) func(*api.TrafficPolicy) {
	return func(p *api.TrafficPolicy) {
		p.FailoverDelaySeconds = failover
		p.FailbackDelaySeconds = ptr(failback)
		p.Failback = mode
	}
}

func chain(edits ...func(*api.TrafficPolicy)) func(*api.TrafficPolicy) {
	return func(p *api.TrafficPolicy) {
		for _, e := range edits {
			e(p)
		}
	}
}

func pin(target string, until time.Duration) *api.Override {
	return &api.Override{Target: target, ExpiresAt: t0.Add(until), SetBy: "oncall", Reason: "drill"}
}

// served renders Serving compactly: "name", or "name=weight" when the
// weight is not 1.
func served(s []api.ServingTarget) []string {
	out := []string{}
	for _, t := range s {
		if t.Weight == 1 {
			out = append(out, t.Target)
		} else {
			out = append(out, fmt.Sprintf("%s=%d", t.Target, t.Weight))
		}
	}
	return out
}

const none = time.Duration(0)

// step is one instant of a timeline: what changes, then what must be served.
type step struct {
	at       time.Duration   // since t0
	up       map[string]bool // health transitions at this instant
	burst    *bool
	override *api.Override // set (kept until clear)
	clear    bool
	edit     func(*api.TrafficPolicy) // applied to the policy from now on

	want   []string
	wake   time.Duration // NextWake - t0; none = zero
	reason string        // substring of Reason, when set
	check  func(*testing.T, Result)
}

func TestEvaluateTimelines(t *testing.T) {
	on, off := ptr(true), ptr(false)
	down := func(names ...string) map[string]bool {
		m := map[string]bool{}
		for _, n := range names {
			m[n] = false
		}
		return m
	}
	up := func(names ...string) map[string]bool {
		m := map[string]bool{}
		for _, n := range names {
			m[n] = true
		}
		return m
	}
	s := time.Second

	tests := []struct {
		name   string
		policy api.TrafficPolicy
		steps  []step
	}{
		{
			name:   "primary down with delay 0 fails over immediately",
			policy: activePassive(delays(0, 60, api.FailbackAuto)),
			steps: []step{
				{at: 0, want: []string{"dc1"}, wake: none, reason: `serving "dc1" (priority 1)`},
				{at: 10 * s, up: down("dc1"), want: []string{"dc2"}, wake: none,
					check: func(t *testing.T, r Result) {
						want := `target "dc1" down for 0s (failover delay 0s): serving "dc2" (priority 2)`
						if r.Reason != want {
							t.Errorf("Reason = %q, want %q", r.Reason, want)
						}
						if !r.ObservedAt.Equal(t0.Add(10*s - 500*time.Millisecond)) {
							t.Errorf("ObservedAt = %v, want the failed target's observation", r.ObservedAt)
						}
					}},
			},
		},
		{
			name:   "failover delay 30s: not before, exactly at",
			policy: activePassive(delays(30, 60, api.FailbackAuto)),
			steps: []step{
				{at: 0, want: []string{"dc1"}},
				{at: 10 * s, up: down("dc1"), want: []string{"dc1"}, wake: 40 * s, reason: "failing over at 2025-11-28T04:00:40Z (failover delay 30s)"},
				{at: 39*s + 999*time.Millisecond, want: []string{"dc1"}, wake: 40 * s},
				{at: 40 * s, want: []string{"dc2"}, wake: none, reason: `target "dc1" down for 30s (failover delay 30s): serving "dc2"`},
			},
		},
		{
			name:   "primary recovering within the failover delay never moves traffic",
			policy: activePassive(delays(30, 60, api.FailbackAuto)),
			steps: []step{
				{at: 0, want: []string{"dc1"}},
				{at: 10 * s, up: down("dc1"), want: []string{"dc1"}, wake: 40 * s},
				{at: 25 * s, up: up("dc1"), want: []string{"dc1"}, wake: none},
				{at: 30 * s, up: down("dc1"), want: []string{"dc1"}, wake: 60 * s}, // the clock restarts
				{at: 59 * s, want: []string{"dc1"}, wake: 60 * s},
				{at: 60 * s, want: []string{"dc2"}, wake: none},
			},
		},
		{
			name:   "failback after the failback delay",
			policy: activePassive(delays(0, 60, api.FailbackAuto)),
			steps: []step{
				{at: 0, want: []string{"dc1"}},
				{at: 10 * s, up: down("dc1"), want: []string{"dc2"}},
				{at: 20 * s, up: up("dc1"), want: []string{"dc2"}, wake: 80 * s, reason: `"dc1" (priority 1) up for 0s: failing back at 2025-11-28T04:01:20Z (failback delay 1m0s)`},
				{at: 79 * s, want: []string{"dc2"}, wake: 80 * s},
				{at: 80 * s, want: []string{"dc1"}, wake: none, reason: `target "dc1" up for 1m0s (failback delay 1m0s): serving "dc1" (priority 1)`},
			},
		},
		{
			name:   "flapping primary never returns before its failback delay",
			policy: activePassive(delays(0, 60, api.FailbackAuto)),
			steps: []step{
				{at: 0, want: []string{"dc1"}},
				{at: 10 * s, up: down("dc1"), want: []string{"dc2"}},
				{at: 20 * s, up: up("dc1"), want: []string{"dc2"}, wake: 80 * s},
				{at: 50 * s, up: down("dc1"), want: []string{"dc2"}, wake: none},
				{at: 60 * s, up: up("dc1"), want: []string{"dc2"}, wake: 120 * s},
				{at: 80 * s, want: []string{"dc2"}, wake: 120 * s},
				{at: 119 * s, want: []string{"dc2"}, wake: 120 * s},
				{at: 120 * s, want: []string{"dc1"}, wake: none, reason: `target "dc1" up for 1m0s (failback delay 1m0s): serving "dc1" (priority 1)`},
			},
		},
		{
			name:   "manual failback stays put until an override is set and cleared",
			policy: activePassive(delays(0, 60, api.FailbackManual)),
			steps: []step{
				{at: 0, want: []string{"dc1"}},
				{at: 10 * s, up: down("dc1"), want: []string{"dc2"}, check: wantHeld("dc1")},
				{at: 20 * s, up: up("dc1"), want: []string{"dc2"}, wake: none, reason: "failback is manual: set and clear an override"},
				{at: 24 * time.Hour, want: []string{"dc2"}, wake: none, check: wantHeld("dc1")},
				{at: 24*time.Hour + s, override: pin("dc1", 24*time.Hour+60*s), want: []string{"dc1"}, wake: 24*time.Hour + 60*s},
				{at: 24*time.Hour + 2*s, clear: true, want: []string{"dc1"}, wake: none, reason: "holds released", check: wantHeld()},
				{at: 24*time.Hour + 3*s, up: down("dc1"), want: []string{"dc2"}, check: wantHeld("dc1")},
			},
		},
		{
			name:   "manual failback: when the current target fails, the best up target serves",
			policy: activePassive(chain(delays(0, 60, api.FailbackManual), func(p *api.TrafficPolicy) { p.Targets["dc3"] = target("192.0.2.3", 3) })),
			steps: []step{
				{at: 0, want: []string{"dc1"}},
				{at: 10 * s, up: down("dc1"), want: []string{"dc2"}, check: wantHeld("dc1")},
				{at: 20 * s, up: up("dc1"), want: []string{"dc2"}, wake: none},
				{at: 30 * s, up: down("dc2"), want: []string{"dc1"}, check: wantHeld()}, // up only 10s, but better than nothing
			},
		},
		{
			name:   "first evaluation takes the best up target at once, whatever the delays",
			policy: activePassive(delays(30, 600, api.FailbackAuto)),
			steps: []step{
				{at: 0, up: down("dc1"), want: []string{"dc2"}, wake: none},
				{at: 10 * s, up: up("dc1"), want: []string{"dc2"}, wake: 610 * s},
			},
		},
		{
			name:   "burst engaged and released (Prod to Prod+)",
			policy: activePassive(chain(delays(0, 60, api.FailbackAuto), withBurst)),
			steps: []step{
				{at: 0, want: []string{"dc1"}, wake: none},
				{at: 10 * s, burst: on, want: []string{"dc1", "dr"}, reason: `burst toggle "black-friday" engaged: also serving "dr"`},
				{at: 20 * s, up: down("dr"), want: []string{"dc1"}, reason: `target "dr" left rotation`},
				{at: 30 * s, up: up("dr"), want: []string{"dc1"}, wake: 90 * s},
				{at: 90 * s, want: []string{"dc1", "dr"}, wake: none},
				{at: 100 * s, burst: off, want: []string{"dc1"}, wake: none},
				{at: 110 * s, burst: on, want: []string{"dc1", "dr"}, wake: none}, // no failback delay for the toggle itself
			},
		},
		{
			name:   "burst targets are never the failover target",
			policy: activePassive(chain(delays(0, 60, api.FailbackAuto), withBurst)),
			steps: []step{
				{at: 0, want: []string{"dc1"}},
				{at: 10 * s, up: down("dc1", "dc2"), want: []string{"fallback"}, reason: `no failover target is up, so serving the fallback`},
				{at: 20 * s, burst: on, want: []string{"dr"}, reason: "serving only the burst targets"},
				{at: 30 * s, up: up("dc2"), want: []string{"dc2", "dr"}},
			},
		},
		{
			name:   "active-active weights, leave and return delays",
			policy: activeActive(delays(30, 60, api.FailbackAuto)),
			steps: []step{
				{at: 0, want: []string{"a=3", "b"}, wake: none, reason: `serving "a" (weight 3), "b" (weight 1)`},
				{at: 10 * s, up: down("b"), want: []string{"a=3", "b"}, wake: 40 * s, reason: `"b" down for 0s: leaves rotation at`},
				{at: 40 * s, want: []string{"a=3"}, wake: none, reason: `target "b" left rotation (down for 30s, failover delay 30s): serving "a" (weight 3)`},
				{at: 50 * s, up: up("b"), want: []string{"a=3"}, wake: 110 * s},
				{at: 109 * s, want: []string{"a=3"}, wake: 110 * s},
				{at: 110 * s, want: []string{"a=3", "b"}, wake: none, reason: `target "b" returned to rotation`},
				{at: 120 * s, edit: func(p *api.TrafficPolicy) { p.Targets["c"] = withWeight(p.Targets["c"], 2) }, want: []string{"a=3", "b", "c=2"}},
			},
		},
		{
			name:   "active-active manual failback holds a target until an override ends",
			policy: activeActive(delays(0, 60, api.FailbackManual)),
			steps: []step{
				{at: 0, want: []string{"a=3", "b"}},
				{at: 10 * s, up: down("b"), want: []string{"a=3"}, check: wantHeld("b")},
				{at: 20 * s, up: up("b"), want: []string{"a=3"}, wake: none, reason: `"b" up for 0s, held out of rotation`},
				{at: time.Hour, want: []string{"a=3"}, wake: none},
				{at: time.Hour + s, override: pin("a", 2*time.Hour), want: []string{"a=3"}, wake: 2 * time.Hour},
				{at: time.Hour + 2*s, clear: true, want: []string{"a=3", "b"}, check: wantHeld()},
			},
		},
		{
			name:   "active-active with a burst_only target",
			policy: activeActive(withBurst),
			steps: []step{
				{at: 0, want: []string{"a=3", "b"}},
				{at: s, burst: ptr(true), want: []string{"a=3", "b", "dr"}},
				{at: 2 * s, burst: ptr(false), want: []string{"a=3", "b"}},
			},
		},
		{
			name:   "active-active all down: fallback",
			policy: activeActive(nil),
			steps: []step{
				{at: 0, up: down("a", "b", "c"), want: []string{"fallback"}, reason: `no target is in rotation, so serving the fallback (when_all_down = "fallback")`,
					check: func(t *testing.T, r Result) {
						want := api.ServingTarget{Target: "fallback", Addresses: []string{"198.51.100.1"}, Weight: 1}
						if !reflect.DeepEqual(r.Serving, []api.ServingTarget{want}) {
							t.Errorf("Serving = %+v, want %+v", r.Serving, want)
						}
					}},
				// Nothing serves, so a recovered target does not wait for
				// its failback delay: any healthy target beats the fallback.
				{at: 10 * s, up: up("a"), want: []string{"a=3"}, reason: `target "a" rejoined rotation at once (up for 0s) because no other target can serve`},
				{at: 20 * s, up: up("b"), want: []string{"a=3"}, wake: 80 * s},
				{at: 80 * s, want: []string{"a=3", "b"}},
			},
		},
		{
			name:   "active-active manual failback: a held target serves rather than nothing",
			policy: activeActive(delays(0, 60, api.FailbackManual)),
			steps: []step{
				{at: 0, want: []string{"a=3", "b"}},
				{at: 10 * s, up: down("b"), want: []string{"a=3"}, check: wantHeld("b")},
				{at: 20 * s, up: up("b"), want: []string{"a=3"}, wake: none, check: wantHeld("b")},
				{at: 30 * s, up: down("a"), want: []string{"b"}, check: wantHeld("a")},
			},
		},
		{
			name:   "active-active all down: fail_open serves enabled targets with a weight",
			policy: activeActive(func(p *api.TrafficPolicy) { p.WhenAllDown = api.AllDownFailOpen; p.Fallback = nil }),
			steps:  []step{{at: 0, up: down("a", "b", "c"), want: []string{"a=3", "b"}, reason: "fail_open"}},
		},
		{
			name: "active-passive all down: fallback, then the first target back serves at once",
			policy: activePassive(chain(delays(0, 60, api.FailbackAuto), func(p *api.TrafficPolicy) {
				p.Fallback = &api.Fallback{CNAME: "sorry.example.net"}
			})),
			steps: []step{
				{at: 0, want: []string{"dc1"}},
				{at: 10 * s, up: down("dc1", "dc2"), want: []string{"fallback"}, check: func(t *testing.T, r Result) {
					if r.Serving[0].CNAME != "sorry.example.net" || r.State.Active != "" {
						t.Errorf("Serving = %+v, State = %+v; want the fallback cname and no active target", r.Serving, r.State)
					}
				}},
				{at: 20 * s, up: up("dc2"), want: []string{"dc2"}, check: func(t *testing.T, r Result) {
					if !r.ObservedAt.Equal(t0.Add(20*s - 500*time.Millisecond)) {
						t.Errorf("ObservedAt = %v, want dc2's recovery", r.ObservedAt)
					}
				}},
				{at: 30 * s, up: up("dc1"), want: []string{"dc2"}, wake: 90 * s},
				{at: 90 * s, want: []string{"dc1"}},
			},
		},
		{
			name:   "active-passive all down: fail_open in order of preference",
			policy: activePassive(func(p *api.TrafficPolicy) { p.WhenAllDown = api.AllDownFailOpen; p.Fallback = nil; withBurst(p) }),
			steps: []step{
				{at: 0, up: down("dc1", "dc2", "dr"), want: []string{"dc1", "dc2"}, reason: `so serving every enabled target regardless of health (when_all_down = "fail_open")`},
				{at: s, burst: ptr(true), want: []string{"dc1", "dc2", "dr"}},
			},
		},
		{
			name:   "active-passive all down: fail_closed serves nothing",
			policy: activePassive(func(p *api.TrafficPolicy) { p.WhenAllDown = api.AllDownFailClosed; p.Fallback = nil }),
			steps: []step{
				{at: 0, up: down("dc1", "dc2"), want: []string{}, reason: `no failover target is up, so serving nothing (when_all_down = "fail_closed")`},
			},
		},
		{
			name:   "override pins a target regardless of health, then expires",
			policy: activePassive(delays(0, 60, api.FailbackAuto)),
			steps: []step{
				{at: 0, want: []string{"dc1"}},
				{at: 10 * s, override: pin("dc2", 70*s), want: []string{"dc2"}, wake: 70 * s,
					reason: `operator override: serving "dc2" regardless of health until 2025-11-28T04:01:10Z (set by "oncall": "drill")`},
				{at: 20 * s, up: down("dc2"), want: []string{"dc2"}, wake: 70 * s},
				{at: 69 * s, want: []string{"dc2"}, wake: 70 * s},
				{at: 70 * s, want: []string{"dc1"}, wake: none, reason: `override to "dc2" ended`, check: func(t *testing.T, r Result) {
					if r.State.Override != "" {
						t.Errorf("State.Override = %q after expiry", r.State.Override)
					}
				}},
			},
		},
		{
			name:   "override to a disabled or unknown target is ignored",
			policy: activePassive(func(p *api.TrafficPolicy) { p.Targets["dc3"] = withEnabled(target("192.0.2.3", 3), false) }),
			steps: []step{
				{at: 0, override: pin("dc3", time.Hour), want: []string{"dc1"}, wake: none, reason: `override to "dc3" ignored: the target is disabled`},
				{at: s, override: pin("nope", time.Hour), want: []string{"dc1"}, reason: `override to "nope" ignored: the policy has no such target`},
			},
		},
		{
			name:   "disabled targets never serve; disabling the active target moves traffic at once",
			policy: activePassive(chain(delays(300, 60, api.FailbackAuto), func(p *api.TrafficPolicy) { p.Targets["dc3"] = target("192.0.2.3", 3) })),
			steps: []step{
				{at: 0, want: []string{"dc1"}},
				{at: s, edit: func(p *api.TrafficPolicy) { p.Targets["dc1"] = withEnabled(p.Targets["dc1"], false) }, want: []string{"dc2"}, reason: `target "dc1" is disabled: serving "dc2"`},
				{at: 2 * s, edit: func(p *api.TrafficPolicy) { delete(p.Targets, "dc2") }, want: []string{"dc3"}, reason: `target "dc2" was removed from the policy`},
				{at: 3 * s, edit: func(p *api.TrafficPolicy) { p.Targets["dc1"] = withEnabled(p.Targets["dc1"], true) }, want: []string{"dc1"}}, // up since forever: failback is due
			},
		},
		{
			name: "priority ties are broken by name",
			policy: activePassive(func(p *api.TrafficPolicy) {
				p.Targets = map[string]api.PolicyTarget{"dc-b": target("192.0.2.2", 1), "dc-a": target("192.0.2.1", 1), "dc-c": target("192.0.2.3", 1)}
			}),
			steps: []step{
				{at: 0, want: []string{"dc-a"}},
				{at: s, up: down("dc-a"), want: []string{"dc-b"}},
			},
		},
		{
			name:   "a target without a health entry is up since forever",
			policy: activePassive(delays(0, 3600, api.FailbackAuto)),
			steps: []step{
				{at: 0, want: []string{"dc1"}},
				{at: s, edit: func(p *api.TrafficPolicy) { p.Targets["dc0"] = target("192.0.2.9", 1) }, want: []string{"dc0"},
					reason: `target "dc0" up since before records began (failback delay 1h0m0s): serving "dc0" (priority 1)`},
			},
		},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.policy
			health := map[string]TargetHealth{}
			var ov *api.Override
			engaged := false
			var st State
			for _, s := range tc.steps {
				now := t0.Add(s.at)
				for n, u := range s.up {
					health[n] = TargetHealth{Up: u, Since: now, ObservedAt: now.Add(-500 * time.Millisecond)}
				}
				if s.burst != nil {
					engaged = *s.burst
				}
				if s.override != nil {
					ov = s.override
				}
				if s.clear {
					ov = nil
				}
				if s.edit != nil {
					p = clonePolicy(p)
					s.edit(&p)
					p.Normalize()
				}
				in := Input{Policy: p, Health: health, BurstEngaged: engaged, Override: ov, Now: now}
				r := Evaluate(in, st)
				if got := served(r.Serving); !slices.Equal(got, s.want) {
					t.Fatalf("at +%v: serving %v, want %v (reason: %s)", s.at, got, s.want, r.Reason)
				}
				var wantWake time.Time
				if s.wake != none {
					wantWake = t0.Add(s.wake)
				}
				if !r.NextWake.Equal(wantWake) {
					t.Errorf("at +%v: NextWake %v, want %v (reason: %s)", s.at, r.NextWake, wantWake, r.Reason)
				}
				if s.reason != "" && !strings.Contains(r.Reason, s.reason) {
					t.Errorf("at +%v: reason %q does not contain %q", s.at, r.Reason, s.reason)
				}
				if s.check != nil {
					s.check(t, r)
				}
				// Every step is also a restart: the persisted State,
				// re-read, gives the same answer at the same instant.
				checkRestart(t, in, r)
				st = r.State
			}
		})
	}
}

// checkRestart re-evaluates in with r.State after a JSON round trip, as a
// restarted failoverd would, and requires the same decision.
func checkRestart(t *testing.T, in Input, r Result) {
	t.Helper()
	b, err := json.Marshal(r.State)
	if err != nil {
		t.Fatal(err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(st, r.State) {
		t.Fatalf("State does not survive JSON: %+v became %+v", r.State, st)
	}
	again := Evaluate(in, st)
	if !reflect.DeepEqual(again.Serving, r.Serving) || !reflect.DeepEqual(again.State, r.State) || !again.NextWake.Equal(r.NextWake) {
		t.Fatalf("at %v: re-evaluating with the persisted State changed the decision:\n first %+v (%s)\n again %+v (%s)",
			in.Now, r, r.Reason, again, again.Reason)
	}
}

func wantHeld(names ...string) func(*testing.T, Result) {
	return func(t *testing.T, r Result) {
		t.Helper()
		if !slices.Equal(r.State.Held, names) && !(len(names) == 0 && len(r.State.Held) == 0) {
			t.Errorf("State.Held = %v, want %v", r.State.Held, names)
		}
	}
}

func withEnabled(t api.PolicyTarget, on bool) api.PolicyTarget {
	t.Enabled = &on
	return t
}

func withWeight(t api.PolicyTarget, w int) api.PolicyTarget {
	t.Weight = &w
	return t
}

func clonePolicy(p api.TrafficPolicy) api.TrafficPolicy {
	b, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	var out api.TrafficPolicy
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

func TestEvaluateRestartMidDelay(t *testing.T) {
	// failoverd evaluates at +10s (primary down, failover pending), is
	// restarted, and evaluates again at +25s with the persisted State and
	// the restored health: still the primary, same wake-up; at +40s the
	// failover happens exactly when it would have without the restart.
	p := activePassive(delays(30, 60, api.FailbackAuto))
	first := Evaluate(Input{Policy: p, Now: t0}, State{})
	health := map[string]TargetHealth{"dc1": {Up: false, Since: t0.Add(10 * time.Second)}}
	r := Evaluate(Input{Policy: p, Health: health, Now: t0.Add(10 * time.Second)}, first.State)
	b, _ := json.Marshal(r.State)
	var persisted State
	if err := json.Unmarshal(b, &persisted); err != nil {
		t.Fatal(err)
	}
	after := Evaluate(Input{Policy: p, Health: health, Now: t0.Add(25 * time.Second)}, persisted)
	if got := served(after.Serving); !slices.Equal(got, []string{"dc1"}) || !after.NextWake.Equal(t0.Add(40*time.Second)) {
		t.Fatalf("after restart: serving %v, wake %v; want [dc1] until +40s", got, after.NextWake)
	}
	at := Evaluate(Input{Policy: p, Health: health, Now: after.NextWake}, after.State)
	if got := served(at.Serving); !slices.Equal(got, []string{"dc2"}) {
		t.Fatalf("at +40s: serving %v, want [dc2]", got)
	}
}

func TestEvaluateInvalidPolicyDoesNotPanic(t *testing.T) {
	tests := []struct {
		name string
		p    api.TrafficPolicy
		want []string
	}{
		{"empty", api.TrafficPolicy{}, []string{}},
		{"not normalized", api.TrafficPolicy{Mode: "active-active", Targets: map[string]api.PolicyTarget{"a": {}}, WhenAllDown: "nope"}, []string{"a"}},
		{"unknown mode reads as active-passive", api.TrafficPolicy{Mode: "round-robin", Targets: map[string]api.PolicyTarget{"a": {Priority: 2}, "b": {Priority: 1}}}, []string{"b"}},
		{"huge delays", api.TrafficPolicy{FailoverDelaySeconds: 1 << 62, FailbackDelaySeconds: ptr(-5), Targets: map[string]api.PolicyTarget{"a": {Weight: ptr(-3)}}}, []string{"a=0"}},
		{"fallback answer without fallback", api.TrafficPolicy{WhenAllDown: api.AllDownFallback, Targets: map[string]api.PolicyTarget{"a": {Enabled: ptr(false)}}}, []string{}},
		{"burst_only without a toggle never serves", api.TrafficPolicy{Mode: "active-active", Targets: map[string]api.PolicyTarget{"a": {BurstOnly: true}}, WhenAllDown: api.AllDownFailOpen}, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := Input{Policy: tc.p, Now: t0, BurstEngaged: true}
			r := Evaluate(in, State{Active: "ghost", InRotation: []string{"ghost"}, Held: []string{"x", "x"}})
			if got := served(r.Serving); !slices.Equal(got, tc.want) {
				t.Errorf("serving %v, want %v (reason %s)", got, tc.want, r.Reason)
			}
			if r.Reason == "" {
				t.Error("empty reason")
			}
			checkRestart(t, in, r)
		})
	}
}

// randomPolicy draws a policy from a small space so that ties, disabled
// targets, burst targets and zero weights are all common.
func randomPolicy(rng *rand.Rand) api.TrafficPolicy {
	p := api.TrafficPolicy{
		Name:                 "p",
		Mode:                 []string{api.ModeActivePassive, api.ModeActiveActive}[rng.Intn(2)],
		FailoverDelaySeconds: rng.Intn(4) * 10,
		FailbackDelaySeconds: ptr(rng.Intn(4) * 20),
		Failback:             []string{api.FailbackAuto, api.FailbackManual}[rng.Intn(2)],
		Targets:              map[string]api.PolicyTarget{},
		WhenAllDown:          []string{api.AllDownFallback, api.AllDownFailOpen, api.AllDownFailClosed}[rng.Intn(3)],
		Fallback:             &api.Fallback{Addresses: []string{"198.51.100.1"}},
	}
	if rng.Intn(2) == 0 {
		p.BurstToggle = "bt"
	}
	for i := range 1 + rng.Intn(5) {
		p.Targets[fmt.Sprintf("t%d", i)] = api.PolicyTarget{
			Addresses: []string{fmt.Sprintf("192.0.2.%d", i+1)},
			Priority:  1 + rng.Intn(3),
			Weight:    ptr(rng.Intn(4)),
			Enabled:   ptr(rng.Intn(5) > 0),
			BurstOnly: rng.Intn(5) == 0,
		}
	}
	p.Normalize()
	return p
}

// failOpenSet is what when_all_down = "fail_open" must answer, computed
// independently of the evaluator.
func failOpenSet(p api.TrafficPolicy, engaged bool) map[string]bool {
	out := map[string]bool{}
	for n, t := range p.Targets {
		if !*t.Enabled || (t.BurstOnly && !(engaged && p.BurstToggle != "")) {
			continue
		}
		if p.Mode == api.ModeActiveActive && *t.Weight == 0 {
			continue
		}
		out[n] = true
	}
	return out
}

func TestEvaluateProperties(t *testing.T) {
	rng := rand.New(rand.NewSource(20251128))
	cases := 2000
	if testing.Short() {
		cases = 200
	}
	for c := range cases {
		p := randomPolicy(rng)
		names := api.SortedKeys(p.Targets)
		health := map[string]TargetHealth{}
		var st State
		var ov *api.Override
		engaged := false
		now := t0
		for step := range 30 {
			now = now.Add(time.Duration(rng.Intn(45)) * time.Second)
			for _, n := range names {
				if rng.Intn(4) == 0 {
					h := health[n]
					if _, ok := health[n]; !ok {
						h.Up = true
					}
					health[n] = TargetHealth{Up: !h.Up, Since: now.Add(-time.Duration(rng.Intn(3)) * time.Second), ObservedAt: now}
				}
			}
			if rng.Intn(6) == 0 {
				engaged = !engaged
			}
			switch rng.Intn(12) {
			case 0:
				ov = &api.Override{Target: names[rng.Intn(len(names))], ExpiresAt: now.Add(time.Duration(rng.Intn(120)-20) * time.Second)}
			case 1:
				ov = nil
			}
			in := Input{Policy: p, Health: maps.Clone(health), BurstEngaged: engaged, Override: ov, Now: now}
			r := Evaluate(in, st)
			// where describes the situation; built only on failure, it is
			// the expensive part of the loop.
			where := func() string {
				return fmt.Sprintf("case %d step %d (policy %+v, health %+v, override %+v, engaged %v): serving %v, reason %s",
					c, step, p, health, ov, engaged, served(r.Serving), r.Reason)
			}

			// Deterministic: the same input gives exactly the same result.
			q := p
			q.Targets = maps.Clone(p.Targets)
			if again := Evaluate(Input{Policy: q, Health: maps.Clone(health), BurstEngaged: engaged, Override: ov, Now: now}, st); !reflect.DeepEqual(again, r) {
				t.Fatalf("%s: not deterministic: %+v vs %+v", where(), r, again)
			}
			checkRestart(t, in, r)
			if !r.NextWake.IsZero() && !r.NextWake.After(now) {
				t.Fatalf("%s: NextWake %v not after now", where(), r.NextWake)
			}
			// Nothing changes before NextWake without new input.
			horizon := now.Add(10 * time.Minute)
			if !r.NextWake.IsZero() {
				horizon = r.NextWake
			}
			later := now.Add(time.Duration(rng.Int63n(int64(horizon.Sub(now)))))
			in2 := in
			in2.Now = later
			if r2 := Evaluate(in2, r.State); !reflect.DeepEqual(r2.Serving, r.Serving) || !reflect.DeepEqual(r2.State, r.State) {
				t.Fatalf("%s: changed at %v, before NextWake %v, without new input: %v (%s)", where(), later, r.NextWake, served(r2.Serving), r2.Reason)
			}

			pinned := ov != nil && now.Before(ov.ExpiresAt) && *p.Targets[ov.Target].Enabled
			if pinned {
				if len(r.Serving) != 1 || r.Serving[0].Target != ov.Target {
					t.Fatalf("%s: override to %q not honoured", where(), ov.Target)
				}
			}
			if !pinned && st.Override == "" {
				checkTransitions(t, p, health, now, st, r.State, where)
			}
			seen := map[string]bool{}
			failOpen := false
			for _, s := range r.Serving {
				if seen[s.Target] {
					t.Fatalf("%s: %q served twice", where(), s.Target)
				}
				seen[s.Target] = true
				if s.Target == "fallback" {
					if p.WhenAllDown != api.AllDownFallback || len(r.Serving) != 1 {
						t.Fatalf("%s: fallback served out of place", where())
					}
					continue
				}
				tg, ok := p.Targets[s.Target]
				if !ok {
					t.Fatalf("%s: unknown target %q served", where(), s.Target)
				}
				if !*tg.Enabled {
					t.Fatalf("%s: disabled target %q served", where(), s.Target)
				}
				if pinned {
					continue
				}
				h, known := health[s.Target]
				deadForDelay := known && !h.Up && !now.Before(h.Since.Add(time.Duration(p.FailoverDelaySeconds)*time.Second))
				if deadForDelay {
					// Only fail_open may serve such a target, and then it
					// serves exactly the fail_open set.
					want := failOpenSet(p, engaged)
					got := map[string]bool{}
					for _, s := range r.Serving {
						got[s.Target] = true
					}
					if p.WhenAllDown != api.AllDownFailOpen || !reflect.DeepEqual(got, want) {
						t.Fatalf("%s: %q served though down for its failover delay", where(), s.Target)
					}
					failOpen = true
				}
				if tg.BurstOnly && !engaged && !failOpen {
					t.Fatalf("%s: burst_only %q served while the toggle is released", where(), s.Target)
				}
				if p.Mode == api.ModeActiveActive && *tg.Weight == 0 {
					t.Fatalf("%s: weight-0 target %q served", where(), s.Target)
				}
			}
			if !pinned && p.Mode == api.ModeActiveActive && !slices.IsSortedFunc(r.Serving, func(a, b api.ServingTarget) int { return strings.Compare(a.Target, b.Target) }) {
				t.Fatalf("%s: active-active serving not sorted by name", where())
			}
			st = r.State
		}
	}
}

// checkTransitions asserts the timing rules on one automatic step from
// prev to next: nothing leaves before its failover delay, nothing comes
// back before its failback delay (unless it is the only way to serve).
func checkTransitions(t *testing.T, p api.TrafficPolicy, health map[string]TargetHealth, now time.Time, prev, next State, where func() string) {
	t.Helper()
	lasted := func(n string, up bool, secs int) bool {
		h, ok := health[n]
		if !ok {
			return up // up since forever
		}
		return h.Up == up && !now.Before(h.Since.Add(time.Duration(secs)*time.Second))
	}
	rank := func(n string) (int, string) { return p.Targets[n].Priority, n }
	before := func(a, b string) bool {
		pa, na := rank(a)
		pb, nb := rank(b)
		return pa < pb || pa == pb && na < nb
	}
	if old := prev.Active; old != "" && next.Active != old {
		tg, ok := p.Targets[old]
		stillValid := ok && *tg.Enabled && !tg.BurstOnly
		failedOver := lasted(old, false, p.FailoverDelaySeconds)
		failedBack := p.Failback == api.FailbackAuto && next.Active != "" && before(next.Active, old) &&
			lasted(next.Active, true, *p.FailbackDelaySeconds)
		if stillValid && !failedOver && !failedBack {
			t.Fatalf("%s: active moved from %q to %q before any delay elapsed", where(), old, next.Active)
		}
	}
	wasIn := set(prev.InRotation)
	for _, n := range next.OutOfRotation {
		if wasIn[n] && !lasted(n, false, p.FailoverDelaySeconds) {
			t.Fatalf("%s: %q left rotation before its failover delay", where(), n)
		}
	}
	wasOut := set(prev.OutOfRotation)
	for _, n := range next.InRotation {
		if wasOut[n] && !lasted(n, true, 0) {
			t.Fatalf("%s: %q returned to rotation while down", where(), n)
		}
	}
}

func FuzzEvaluate(f *testing.F) {
	seed := func(p api.TrafficPolicy) []byte {
		b, _ := json.Marshal(p)
		return b
	}
	f.Add(seed(activePassive(nil)), []byte{0, 1, 2}, int64(30), false, "dc2", int64(60), []byte(`{"active":"dc1"}`))
	f.Add(seed(activeActive(withBurst)), []byte{7, 200, 3, 0}, int64(3600), true, "", int64(0), []byte(`{}`))
	f.Add(seed(activePassive(chain(withBurst, delays(30, 60, api.FailbackManual)))), []byte{1, 1, 1}, int64(45), true, "dr", int64(-5), []byte(`{"held":["dc1"],"override":"dc2"}`))
	f.Add([]byte(`{"mode":"active-active","targets":{"a":{"weight":-1},"b":{"enabled":false}},"when_all_down":"fail_open"}`), []byte{}, int64(0), false, "b", int64(10), []byte(`null`))
	f.Fuzz(func(t *testing.T, policyJSON, healthBytes []byte, nowSec int64, engaged bool, ovTarget string, ovSec int64, stateJSON []byte) {
		var p api.TrafficPolicy
		_ = json.Unmarshal(policyJSON, &p) // garbage reads as whatever it decoded to
		var st State
		_ = json.Unmarshal(stateJSON, &st)
		// Each health byte describes one target in name order: bit 0 is up,
		// the rest how many seconds ago it last changed (0 = forever).
		health := map[string]TargetHealth{}
		now := t0.Add(time.Duration(nowSec%(1<<40)) * time.Second)
		for i, n := range api.SortedKeys(p.Targets) {
			if i >= len(healthBytes) {
				break
			}
			b := healthBytes[i]
			h := TargetHealth{Up: b&1 == 1, ObservedAt: now}
			if b>>1 != 0 {
				h.Since = now.Add(-time.Duration(b>>1) * time.Second)
			}
			health[n] = h
		}
		var ov *api.Override
		if ovTarget != "" {
			ov = &api.Override{Target: ovTarget, ExpiresAt: now.Add(time.Duration(ovSec%(1<<40)) * time.Second)}
		}
		in := Input{Policy: p, Health: health, BurstEngaged: engaged, Override: ov, Now: now}
		r := Evaluate(in, st)
		if again := Evaluate(in, st); !reflect.DeepEqual(r, again) {
			t.Fatalf("not deterministic: %+v vs %+v", r, again)
		}
		if r.Reason == "" {
			t.Fatal("empty reason")
		}
		if !r.NextWake.IsZero() && !r.NextWake.After(now) {
			t.Fatalf("NextWake %v not after now %v", r.NextWake, now)
		}
		seen := map[string]bool{}
		for _, s := range r.Serving {
			if _, ok := p.Targets[s.Target]; !ok && s.Target != "fallback" {
				t.Fatalf("unknown target %q served", s.Target)
			}
			if seen[s.Target] {
				t.Fatalf("%q served twice", s.Target)
			}
			seen[s.Target] = true
		}
		for _, n := range slices.Concat(r.State.InRotation, r.State.OutOfRotation, r.State.Held, []string{r.State.Active}) {
			if _, ok := p.Targets[n]; n != "" && !ok {
				t.Fatalf("State %+v names %q, which is not a target", r.State, n)
			}
		}
		// A policy Validate accepts serves something when every target is
		// up and nothing is pinned.
		if len(Validate(p).Errors()) == 0 && ov == nil {
			if r := Evaluate(Input{Policy: p, Now: now, BurstEngaged: engaged}, State{}); len(r.Serving) == 0 {
				t.Fatalf("valid policy serves nothing with every target up: %s", r.Reason)
			}
		}
	})
}
