package server

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// wantExactly fails unless the problem's errors are on exactly these
// fields, in this order.
func wantExactly(tb testing.TB, p api.Problem, want ...string) {
	tb.Helper()
	if got := fields(p); !reflect.DeepEqual(got, want) {
		tb.Errorf("errors on %q, want %q: %s", got, want, describe(p))
	}
}

// TestStrictDecoding: the ways encoding/json was looser than DESIGN §4.2,
// over HTTP. Field names match exactly, a repeated key is refused, every
// problem is listed on its exact path (map keys being user names), a bad
// time says where and which format, and an explicit zero where zero means
// "the default" is refused with the fix instead of becoming the default.
// Neither POST nor PUT leaves a trace.
func TestStrictDecoding(t *testing.T) {
	t.Parallel()
	h := validationWorld(t)

	tests := []struct {
		name string
		kind api.Kind
		body string // NAME is replaced by the object's name
		// fields are the exact fields of the errors, in order; detail maps
		// a field to phrases its error must contain.
		fields []string
		detail map[string][]string
	}{
		{name: "check: a field name in another case", kind: api.KindHealthCheck,
			body:   `{"name":"NAME","site":"dc1","type":"http","address":"127.0.0.1:80","Interval_Seconds":5,"RISE":1}`,
			fields: []string{"", ""},
			detail: map[string][]string{"": {`unknown field "Interval_Seconds"`, `did you mean "interval_seconds"?`, "case-sensitive"}}},
		{name: "check: a misspelt field", kind: api.KindHealthCheck,
			body:   `{"name":"NAME","site":"dc1","type":"http","address":"127.0.0.1:80","timout_seconds":1}`,
			fields: []string{"timout_seconds"},
			detail: map[string][]string{"timout_seconds": {"unknown field", `did you mean "timeout_seconds"?`}}},
		{name: "policy: a repeated key", kind: api.KindTrafficPolicy,
			body: `{"name":"NAME","mode":"active-passive","when_all_down":"fail_open","mode":"active-active",
				"targets":{"primary":{"site":"dc1","addresses":["192.0.2.10"],"health_checks":["web-dc1"],"priority":1}}}`,
			fields: []string{"mode"}, detail: map[string][]string{"mode": {"set twice"}}},
		{name: "policy: a repeated target", kind: api.KindTrafficPolicy,
			body: `{"name":"NAME","mode":"active-passive","when_all_down":"fail_open","targets":{
				"primary":{"site":"dc1","addresses":["192.0.2.10"],"health_checks":["web-dc1"],"priority":1},
				"primary":{"site":"dc2","addresses":["192.0.2.20"],"health_checks":["web-dc2"],"priority":1}}}`,
			fields: []string{`targets["primary"]`}, detail: map[string][]string{`targets["primary"]`: {"listed twice"}}},
		{name: "replica set: a repeated key in a member", kind: api.KindReplicaSet,
			body:   `{"name":"NAME","members":{"db-3":{"host":"db-3.example.org:27017","site":"dc1","votes":1,"votes":0}}}`,
			fields: []string{`members["db-3"].votes`}, detail: map[string][]string{`members["db-3"].votes`: {"set twice"}}},
		{name: "policy: every type error, each on its path", kind: api.KindTrafficPolicy,
			body: `{"name":"NAME","mode":"active-passive","when_all_down":"fail_open","ttl_seconds":"30","targets":{
				"primary":{"site":"dc1","addresses":["192.0.2.10"],"health_checks":["web-dc1"],"priority":"1"},
				"dc.2":{"site":"dc2","addresses":"192.0.2.20","priority":2,"weight":1.5}}}`,
			fields: []string{"ttl_seconds", `targets["primary"].priority`, `targets["dc.2"].addresses`, `targets["dc.2"].weight`},
			detail: map[string][]string{
				"ttl_seconds":               {`expected a whole number, got the string "30": write the number without quotes`},
				`targets["dc.2"].addresses`: {"expected a list"},
				`targets["dc.2"].weight`:    {"expected a whole number, got 1.5"},
			}},
		{name: "replica set: a type error in a member", kind: api.KindReplicaSet,
			body:   `{"name":"NAME","members":{"db-3":{"host":"db-3.example.org:27017","site":"dc1","votes":"1","tags":{"rack.a":1}}}}`,
			fields: []string{`members["db-3"].votes`, `members["db-3"].tags["rack.a"]`}},
		{name: "check: a type error in a header", kind: api.KindHealthCheck,
			body:   `{"name":"NAME","site":"dc1","type":"http","address":"127.0.0.1:80","headers":{"X-A":5}}`,
			fields: []string{`headers["X-A"]`}},
		{name: "toggle: a bad time in the schedule", kind: api.KindBurstToggle,
			body:   `{"name":"NAME","site":"dc2","schedule":[{"start":"2026-11-27T00:00:00Z","end":"2026-11-28"}],"expires_at":1}`,
			fields: []string{"schedule[0].end", "expires_at"},
			detail: map[string][]string{
				"schedule[0].end": {`"2026-11-28" is not an RFC 3339 time`, api.RFC3339Example},
				"expires_at":      {"expected an RFC 3339 time such as", api.RFC3339Example},
			}},

		// Explicit zeros, listed with the object's other problems.
		{name: "check: explicit zeros", kind: api.KindHealthCheck,
			body: `{"name":"NAME","site":"dc1","type":"ftp","address":"127.0.0.1:80","path":"","method":"",
				"interval_seconds":0,"timeout_seconds":0,"rise":0,"fall":0,"quorum":""}`,
			fields: []string{"path", "method", "interval_seconds", "timeout_seconds", "rise", "fall", "quorum", "type"},
			detail: map[string][]string{
				"interval_seconds": {"0 is not allowed: omit it for the default 10, or set at least 1"},
				"timeout_seconds":  {"0 is not allowed: omit it for the default 2"},
				"rise":             {"0 is not allowed: omit it for the default 2, or set 1 to 100"},
				"fall":             {"0 is not allowed: omit it for the default 3, or set 1 to 100"},
				"path":             {`"" is not allowed: omit it for the default "/"`},
				"quorum":           {`"" is not allowed: omit it for the default "majority"`},
			}},
		{name: "check: explicit empty path on a tcp check", kind: api.KindHealthCheck,
			body:   `{"name":"NAME","site":"dc1","type":"tcp","address":"127.0.0.1:80","path":""}`,
			fields: []string{"path"}},
		{name: "policy: explicit empty failback", kind: api.KindTrafficPolicy,
			body: `{"name":"NAME","mode":"active-passive","when_all_down":"fail_open","failback":"",
				"targets":{"primary":{"site":"dc1","addresses":["192.0.2.10"],"health_checks":["web-dc1"],"priority":1}}}`,
			fields: []string{"failback"},
			detail: map[string][]string{"failback": {`"" is not allowed: omit it for the default "auto", or set "auto" or "manual"`}}},
		{name: "replica set: explicit empty engine", kind: api.KindReplicaSet,
			// The fixture's members: a PUT changing more than one voter would
			// also be refused (one voter per reconfiguration).
			body: `{"name":"NAME","engine":"","members":{"db-1":{"host":"db-1.example.org:27017","site":"dc1","priority":2},` +
				`"db-2":{"host":"db-2.example.org:27017","site":"dc2","priority":1},"arb":{"host":"arb.example.net:27017","site":"dc3","arbiter":true}}}`,
			fields: []string{"engine"}, detail: map[string][]string{"engine": {`"" is not allowed: omit it for the default "mongodb"`}}},
		{name: "toggle: explicit empty bodies", kind: api.KindBurstToggle,
			body:   `{"name":"NAME","site":"dc2","body_engaged":"","body_released":""}`,
			fields: []string{"body_engaged", "body_released"},
			detail: map[string][]string{"body_engaged": {`"" is not allowed: omit it for the default "burst"`}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check := func(t *testing.T, p api.Problem) {
				wantExactly(t, p, tc.fields...)
				for f, subs := range tc.detail {
					wantDetail(t, p, f, subs...)
				}
			}
			t.Run("POST", func(t *testing.T) {
				p := h.do(t, http.MethodPost, "/v1/"+string(tc.kind), adminToken, strings.ReplaceAll(tc.body, "NAME", "candidate")).problem(t, http.StatusBadRequest)
				check(t, p)
				h.do(t, http.MethodGet, objPath(tc.kind, "candidate"), readToken, nil).problem(t, http.StatusNotFound)
			})
			t.Run("PUT", func(t *testing.T) {
				before := h.state(t, tc.kind, "base")
				p := h.do(t, http.MethodPut, objPath(tc.kind, "base"), adminToken, strings.ReplaceAll(tc.body, "NAME", "base")).problem(t, http.StatusBadRequest)
				check(t, p)
				h.wantUnchanged(t, tc.kind, "base", before)
			})
		})
	}
}

// TestExplicitZerosThatAreValues: where 0 or false is a value of its own,
// an explicit one is stored as sent, never replaced by the default.
func TestExplicitZerosThatAreValues(t *testing.T) {
	t.Parallel()
	h := validationWorld(t)

	var p api.TrafficPolicy
	h.create(t, api.KindTrafficPolicy, obj{
		"name": "zeros", "mode": "active-active", "when_all_down": "fail_open",
		"ttl_seconds": 0, "failover_delay_seconds": 0, "failback_delay_seconds": 0, "rto_seconds": 0,
		"targets": obj{
			"dc1": obj{"site": "dc1", "addresses": []any{"192.0.2.10"}, "health_checks": []any{"web-dc1"}, "weight": 1},
			"dc2": obj{"site": "dc2", "addresses": []any{"192.0.2.20"}, "health_checks": []any{"web-dc2"}, "weight": 0, "enabled": false},
		},
	}).want(t, http.StatusCreated).decode(t, &p)
	if *p.TTLSeconds != 0 || *p.FailbackDelaySeconds != 0 || p.FailoverDelaySeconds != 0 || *p.Targets["dc2"].Weight != 0 || *p.Targets["dc2"].Enabled {
		t.Errorf("policy zeros not kept: %+v", p)
	}
	if d := h.decision(t, "zeros"); d.TTLSeconds != 0 {
		t.Errorf("decision TTL %d, want the explicit 0", d.TTLSeconds)
	}

	var rs api.ReplicaSet
	h.create(t, api.KindReplicaSet, edit(t, replicaSetFixture("zeros"), func(o obj) {
		sub(o, "members")["db-4"] = obj{"host": "db-4.example.org:27017", "site": "dc2", "votes": 0, "priority": 0, "secondary_delay_seconds": 0}
	})).want(t, http.StatusCreated).decode(t, &rs)
	if m := rs.Members["db-4"]; *m.Votes != 0 || *m.Priority != 0 {
		t.Errorf("member zeros not kept: %+v", m)
	}

	var c api.HealthCheck
	h.create(t, api.KindHealthCheck, edit(t, checkFixture("zeros", "127.0.0.1:80"), func(o obj) {
		o["enabled"], o["host_header"], o["probe_sites"] = false, "", []any{}
	})).want(t, http.StatusCreated).decode(t, &c)
	if *c.Enabled {
		t.Errorf("enabled = false not kept: %+v", c)
	}

	var tg api.BurstToggle
	h.create(t, api.KindBurstToggle, obj{"name": "zeros", "site": "dc2", "engaged": false}).want(t, http.StatusCreated).decode(t, &tg)
	if tg.Engaged == nil || *tg.Engaged {
		t.Errorf("engaged = false not kept: %+v", tg)
	}
}

// TestStrictDecodingRuntime: the operators' bodies (burst PATCH, override)
// get the same strict decoding, and a refused one changes nothing.
func TestStrictDecodingRuntime(t *testing.T) {
	t.Parallel()
	h := validationWorld(t)
	h.create(t, api.KindTrafficPolicy, policyFixture("web", "web-dc1", "web-dc2"))
	soon := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)

	tests := []struct {
		name, method, path, body string
		fields                   []string
		detail                   string
	}{
		{"patch: a repeated key", http.MethodPatch, "/v1/burst-toggles/dr-burst", `{"engaged":true,"engaged":false}`,
			[]string{"engaged"}, "set twice"},
		{"patch: another case", http.MethodPatch, "/v1/burst-toggles/dr-burst", `{"Engaged":true}`,
			[]string{""}, `did you mean "engaged"?`},
		{"override: a date without time", http.MethodPut, "/v1/traffic-policies/web/override", `{"target":"secondary","expires_at":"2026-11-27"}`,
			[]string{"expires_at"}, api.RFC3339Example},
		{"override: every problem", http.MethodPut, "/v1/traffic-policies/web/override", `{"target":2,"expires_at":"` + soon + `","reason":[],"Target":"primary"}`,
			[]string{"target", "reason", ""}, "expected a string, got the number 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			toggle, decision := h.state(t, api.KindBurstToggle, "dr-burst"), h.decision(t, "web")
			p := h.do(t, tc.method, tc.path, operateToken, tc.body).problem(t, http.StatusBadRequest)
			wantExactly(t, p, tc.fields...)
			wantDetail(t, p, tc.fields[0], tc.detail)
			h.wantUnchanged(t, api.KindBurstToggle, "dr-burst", toggle)
			if d := h.decision(t, "web"); d.Generation != decision.Generation || d.Override != nil {
				t.Errorf("a refused request changed the decision: %+v", d)
			}
		})
	}
}
