package health

import (
	"reflect"
	"strings"
	"testing"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

const (
	up   = api.StateHealthy
	down = api.StateUnhealthy
	unk  = api.StateUnknown
)

func TestCalculate(t *testing.T) {
	tests := []struct {
		rule    string
		atLeast int
		invert  bool
		states  []string
		want    string
	}{
		{api.HealthyWhenAll, 0, false, []string{up, up, up}, up},
		{api.HealthyWhenAll, 0, false, []string{up, down, unk}, down},
		{api.HealthyWhenAll, 0, false, []string{up, unk, up}, unk},
		{api.HealthyWhenAny, 0, false, []string{down, unk, up}, up},
		{api.HealthyWhenAny, 0, false, []string{down, down}, down},
		{api.HealthyWhenAny, 0, false, []string{down, unk}, unk},
		{api.HealthyWhenAtLeast, 2, false, []string{up, up, down}, up},
		{api.HealthyWhenAtLeast, 2, false, []string{up, down, down}, down},
		{api.HealthyWhenAtLeast, 2, false, []string{up, unk, down}, unk},
		{api.HealthyWhenAtLeast, 2, false, []string{up, "", down}, unk}, // no state yet reads as unknown
		{api.HealthyWhenAll, 0, true, []string{up, up}, down},
		{api.HealthyWhenAll, 0, true, []string{down, up}, up},
		{api.HealthyWhenAll, 0, true, []string{unk, up}, unk},
	}
	for _, tc := range tests {
		names := make([]string, len(tc.states))
		m := map[string]string{}
		for i, s := range tc.states {
			names[i] = string(rune('a' + i))
			m[names[i]] = s
		}
		c := api.HealthCheck{Type: api.CheckCalculated, ChildChecks: names, HealthyWhen: tc.rule, AtLeast: tc.atLeast, Invert: tc.invert}
		if got := Calculate(c, func(n string) string { return m[n] }); got != tc.want {
			t.Errorf("%s %d invert=%v over %v = %s, want %s", tc.rule, tc.atLeast, tc.invert, tc.states, got, tc.want)
		}
	}
}

func TestFindCycle(t *testing.T) {
	graph := map[string][]string{"a": {"b", "x"}, "b": {"c"}, "c": {"a"}, "d": {"x", "y"}, "y": {"x"}}
	children := func(n string) []string { return graph[n] }
	if got, want := FindCycle("a", children), []string{"a", "b", "c", "a"}; !reflect.DeepEqual(got, want) {
		t.Errorf("FindCycle(a) = %v, want %v", got, want)
	}
	if got := FindCycle("d", children); got != nil {
		t.Errorf("FindCycle(d) = %v, want none (a diamond is no cycle)", got)
	}
	graph["s"] = []string{"s"}
	if got := FindCycle("s", children); !reflect.DeepEqual(got, []string{"s", "s"}) {
		t.Errorf("self loop: %v", got)
	}
}

func TestInvertResult(t *testing.T) {
	c := api.HealthCheck{Invert: true}
	if r := invertResult(c, Result{OK: true}); r.OK || r.Error != "inverted check: the probe succeeded" {
		t.Errorf("inverted success: %+v", r)
	}
	if r := invertResult(c, Result{OK: false, Error: "connection refused"}); !r.OK || r.Error != "" {
		t.Errorf("inverted failure: %+v", r)
	}
	// A local failure says nothing about the endpoint: never inverted.
	if r := invertResult(c, Result{Local: LocalFileDescriptors, Error: "local: too many open files"}); r.OK {
		t.Errorf("inverted local failure: %+v", r)
	}
	if r := invertResult(api.HealthCheck{}, Result{OK: true}); !r.OK {
		t.Errorf("not inverted: %+v", r)
	}
}

func TestValidateCalculated(t *testing.T) {
	base := func(edit func(*api.HealthCheck)) api.HealthCheck {
		c := api.HealthCheck{Name: "site", Site: "dc1", Type: api.CheckCalculated, ChildChecks: []string{"az1", "az2"}}
		if edit != nil {
			edit(&c)
		}
		c.Normalize()
		return c
	}
	tests := []struct {
		name string
		edit func(*api.HealthCheck)
		errs map[string]string
	}{
		{"valid, healthy_when defaults to all", nil, nil},
		{"at_least", func(c *api.HealthCheck) { c.HealthyWhen, c.AtLeast = api.HealthyWhenAtLeast, 2 }, nil},
		{"at_least too high", func(c *api.HealthCheck) { c.HealthyWhen, c.AtLeast = api.HealthyWhenAtLeast, 3 },
			map[string]string{"at_least": "must be between 1 and the number of child_checks (2), got 3"}},
		{"at_least without the rule", func(c *api.HealthCheck) { c.AtLeast = 1 },
			map[string]string{"at_least": `only applies with healthy_when = "at_least"`}},
		{"no children, an address, a path", func(c *api.HealthCheck) { c.ChildChecks, c.Address, c.Path = nil, "192.0.2.1:80", "/x" },
			map[string]string{"child_checks": "is required", "address": "probes nothing", "path": "a calculated check probes nothing"}},
		{"itself, duplicate, bad name", func(c *api.HealthCheck) { c.ChildChecks = []string{"site", "az1", "az1", "Bad"} },
			map[string]string{"child_checks[0]": "is the check itself", "child_checks[2]": "duplicates child_checks[1]", "child_checks[3]": "not a valid name"}},
		{"bad rule", func(c *api.HealthCheck) { c.HealthyWhen = "most" }, map[string]string{"healthy_when": `"most" is not a rule`}},
		{"calculated fields on a probed check", func(c *api.HealthCheck) { c.Type, c.Address, c.HealthyWhen = api.CheckTCP, "192.0.2.1:80", "any" },
			map[string]string{"child_checks": `applies only to type = "calculated"`, "healthy_when": `applies only to type = "calculated"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Validate(base(tc.edit))
			got := map[string]string{}
			for _, e := range p.Errors() {
				got[e.Field] = e.Detail
			}
			if len(got) != len(tc.errs) {
				t.Errorf("errors %v, want %d", p.Errors(), len(tc.errs))
			}
			for f, want := range tc.errs {
				if !strings.Contains(got[f], want) {
					t.Errorf("%s: %q, want it to contain %q", f, got[f], want)
				}
			}
		})
	}
}

func FuzzCalculate(f *testing.F) {
	f.Add([]byte{0, 1, 2, 1}, "all", 0, false)
	f.Add([]byte{1, 1, 0}, "at_least", 2, true)
	f.Add([]byte{}, "any", -3, false)
	f.Add([]byte{2, 2, 2, 2, 2, 2}, "at_least", 99, false)
	f.Fuzz(func(t *testing.T, states []byte, rule string, atLeast int, invert bool) {
		if len(states) > MaxChildChecks {
			states = states[:MaxChildChecks]
		}
		names := make([]string, len(states))
		m := map[string]string{}
		var healthy, unhealthy int
		for i, b := range states {
			names[i] = string(rune('a'+i%26)) + strings.Repeat("x", i/26)
			s := []string{up, down, unk, ""}[int(b)%4]
			m[names[i]] = s
			switch s {
			case up:
				healthy++
			case down:
				unhealthy++
			}
		}
		c := api.HealthCheck{Type: api.CheckCalculated, ChildChecks: names, HealthyWhen: rule, AtLeast: atLeast, Invert: invert}
		got := Calculate(c, func(n string) string { return m[n] })
		if got != up && got != down && got != unk {
			t.Fatalf("state %q", got)
		}
		plain := InvertState(c, got) // undo the inversion
		if plain == up && healthy == 0 && len(names) > 0 && !(rule == api.HealthyWhenAtLeast && atLeast <= 0) {
			t.Fatalf("healthy with no healthy child: %v %s %d", states, rule, atLeast)
		}
		if plain == down && unhealthy == 0 {
			t.Fatalf("unhealthy with no unhealthy child: %v %s %d", states, rule, atLeast)
		}
		if len(names) == 0 && got != unk {
			t.Fatalf("no children but %s", got)
		}
		p := Validate(c)
		for _, e := range p {
			if _, err := api.ParsePath(e.Field); err != nil {
				t.Fatalf("unparsable field %q", e.Field)
			}
		}
	})
}
