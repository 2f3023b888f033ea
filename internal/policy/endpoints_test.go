package policy

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// hybrid is the issue-14 trial: an on-prem target with one endpoint per
// AZ (az1, az2, az3), each covered by its own check, over a cloud target.
func hybrid(minHealthy *int) api.TrafficPolicy {
	return activePassive(func(p *api.TrafficPolicy) {
		p.Targets["dc1"] = api.PolicyTarget{Site: "onprem", Priority: 1, MinHealthy: minHealthy, Endpoints: map[string]api.TargetEndpoint{
			"az1": {Addresses: []string{"192.0.2.11"}, HealthChecks: []string{"web-az1"}},
			"az2": {Addresses: []string{"192.0.2.12", "2001:db8::12"}, HealthChecks: []string{"web-az2"}},
			"az3": {Addresses: []string{"192.0.2.13"}, HealthChecks: []string{"web-az3"}},
		}}
	})
}

// checks is a lookup over fixed check states.
func checks(states map[string]CheckState) func(string) (CheckState, bool) {
	return func(c string) (CheckState, bool) {
		s, ok := states[c]
		return s, ok
	}
}

func down(since time.Duration) CheckState {
	return CheckState{State: api.StateUnhealthy, Since: t0.Add(since), ObservedAt: t0.Add(since)}
}

func up(since time.Duration) CheckState {
	return CheckState{State: api.StateHealthy, Since: t0.Add(since), ObservedAt: t0.Add(since)}
}

func TestTargetHealthOfEndpoints(t *testing.T) {
	tg := hybrid(ptr(2)).Targets["dc1"]
	tests := []struct {
		name   string
		states map[string]CheckState
		want   TargetHealth
	}{
		{"no states yet: up since forever", nil,
			TargetHealth{Up: true, Endpoints: map[string]EndpointHealth{"az1": {Up: true}, "az2": {Up: true}, "az3": {Up: true}}}},
		{"one AZ down of three, min 2: up, since the 2nd earliest recovery",
			map[string]CheckState{"web-az1": down(5 * time.Second), "web-az2": up(time.Second), "web-az3": up(3 * time.Second)},
			TargetHealth{Up: true, Since: t0.Add(3 * time.Second), ObservedAt: t0.Add(5 * time.Second), Endpoints: map[string]EndpointHealth{
				"az1": {Up: false, Since: t0.Add(5 * time.Second)}, "az2": {Up: true, Since: t0.Add(time.Second)}, "az3": {Up: true, Since: t0.Add(3 * time.Second)}}}},
		{"two AZs down, min 2: down since the second loss",
			map[string]CheckState{"web-az1": down(5 * time.Second), "web-az2": down(9 * time.Second), "web-az3": up(time.Second)},
			TargetHealth{Up: false, Since: t0.Add(9 * time.Second), ObservedAt: t0.Add(9 * time.Second), Endpoints: map[string]EndpointHealth{
				"az1": {Up: false, Since: t0.Add(5 * time.Second)}, "az2": {Up: false, Since: t0.Add(9 * time.Second)}, "az3": {Up: true, Since: t0.Add(time.Second)}}}},
		{"unknown counts as up",
			map[string]CheckState{"web-az1": {State: api.StateUnknown}, "web-az2": down(0), "web-az3": {State: api.StateUnknown}},
			TargetHealth{Up: true, Endpoints: map[string]EndpointHealth{"az1": {Up: true}, "az2": {Up: false, Since: t0}, "az3": {Up: true}}, ObservedAt: t0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := TargetHealthOf(tg, checks(tc.states)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("TargetHealthOf =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}

	// A target-level check still takes the whole target down, whatever
	// the endpoints say, and the earliest cause dates it.
	tg.HealthChecks = []string{"maintenance"}
	got := TargetHealthOf(tg, checks(map[string]CheckState{"maintenance": down(2 * time.Second), "web-az1": down(7 * time.Second), "web-az2": down(8 * time.Second)}))
	if got.Up || !got.Since.Equal(t0.Add(2*time.Second)) {
		t.Errorf("target-level check down: %+v", got)
	}
	// Without endpoints: the old rule, down since the first failure.
	old := target("192.0.2.1", 1)
	old.HealthChecks = []string{"a", "b"}
	got = TargetHealthOf(old, checks(map[string]CheckState{"a": down(4 * time.Second), "b": down(2 * time.Second)}))
	if got.Up || !got.Since.Equal(t0.Add(2*time.Second)) || got.Endpoints != nil {
		t.Errorf("classic target: %+v", got)
	}
}

// One AZ lost: the site keeps serving without its addresses; two lost
// (below min_healthy): failover; recovery restores the addresses.
func TestEvaluateEndpoints(t *testing.T) {
	p := hybrid(ptr(2))
	eval := func(states map[string]CheckState, now time.Time, prev State) Result {
		t.Helper()
		h := map[string]TargetHealth{"dc1": TargetHealthOf(p.Targets["dc1"], checks(states)), "dc2": {Up: true}}
		return Evaluate(Input{Policy: p, Health: h, Now: now}, prev)
	}
	addrsOf := func(r Result) []string {
		var out []string
		for _, s := range r.Serving {
			out = append(out, s.Target+"="+strings.Join(s.Addresses, ","))
		}
		return out
	}

	all := eval(nil, t0, State{})
	if want := []string{"dc1=192.0.2.11,192.0.2.12,2001:db8::12,192.0.2.13"}; !reflect.DeepEqual(addrsOf(all), want) {
		t.Fatalf("all up: %v, want %v", addrsOf(all), want)
	}

	oneLost := map[string]CheckState{"web-az2": down(10 * time.Second)}
	r := eval(oneLost, t0.Add(12*time.Second), all.State)
	if want := []string{"dc1=192.0.2.11,192.0.2.13"}; !reflect.DeepEqual(addrsOf(r), want) {
		t.Errorf("az2 lost: serving %v, want %v", addrsOf(r), want)
	}
	if want := `target "dc1": endpoint "az2" down for 2s, its addresses dropped from the answer; 2 of 3 endpoints up (min_healthy 2), so the site keeps serving`; !strings.Contains(r.Reason, want) {
		t.Errorf("reason %q\nwant it to contain %q", r.Reason, want)
	}
	if r.State.Active != "dc1" {
		t.Errorf("active %q, want dc1: the site must stay", r.State.Active)
	}

	twoLost := map[string]CheckState{"web-az2": down(10 * time.Second), "web-az3": down(20 * time.Second)}
	r2 := eval(twoLost, t0.Add(20*time.Second), r.State)
	if want := []string{"dc2=192.0.2.2"}; !reflect.DeepEqual(addrsOf(r2), want) {
		t.Errorf("az2+az3 lost: serving %v, want %v", addrsOf(r2), want)
	}
	if want := `target "dc1" down for 0s (endpoint "az2", "az3" down: 1 of 3 endpoints up, below min_healthy 2) (failover delay 0s): serving "dc2" (priority 2)`; !strings.Contains(r2.Reason, want) {
		t.Errorf("reason %q\nwant it to contain %q", r2.Reason, want)
	}
	if !r2.ObservedAt.Equal(t0.Add(20 * time.Second)) {
		t.Errorf("observed at %v, want the second loss", r2.ObservedAt)
	}

	// Recovery: both back at 30s; after the failback delay (60s) dc1
	// serves again with every address.
	recovered := map[string]CheckState{"web-az2": up(30 * time.Second), "web-az3": up(30 * time.Second)}
	r3 := eval(recovered, t0.Add(31*time.Second), r2.State)
	if r3.State.Active != "dc2" || !r3.NextWake.Equal(t0.Add(90*time.Second)) {
		t.Errorf("within the failback delay: active %q, next wake %v", r3.State.Active, r3.NextWake)
	}
	r4 := eval(recovered, t0.Add(90*time.Second), r3.State)
	if want := addrsOf(all); !reflect.DeepEqual(addrsOf(r4), want) {
		t.Errorf("recovered: serving %v, want %v", addrsOf(r4), want)
	}

	// One of three back early: 2 of 3, so dc1 is up; its az3 address stays out.
	partial := map[string]CheckState{"web-az2": up(30 * time.Second), "web-az3": down(20 * time.Second)}
	r5 := eval(partial, t0.Add(95*time.Second), r2.State)
	if want := []string{"dc1=192.0.2.11,192.0.2.12,2001:db8::12"}; !reflect.DeepEqual(addrsOf(r5), want) {
		t.Errorf("az2 back, az3 still down: serving %v, want %v", addrsOf(r5), want)
	}

	// Every endpoint down and fail_open: answer all of them, never none.
	po := hybrid(ptr(1))
	po.WhenAllDown, po.Fallback = api.AllDownFailOpen, nil
	dead := map[string]CheckState{"web-az1": down(0), "web-az2": down(0), "web-az3": down(0)}
	h := map[string]TargetHealth{"dc1": TargetHealthOf(po.Targets["dc1"], checks(dead)), "dc2": {Up: false}}
	r6 := Evaluate(Input{Policy: po, Health: h, Now: t0.Add(time.Second)}, State{})
	if len(r6.Serving) == 0 || len(r6.Serving[0].Addresses) != 4 {
		t.Errorf("fail_open with every endpoint down: %v", r6.Serving)
	}
}

// Active-active: one AZ of a weighted target lost keeps it in rotation
// with fewer addresses.
func TestEvaluateEndpointsActiveActive(t *testing.T) {
	p := activeActive(func(p *api.TrafficPolicy) {
		p.Targets["a"] = api.PolicyTarget{Weight: ptr(3), Endpoints: map[string]api.TargetEndpoint{
			"az1": {Addresses: []string{"192.0.2.21"}, HealthChecks: []string{"a-az1"}},
			"az2": {Addresses: []string{"192.0.2.22"}, HealthChecks: []string{"a-az2"}},
		}}
	})
	h := map[string]TargetHealth{"a": TargetHealthOf(p.Targets["a"], checks(map[string]CheckState{"a-az1": down(time.Second)}))}
	r := Evaluate(Input{Policy: p, Health: h, Now: t0.Add(2 * time.Second)}, State{InRotation: []string{"a", "b"}})
	if len(r.Serving) != 2 || r.Serving[0].Target != "a" || !reflect.DeepEqual(r.Serving[0].Addresses, []string{"192.0.2.22"}) {
		t.Errorf("serving %+v", r.Serving)
	}
}

func TestValidateEndpoints(t *testing.T) {
	base := func(edit func(*api.PolicyTarget)) api.TrafficPolicy {
		p := validPolicy()
		tg := p.Targets["onprem"]
		tg.Addresses, tg.HealthChecks = nil, nil
		tg.Endpoints = map[string]api.TargetEndpoint{
			"az1": {Addresses: []string{"192.0.2.10"}, HealthChecks: []string{"web-az1"}},
			"az2": {Addresses: []string{"192.0.2.11", "2001:db8::11"}, HealthChecks: []string{"web-az2"}},
		}
		tg.MinHealthy = ptr(1)
		if edit != nil {
			edit(&tg)
		}
		p.Targets["onprem"] = tg
		return p
	}
	tests := []struct {
		name  string
		edit  func(*api.PolicyTarget)
		errs  map[string]string
		warns []string
	}{
		{name: "valid"},
		{name: "addresses and endpoints", edit: func(t *api.PolicyTarget) { t.Addresses = []string{"192.0.2.99"} },
			errs: map[string]string{`targets["onprem"].addresses`: "is set together with endpoints"}},
		{name: "cname and endpoints", edit: func(t *api.PolicyTarget) { t.CNAME = "lb.example.net" },
			errs: map[string]string{`targets["onprem"].cname`: "an alias cannot drop one endpoint's addresses"}},
		{name: "min_healthy too high", edit: func(t *api.PolicyTarget) { t.MinHealthy = ptr(3) },
			errs: map[string]string{`targets["onprem"].min_healthy`: "must be between 1 and the number of endpoints (2), got 3"}},
		{name: "min_healthy zero", edit: func(t *api.PolicyTarget) { t.MinHealthy = ptr(0) },
			errs: map[string]string{`targets["onprem"].min_healthy`: "got 0"}},
		{name: "min_healthy without endpoints", edit: func(t *api.PolicyTarget) {
			t.Endpoints = nil
			t.Addresses, t.HealthChecks = []string{"192.0.2.10"}, []string{"web"}
		}, errs: map[string]string{`targets["onprem"].min_healthy`: "only applies to a target with endpoints"}},
		{name: "address in two endpoints", edit: func(t *api.PolicyTarget) {
			t.Endpoints["az3"] = api.TargetEndpoint{Addresses: []string{"2001:db8::11"}, HealthChecks: []string{"web-az3"}}
		}, errs: map[string]string{`targets["onprem"].endpoints["az3"].addresses[0]`: `is also an address of endpoint "az2"`}},
		{name: "empty endpoint, bad address, bad names", edit: func(t *api.PolicyTarget) {
			t.Endpoints["Bad"] = api.TargetEndpoint{Addresses: []string{"192.0.2.50"}, HealthChecks: []string{"web"}}
			t.Endpoints["az3"] = api.TargetEndpoint{}
			t.Endpoints["az4"] = api.TargetEndpoint{Addresses: []string{"not-an-ip"}, HealthChecks: []string{"web", "web"}}
		}, errs: map[string]string{
			`targets["onprem"].endpoints["Bad"]`:                  "is not a valid name",
			`targets["onprem"].endpoints["az3"].addresses`:        "is required",
			`targets["onprem"].endpoints["az4"].addresses[0]`:     "is not an IP address",
			`targets["onprem"].endpoints["az4"].health_checks[1]`: "is listed twice",
		}, warns: []string{`targets["onprem"].endpoints["az3"].health_checks`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps := Validate(base(tc.edit))
			got := map[string]string{}
			for _, e := range ps.Errors() {
				got[e.Field] = e.Detail
			}
			if len(got) != len(tc.errs) {
				t.Errorf("errors %v, want %d", ps.Errors(), len(tc.errs))
			}
			for f, want := range tc.errs {
				if !strings.Contains(got[f], want) {
					t.Errorf("error on %s = %q, want it to contain %q", f, got[f], want)
				}
			}
			for _, f := range tc.warns {
				found := false
				for _, w := range ps.Warnings() {
					found = found || w.Field == f
				}
				if !found {
					t.Errorf("no warning on %s: %v", f, ps.Warnings())
				}
			}
			checkProblems(t, ps)
		})
	}
}

func FuzzTargetHealthOf(f *testing.F) {
	f.Add([]byte(`{"endpoints":{"az1":{"addresses":["192.0.2.1"],"health_checks":["a"]},"az2":{"addresses":["192.0.2.2"],"health_checks":["b"]}},"min_healthy":2}`), uint8(1), uint8(2))
	f.Add([]byte(`{"endpoints":{"x":{"addresses":[]}},"min_healthy":-4,"health_checks":["a","a"]}`), uint8(255), uint8(0))
	f.Add([]byte(`{"addresses":["192.0.2.1"],"health_checks":["a","b"]}`), uint8(3), uint8(9))
	// Found by fuzzing: the only up endpoint has no address.
	f.Add([]byte(`{"endpoints":{"":{},"0":{"addresses":["192.0.2.9"],"health_checks":["z"]}}}`), uint8(1), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, downMask, unknownMask uint8) {
		var tg api.PolicyTarget
		if json.Unmarshal(data, &tg) != nil {
			return
		}
		states := map[string]CheckState{}
		for i, c := range tg.AllHealthChecks() {
			switch {
			case downMask&(1<<(i%8)) != 0:
				states[c] = down(time.Duration(i) * time.Second)
			case unknownMask&(1<<(i%8)) != 0:
				states[c] = CheckState{State: api.StateUnknown}
			default:
				states[c] = up(time.Duration(i) * time.Second)
			}
		}
		h := TargetHealthOf(tg, checks(states))
		upCount := 0
		for _, eh := range h.Endpoints {
			if eh.Up {
				upCount++
			}
		}
		if len(tg.Endpoints) > 0 && upCount < EndpointsNeeded(tg) && h.Up {
			t.Fatalf("%d of %d endpoints up, %d needed, yet up", upCount, len(tg.Endpoints), EndpointsNeeded(tg))
		}
		addrs := servingAddresses(tg, h)
		if len(tg.AllAddresses()) > 0 && len(addrs) == 0 {
			t.Fatalf("a target with addresses answers none: %+v", h)
		}
		for _, a := range addrs {
			found := false
			for _, b := range tg.AllAddresses() {
				found = found || a == b
			}
			if !found {
				t.Fatalf("answers %q, not one of the target's addresses", a)
			}
		}
		if !reflect.DeepEqual(h, TargetHealthOf(tg, checks(states))) {
			t.Fatal("not deterministic")
		}
	})
}
