package policy

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// validPolicy is a complete active-passive policy with a burst target; it
// has no problems at all, not even warnings.
func validPolicy() api.TrafficPolicy {
	return api.TrafficPolicy{
		Name:                 "checkout",
		Mode:                 api.ModeActivePassive,
		TTLSeconds:           ptr(30),
		FailoverDelaySeconds: 30,
		FailbackDelaySeconds: ptr(300),
		Failback:             api.FailbackManual,
		Targets: map[string]api.PolicyTarget{
			"onprem":  {Site: "onprem", Addresses: []string{"192.0.2.10", "2001:db8::10"}, HealthChecks: []string{"web-onprem"}, Priority: 1},
			"aws":     {Site: "aws-use1", CNAME: "lb.example.net.", HealthChecks: []string{"web-aws-a", "web-aws-b"}, Priority: 2},
			"dr-plus": {Site: "dr", Addresses: []string{"203.0.113.7"}, HealthChecks: []string{"web-dr"}, BurstOnly: true},
		},
		BurstToggle: "black-friday",
		WhenAllDown: api.AllDownFallback,
		Fallback:    &api.Fallback{CNAME: "sorry.example.org"},
		RTOSeconds:  120,
		ReplicaSet:  "orders",
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*api.TrafficPolicy)
		// errs maps each expected error field to a substring of its detail;
		// no other error may be reported.
		errs map[string]string
		// warns are expected warning fields (others are allowed).
		warns []string
	}{
		{name: "valid", edit: func(*api.TrafficPolicy) {}},
		{
			name: "valid active-active with omitted optional fields",
			edit: func(p *api.TrafficPolicy) {
				p.Mode = api.ModeActiveActive
				p.TTLSeconds, p.FailbackDelaySeconds, p.Failback = nil, nil, ""
				for k, tg := range p.Targets {
					tg.Priority = 0
					p.Targets[k] = tg
				}
			},
		},
		{
			name: "bad enums and ranges",
			edit: func(p *api.TrafficPolicy) {
				p.Name = "Checkout"
				p.Mode = "hot-cold"
				p.TTLSeconds = ptr(86401)
				p.FailoverDelaySeconds = -1
				p.FailbackDelaySeconds = ptr(MaxDelaySeconds + 1)
				p.Failback = "sometimes"
				p.RTOSeconds = -5
				p.ReplicaSet = "Orders"
			},
			errs: map[string]string{
				"name":                   `"Checkout" is not a valid name`,
				"mode":                   `"hot-cold" is not a mode: set "active-passive" or "active-active"`,
				"ttl_seconds":            "must be between 0 and 86400 seconds, got 86401",
				"failover_delay_seconds": "got -1",
				"failback_delay_seconds": `set failback = "manual"`,
				"failback":               `"sometimes" is not a failback mode`,
				"rto_seconds":            "must not be negative",
				"replica_set":            `"Orders" is not a valid name`,
			},
		},
		{
			name: "missing required fields",
			edit: func(p *api.TrafficPolicy) {
				p.Mode, p.WhenAllDown, p.Targets, p.BurstToggle, p.Fallback = "", "", nil, "", nil
			},
			errs: map[string]string{
				"mode":          "is required",
				"targets":       "needs at least one target",
				"when_all_down": "is required",
			},
		},
		{
			name: "target answers",
			edit: func(p *api.TrafficPolicy) {
				p.Targets["onprem"] = api.PolicyTarget{Site: "onprem", Priority: 1, HealthChecks: []string{"hc"}}
				p.Targets["aws"] = api.PolicyTarget{Site: "aws", Priority: 2, HealthChecks: []string{"hc"}, CNAME: "lb.example.net",
					Addresses: []string{"192.0.2.1", "lb.example.net", "fe80::1%eth0", "::ffff:192.0.2.1", "0.0.0.0", "224.0.0.1", "192.0.2.01", "192.0.2.1"}}
				p.Targets["dr-plus"] = api.PolicyTarget{BurstOnly: true, HealthChecks: []string{"hc"}, CNAME: "-lb.example.net"}
			},
			errs: map[string]string{
				`targets["onprem"]`:           "needs an answer",
				`targets["aws"]`:              "sets both addresses and cname",
				`targets["aws"].addresses[1]`: `"lb.example.net" is not an IP address`,
				`targets["aws"].addresses[2]`: "carries an IPv6 zone",
				`targets["aws"].addresses[3]`: "write it as 192.0.2.1",
				`targets["aws"].addresses[4]`: "cannot receive traffic",
				`targets["aws"].addresses[5]`: "cannot receive traffic",
				`targets["aws"].addresses[6]`: "is not an IP address",
				`targets["aws"].addresses[7]`: "same address as addresses[0]",
				`targets["dr-plus"].cname`:    "starts or ends with '-'",
			},
		},
		{
			name: "cname forms",
			edit: func(p *api.TrafficPolicy) {
				set := func(k, cname string) {
					tg := p.Targets[k]
					tg.Addresses, tg.CNAME = nil, cname
					p.Targets[k] = tg
				}
				set("onprem", "localhost")
				set("aws", "192.0.2.4")
				set("dr-plus", "lb_1.example.net")
				p.Fallback.CNAME = "a." + strings.Repeat("b", 64) + ".example"
			},
			errs: map[string]string{
				`targets["onprem"].cname`:  "is not fully qualified",
				`targets["aws"].cname`:     "put it in addresses instead",
				`targets["dr-plus"].cname`: `contains '_'`,
				"fallback.cname":           "longer than 63 characters",
			},
		},
		{
			name: "target keys, sites, health checks, priorities and weights",
			edit: func(p *api.TrafficPolicy) {
				p.Targets["Bad_Key"] = api.PolicyTarget{Addresses: []string{"192.0.2.99"}, Priority: 3, HealthChecks: []string{"hc"}}
				p.Targets["fallback"] = api.PolicyTarget{Addresses: []string{"192.0.2.98"}, Priority: 4, HealthChecks: []string{"hc"}}
				tg := p.Targets["onprem"]
				tg.Site, tg.Priority, tg.Weight, tg.HealthChecks = "On Prem", 0, ptr(1001), []string{"web", "Web", "web"}
				p.Targets["onprem"] = tg
				tg = p.Targets["aws"]
				tg.Weight = ptr(-1)
				p.Targets["aws"] = tg
				tg = p.Targets["dr-plus"]
				tg.Priority = -1
				p.Targets["dr-plus"] = tg
			},
			errs: map[string]string{
				`targets["Bad_Key"]`:                 `"Bad_Key" is not a valid name`,
				`targets["fallback"]`:                "is reserved",
				`targets["onprem"].site`:             `"On Prem" is not a valid name`,
				`targets["onprem"].priority`:         "is required in an active-passive policy: set priority = 1",
				`targets["onprem"].weight`:           "must be between 0 and 1000, got 1001",
				`targets["onprem"].health_checks[1]`: `"Web" is not a valid name`,
				`targets["onprem"].health_checks[2]`: "listed twice (also at index 0)",
				`targets["aws"].weight`:              "got -1",
				`targets["dr-plus"].priority`:        "must not be negative",
			},
		},
		{
			name: "burst_only needs a toggle; a toggle without burst targets warns",
			edit: func(p *api.TrafficPolicy) { p.BurstToggle = "" },
			errs: map[string]string{"burst_toggle": `target(s) "dr-plus" are burst_only`},
		},
		{
			name:  "toggle without burst targets",
			edit:  func(p *api.TrafficPolicy) { delete(p.Targets, "dr-plus") },
			warns: []string{"burst_toggle"},
		},
		{
			name: "bad toggle name",
			edit: func(p *api.TrafficPolicy) { p.BurstToggle = "Black Friday" },
			errs: map[string]string{"burst_toggle": "is not a valid name"},
		},
		{
			name: "only burst_only or disabled targets",
			edit: func(p *api.TrafficPolicy) {
				tg := p.Targets["onprem"]
				tg.BurstOnly = true
				p.Targets["onprem"] = tg
				tg = p.Targets["aws"]
				tg.Enabled = ptr(false)
				p.Targets["aws"] = tg
			},
			errs: map[string]string{"targets": "needs at least one enabled target that is not burst_only"},
		},
		{
			name: "active-active needs a target with weight",
			edit: func(p *api.TrafficPolicy) {
				p.Mode = api.ModeActiveActive
				for k, tg := range p.Targets {
					tg.Weight, tg.Priority = ptr(0), 0
					p.Targets[k] = tg
				}
			},
			errs: map[string]string{"targets": "has a weight above 0"},
		},
		{
			name: "fallback required iff when_all_down is fallback",
			edit: func(p *api.TrafficPolicy) { p.Fallback = nil },
			errs: map[string]string{"fallback": `is required because when_all_down = "fallback"`},
		},
		{
			name: "fallback without when_all_down fallback",
			edit: func(p *api.TrafficPolicy) { p.WhenAllDown = api.AllDownFailClosed },
			errs: map[string]string{"fallback": `remove fallback or set when_all_down = "fallback"`},
		},
		{
			name: "bad fallback and when_all_down",
			edit: func(p *api.TrafficPolicy) {
				p.Fallback = &api.Fallback{Addresses: []string{"nope"}}
			},
			errs: map[string]string{"fallback.addresses[0]": `"nope" is not an IP address`},
		},
		{
			name: "unknown when_all_down",
			edit: func(p *api.TrafficPolicy) { p.WhenAllDown, p.Fallback = "shrug", nil },
			errs: map[string]string{"when_all_down": `"shrug" is not an answer`},
		},
		{
			name: "most addresses a DNS message carries",
			edit: func(p *api.TrafficPolicy) {
				tg := p.Targets["onprem"]
				tg.Addresses = addrs(MaxIPv4PerAnswer, 0)
				p.Targets["onprem"] = tg
				p.Fallback = &api.Fallback{Addresses: addrs(0, MaxIPv6PerAnswer)}
			},
			warns: []string{`targets["onprem"].addresses`, "fallback.addresses"},
		},
		{
			name: "more addresses than a DNS message carries",
			edit: func(p *api.TrafficPolicy) {
				tg := p.Targets["onprem"]
				tg.Addresses = addrs(MaxIPv4PerAnswer+1, 0)
				p.Targets["onprem"] = tg
				p.Fallback = &api.Fallback{Addresses: addrs(MaxIPv4PerAnswer/2, MaxIPv6PerAnswer/2+1)}
			},
			errs: map[string]string{
				`targets["onprem"].addresses`: "holds 3945 IPv4 and 0 IPv6 addresses, an answer of 63120 bytes",
				"fallback.addresses":          "at most 3944 IPv4 addresses (16 bytes each) or 2254 IPv6",
			},
		},
		{
			name: "warnings: an answer that needs TCP",
			edit: func(p *api.TrafficPolicy) {
				tg := p.Targets["onprem"]
				tg.Addresses = addrs(60, 1)
				p.Targets["onprem"] = tg
				p.Fallback = &api.Fallback{Addresses: addrs(59, 33)} // the most that fit in 1,232 bytes
			},
			warns: []string{`targets["onprem"].addresses`},
		},
		{
			name: "warnings: priority ties, priority in active-active, no health checks",
			edit: func(p *api.TrafficPolicy) {
				tg := p.Targets["aws"]
				tg.Priority, tg.HealthChecks = 1, nil
				p.Targets["aws"] = tg
			},
			warns: []string{`targets["onprem"].priority`, `targets["aws"].health_checks`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := validPolicy()
			tc.edit(&p)
			before, _ := json.Marshal(p)
			ps := Validate(p)
			if after, _ := json.Marshal(p); string(after) != string(before) {
				t.Fatalf("Validate modified its argument:\n%s\n%s", before, after)
			}
			got := map[string]string{}
			for _, e := range ps.Errors() {
				if _, dup := got[e.Field]; dup {
					t.Errorf("two errors on %s: %q and %q", e.Field, got[e.Field], e.Detail)
				}
				got[e.Field] = e.Detail
			}
			for field, sub := range tc.errs {
				if d, ok := got[field]; !ok {
					t.Errorf("no error on %s (got %v)", field, ps)
				} else if !strings.Contains(d, sub) {
					t.Errorf("error on %s = %q, want it to contain %q", field, d, sub)
				}
			}
			for field, d := range got {
				if _, ok := tc.errs[field]; !ok {
					t.Errorf("unexpected error on %s: %s", field, d)
				}
			}
			warned := map[string]bool{}
			for _, w := range ps.Warnings() {
				warned[w.Field] = true
			}
			for _, f := range tc.warns {
				if !warned[f] {
					t.Errorf("no warning on %s (got %v)", f, ps.Warnings())
				}
			}
			if strings.HasPrefix(tc.name, "warnings: an answer") && warned["fallback.addresses"] {
				t.Errorf("an answer that fits in a UDP answer is warned about: %v", ps.Warnings())
			}
			if tc.name == "valid" && len(ps) != 0 {
				t.Errorf("valid policy has problems: %v", ps)
			}
			checkProblems(t, ps)
		})
	}
}

// addrs is v4 distinct IPv4 and v6 distinct IPv6 addresses, from
// 10.0.0.0/8 and 2001:db8::/32, which have room for thousands.
func addrs(v4, v6 int) []string {
	var out []string
	for i := range v4 {
		out = append(out, fmt.Sprintf("10.%d.%d.1", i/256, i%256))
	}
	for i := range v6 {
		out = append(out, fmt.Sprintf("2001:db8::%x", i+1))
	}
	return out
}

// checkProblems asserts what every problem must be: a field path the
// provider can parse, a severity, and a detail that says something.
func checkProblems(t *testing.T, ps api.Problems) {
	t.Helper()
	for _, e := range ps {
		if _, err := api.ParsePath(e.Field); err != nil || e.Field == "" {
			t.Errorf("problem %q has an unparsable field: %v", e, err)
		}
		if e.Severity != api.SeverityError && e.Severity != api.SeverityWarning {
			t.Errorf("problem %q has severity %q", e, e.Severity)
		}
		if len(e.Detail) < 10 {
			t.Errorf("problem %q has no useful detail", e)
		}
	}
}

func TestValidateIsDeterministic(t *testing.T) {
	p := validPolicy()
	for _, k := range []string{"a1", "b2", "c3", "d4", "e5"} {
		p.Targets[k] = api.PolicyTarget{Addresses: []string{"bad"}, Priority: 1}
	}
	first := Validate(p)
	for range 50 {
		if again := Validate(p); !reflect.DeepEqual(first, again) {
			t.Fatalf("problems changed order:\n%v\n%v", first, again)
		}
	}
}

func FuzzValidate(f *testing.F) {
	b, _ := json.Marshal(validPolicy())
	f.Add(b)
	f.Add([]byte(`{"mode":"active-active","targets":{"x":{"addresses":["::1","1.2.3.4"],"weight":1000}},"when_all_down":"fail_open"}`))
	f.Add([]byte(`{"targets":{"\"weird\\key":{"cname":"a..b","priority":-3,"health_checks":["",""]}},"ttl_seconds":-1}`))
	f.Add([]byte(`{"targets":{"a":{}},"drill_schedule":{"target":"a","cron":"*/5 1-3 * * 0,7","hold_seconds":-1,"windows":["x/y"]}}`))
	f.Add([]byte(`{"drill_schedule":{"target":"","windows":["2026-12-12T03:00:00Z/2026-12-12T03:30:00Z","2026-12-12T03:00:00Z/2025-12-12T03:30:00Z"]}}`))
	f.Add([]byte(`{"mode":"active-passive","targets":{"onprem":{"priority":1,"min_healthy":2,"health_checks":["lb"],"endpoints":{"az1":{"addresses":["192.0.2.1"],"health_checks":["a"]},"az2":{"addresses":["192.0.2.1","::1"],"health_checks":["b","b"]},"Bad":{"addresses":[]}}}},"when_all_down":"fail_closed"}`))
	f.Add([]byte(`{"failover_delay_seconds":9223372036854775807,"failback_delay_seconds":-9223372036854775808}`))
	big, _ := json.Marshal(api.TrafficPolicy{Mode: api.ModeActiveActive, WhenAllDown: api.AllDownFallback,
		Targets:  map[string]api.PolicyTarget{"x": {Addresses: addrs(60, 34)}},
		Fallback: &api.Fallback{Addresses: addrs(MaxIPv4PerAnswer+1, 0)}})
	f.Add(big)
	f.Fuzz(func(t *testing.T, data []byte) {
		var p api.TrafficPolicy
		if json.Unmarshal(data, &p) != nil {
			return
		}
		before, _ := json.Marshal(p)
		ps := Validate(p)
		if after, _ := json.Marshal(p); string(after) != string(before) {
			t.Fatalf("Validate modified its argument")
		}
		checkProblems(t, ps)
		if !reflect.DeepEqual(ps, Validate(p)) {
			t.Fatal("Validate is not deterministic")
		}
	})
}
