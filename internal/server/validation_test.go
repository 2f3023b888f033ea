package server

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// validationWorld creates what the validation cases refer to: two health
// checks with the default timing (interval 10 s, timeout 2 s, fall 3), a
// burst toggle, and one valid object of each kind named "base" that every
// rejected PUT tries to overwrite.
func validationWorld(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t)
	h.create(t, api.KindHealthCheck, checkFixture("web-dc1", "127.0.0.1:443"))
	h.create(t, api.KindHealthCheck, checkFixture("web-dc2", "127.0.0.1:443"))
	h.create(t, api.KindBurstToggle, toggleFixture("dr-burst"))
	h.create(t, api.KindHealthCheck, checkFixture("base", "127.0.0.1:443"))
	h.create(t, api.KindTrafficPolicy, policyFixture("base", "web-dc1", "web-dc2"))
	h.create(t, api.KindReplicaSet, replicaSetFixture("base"))
	h.create(t, api.KindBurstToggle, toggleFixture("base"))
	return h
}

// TestValidationListsEveryProblem posts and puts invalid objects of every
// kind: each answer is a problem+json 400 naming every field at fault, and
// neither request leaves a trace (POST creates nothing, PUT changes
// nothing, not even the version).
func TestValidationListsEveryProblem(t *testing.T) {
	t.Parallel()
	h := validationWorld(t)

	tests := []struct {
		name   string
		kind   api.Kind
		edit   func(o obj)
		fields []string
		// detail maps a field to text its error must contain.
		detail map[string][]string
	}{
		// Health checks.
		{name: "check: bad type", kind: api.KindHealthCheck,
			edit:   func(o obj) { o["type"] = "ftp" },
			fields: []string{"type"}, detail: map[string][]string{"type": {`"ftp"`}}},
		{name: "check: timeout not below interval", kind: api.KindHealthCheck,
			edit:   func(o obj) { o["interval_seconds"], o["timeout_seconds"] = 5, 5 },
			fields: []string{"timeout_seconds"}},
		{name: "check: interval below 1", kind: api.KindHealthCheck,
			edit:   func(o obj) { o["interval_seconds"], o["timeout_seconds"] = 0.5, 0.2 },
			fields: []string{"interval_seconds"}},
		{name: "check: negative interval", kind: api.KindHealthCheck,
			edit:   func(o obj) { o["interval_seconds"] = -10 },
			fields: []string{"interval_seconds"}},
		{name: "check: bad expected_status", kind: api.KindHealthCheck,
			edit:   func(o obj) { o["expected_status"] = []any{"200", "2xx", "700"} },
			fields: []string{"expected_status[1]", "expected_status[2]"}},
		{name: "check: bad regex", kind: api.KindHealthCheck,
			edit:   func(o obj) { o["body_match"] = obj{"mode": "regex", "value": "(burst"} },
			fields: []string{"body_match.value"}},
		{name: "check: address with scheme", kind: api.KindHealthCheck,
			edit:   func(o obj) { o["address"] = "https://192.0.2.12/healthz" },
			fields: []string{"address"}},
		{name: "check: address without port", kind: api.KindHealthCheck,
			edit:   func(o obj) { o["address"] = "web.example.org" },
			fields: []string{"address"}},
		{name: "check: missing address and site", kind: api.KindHealthCheck,
			edit:   func(o obj) { delete(o, "address"); delete(o, "site") },
			fields: []string{"address", "site"}},
		{name: "check: bad rise and fall", kind: api.KindHealthCheck,
			edit:   func(o obj) { o["rise"], o["fall"] = -1, 101 },
			fields: []string{"rise", "fall"}},
		{name: "check: five problems at once", kind: api.KindHealthCheck,
			edit: func(o obj) {
				o["address"] = "127.0.0.1:70000"
				o["interval_seconds"], o["timeout_seconds"] = 0.5, 0.2
				o["expected_status"] = []any{"abc"}
				o["body_match"] = obj{"mode": "regex", "value": "["}
				o["quorum"] = "most"
			},
			fields: []string{"address", "interval_seconds", "expected_status[0]", "body_match.value", "quorum"}},

		// Traffic policies.
		{name: "policy: bad mode", kind: api.KindTrafficPolicy,
			edit:   func(o obj) { o["mode"] = "active-standby" },
			fields: []string{"mode"}},
		{name: "policy: missing when_all_down", kind: api.KindTrafficPolicy,
			edit:   func(o obj) { delete(o, "when_all_down") },
			fields: []string{"when_all_down"}},
		{name: "policy: fallback missing", kind: api.KindTrafficPolicy,
			edit:   func(o obj) { o["when_all_down"] = "fallback" },
			fields: []string{"fallback"}},
		{name: "policy: burst_only without burst_toggle", kind: api.KindTrafficPolicy,
			edit: func(o obj) {
				sub(o, "targets")["burst"] = obj{"site": "dc3", "addresses": []any{"192.0.2.30"}, "health_checks": []any{"web-dc2"}, "burst_only": true}
			},
			fields: []string{"burst_toggle"}, detail: map[string][]string{"burst_toggle": {`"burst"`, "burst_only"}}},
		{name: "policy: target references a missing health check", kind: api.KindTrafficPolicy,
			edit: func(o obj) {
				sub(o, "targets")["x"] = obj{"site": "dc3", "addresses": []any{"192.0.2.30"}, "health_checks": []any{"no-such-check"}, "priority": 3}
			},
			fields: []string{`targets["x"].health_checks[0]`},
			detail: map[string][]string{`targets["x"].health_checks[0]`: {`"no-such-check"`}}},
		{name: "policy: missing burst toggle", kind: api.KindTrafficPolicy,
			edit: func(o obj) {
				o["burst_toggle"] = "no-such-toggle"
				sub(o, "targets")["burst"] = obj{"site": "dc3", "addresses": []any{"192.0.2.30"}, "burst_only": true}
			},
			fields: []string{"burst_toggle"}, detail: map[string][]string{"burst_toggle": {`"no-such-toggle"`}}},
		{name: "policy: missing replica set", kind: api.KindTrafficPolicy,
			edit:   func(o obj) { o["replica_set"] = "no-such-rs" },
			fields: []string{"replica_set"}},
		{name: "policy: RTO exceeded", kind: api.KindTrafficPolicy,
			edit:   func(o obj) { o["rto_seconds"] = 10 },
			fields: []string{"rto_seconds"},
			// web-dc1/web-dc2: fall 3 × interval 10 s + timeout 2 s, no
			// failover delay, default TTL 30 s.
			detail: map[string][]string{"rto_seconds": {"3 × 10s + 2s detection", "0s failover delay", "30s TTL", "= 62s", "rto_seconds = 10"}}},
		{name: "policy: several problems at once", kind: api.KindTrafficPolicy,
			edit: func(o obj) {
				o["mode"] = "round-robin"
				delete(o, "when_all_down")
				o["rto_seconds"] = 1
				sub(o, "targets", "primary")["addresses"] = []any{"192.0.2.300"}
				sub(o, "targets")["x"] = obj{"site": "dc3", "addresses": []any{"192.0.2.30"}, "health_checks": []any{"no-such-check"}}
			},
			fields: []string{"mode", "when_all_down", `targets["primary"].addresses[0]`, `targets["x"].health_checks[0]`, "rto_seconds"}},

		// Replica sets.
		{name: "replica set: arbiter with priority", kind: api.KindReplicaSet,
			edit:   func(o obj) { sub(o, "members", "arb")["priority"] = 1 },
			fields: []string{`members["arb"].priority`}, detail: map[string][]string{`members["arb"].priority`: {"arbiter"}}},
		{name: "replica set: site loss without majority", kind: api.KindReplicaSet,
			edit: func(o obj) {
				o["members"] = obj{
					"db-1": obj{"host": "db-1.example.org:27017", "site": "dc1"},
					"db-2": obj{"host": "db-2.example.org:27017", "site": "dc1"},
					"db-3": obj{"host": "db-3.example.net:27017", "site": "dc2"},
				}
			},
			fields: []string{"members"},
			detail: map[string][]string{"members": {`losing site "dc1"`, "removes 2 of 3 votes; 1 left, 2 needed"}}},
		{name: "replica set: duplicate hosts", kind: api.KindReplicaSet,
			edit:   func(o obj) { sub(o, "members", "db-2")["host"] = "DB-1.example.org:27017" },
			fields: []string{`members["db-2"].host`}},
		{name: "replica set: member health check missing", kind: api.KindReplicaSet,
			edit:   func(o obj) { sub(o, "members", "db-1")["health_check"] = "no-such-check" },
			fields: []string{`members["db-1"].health_check`}},
		{name: "replica set: no members", kind: api.KindReplicaSet,
			edit:   func(o obj) { delete(o, "members") },
			fields: []string{"members"}},
		{name: "replica set: several problems at once", kind: api.KindReplicaSet,
			edit: func(o obj) {
				o["engine"] = "postgres"
				sub(o, "members", "arb")["priority"] = 5
				sub(o, "members", "db-2")["host"] = "db-1.example.org:27017"
				sub(o, "members", "db-1")["health_check"] = "no-such-check"
				sub(o, "members", "db-1")["votes"] = 2
			},
			fields: []string{"engine", `members["arb"].priority`, `members["db-2"].host`, `members["db-1"].health_check`, `members["db-1"].votes`}},

		// Burst toggles.
		{name: "toggle: schedule ends before it starts", kind: api.KindBurstToggle,
			edit: func(o obj) {
				o["schedule"] = []any{obj{"start": "2025-11-28T06:00:00Z", "end": "2025-11-28T00:00:00Z"}}
			},
			fields: []string{"schedule[0].end"}},
		{name: "toggle: identical bodies", kind: api.KindBurstToggle,
			edit:   func(o obj) { o["body_engaged"], o["body_released"] = "up", "up" },
			fields: []string{"body_released"}},
		{name: "toggle: bad site", kind: api.KindBurstToggle,
			edit:   func(o obj) { o["site"] = "DC 2" },
			fields: []string{"site"}},
		{name: "toggle: several problems at once", kind: api.KindBurstToggle,
			edit: func(o obj) {
				delete(o, "site")
				o["body_engaged"] = "  "
				o["schedule"] = []any{
					obj{"start": "2025-11-28T06:00:00Z", "end": "2025-11-28T00:00:00Z"},
					obj{"end": "2025-11-29T00:00:00Z"},
				}
			},
			fields: []string{"site", "body_engaged", "schedule[0].end", "schedule[1].start"}},

		// The name is one problem among others, never the only one listed.
		{name: "check: bad name lists the other problems too", kind: api.KindHealthCheck,
			edit:   func(o obj) { o["name"] = "Web_1"; o["type"] = "ftp" },
			fields: []string{"name", "type"}},
		{name: "policy: bad name lists the other problems too", kind: api.KindTrafficPolicy,
			edit:   func(o obj) { o["name"] = "-web"; o["mode"] = "x" },
			fields: []string{"name", "mode"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Run("POST", func(t *testing.T) {
				body := edit(t, baseFixture(tc.kind, "candidate"), tc.edit)
				p := h.do(t, http.MethodPost, "/v1/"+string(tc.kind), adminToken, body).problem(t, http.StatusBadRequest)
				wantFields(t, p, tc.fields...)
				for f, subs := range tc.detail {
					wantDetail(t, p, f, subs...)
				}
				if name, _ := body["name"].(string); api.ValidName(name) {
					h.do(t, http.MethodGet, objPath(tc.kind, name), readToken, nil).problem(t, http.StatusNotFound)
				}
			})
			t.Run("PUT", func(t *testing.T) {
				before := h.state(t, tc.kind, "base")
				body := edit(t, baseFixture(tc.kind, "base"), tc.edit)
				p := h.do(t, http.MethodPut, objPath(tc.kind, "base"), adminToken, body).problem(t, http.StatusBadRequest)
				wantFields(t, p, tc.fields...)
				for f, subs := range tc.detail {
					wantDetail(t, p, f, subs...)
				}
				h.wantUnchanged(t, tc.kind, "base", before)
			})
		})
	}
}

// TestDecodingRejects covers what is wrong with a body before any rule
// runs: unknown fields (named), wrong types, trailing data, empty and
// oversized bodies. Nothing is written either way.
func TestDecodingRejects(t *testing.T) {
	t.Parallel()
	h := validationWorld(t)

	valid := func(k api.Kind) string { return string(mustJSON(t, baseFixture(k, "candidate"))) }
	tests := []struct {
		name   string
		kind   api.Kind
		body   string
		field  string
		detail string
	}{
		{"check: unknown field", api.KindHealthCheck, `{"name":"candidate","site":"dc1","type":"http","address":"127.0.0.1:80","colour":"blue"}`, "colour", "unknown field"},
		{"policy: unknown field", api.KindTrafficPolicy, strings.Replace(valid(api.KindTrafficPolicy), `"mode"`, `"failover_mode":1,"mode"`, 1), "failover_mode", "unknown field"},
		{"replica set: unknown field", api.KindReplicaSet, strings.Replace(valid(api.KindReplicaSet), `"members"`, `"members_count":3,"members"`, 1), "members_count", "unknown field"},
		{"toggle: unknown field", api.KindBurstToggle, `{"name":"candidate","site":"dc2","enagaged":true}`, "enagaged", "unknown field"},
		{"toggle: computed field from another kind", api.KindBurstToggle, `{"name":"candidate","site":"dc2","fqdn":"x.example.org"}`, "fqdn", "unknown field"},
		{"check: wrong type", api.KindHealthCheck, `{"name":"candidate","site":"dc1","type":"http","address":"127.0.0.1:80","interval_seconds":"10"}`, "interval_seconds", "expected"},
		{"toggle: bad time", api.KindBurstToggle, `{"name":"candidate","site":"dc2","expires_at":"tomorrow"}`, "expires_at", `"tomorrow" is not an RFC 3339 time`},
		{"check: trailing object", api.KindHealthCheck, valid(api.KindHealthCheck) + `{"name":"other"}`, "", "unexpected data"},
		{"check: trailing garbage", api.KindHealthCheck, valid(api.KindHealthCheck) + ` x`, "", "unexpected data"},
		{"policy: empty body", api.KindTrafficPolicy, ``, "", "empty"},
		{"replica set: blank body", api.KindReplicaSet, " \n\t ", "", "empty"},
		{"toggle: truncated", api.KindBurstToggle, `{"name":"candidate","site":`, "", "truncated"},
		{"toggle: malformed", api.KindBurstToggle, `{"name" "candidate"}`, "", "malformed"},
		{"check: array", api.KindHealthCheck, `[]`, "", ""},
		{"check: null", api.KindHealthCheck, `null`, "", "send one JSON object"},
		{"check: bad name", api.KindHealthCheck, strings.Replace(valid(api.KindHealthCheck), `"candidate"`, `"Candidate.1"`, 1), "name", `"Candidate.1"`},
		{"toggle: missing name", api.KindBurstToggle, `{"site":"dc2"}`, "name", "required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := h.do(t, http.MethodPost, "/v1/"+string(tc.kind), adminToken, tc.body).problem(t, http.StatusBadRequest)
			if len(p.Errors) == 0 {
				t.Fatalf("problem lists no errors: %+v", p)
			}
			e, ok := errorOn(p, tc.field)
			if !ok {
				t.Fatalf("no error on field %q: %s", tc.field, describe(p))
			}
			if !strings.Contains(e.Detail, tc.detail) {
				t.Errorf("detail %q does not mention %q", e.Detail, tc.detail)
			}
			h.do(t, http.MethodGet, objPath(tc.kind, "candidate"), readToken, nil).problem(t, http.StatusNotFound)
		})
	}
}

// TestBodyLimit: a body over 1 MiB is refused with 413 whatever it holds;
// one of exactly 1 MiB is read.
func TestBodyLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	obj := mustJSON(t, checkFixture("big", "127.0.0.1:80"))
	exact := append(obj, bytes.Repeat([]byte(" "), DefaultMaxBodyBytes-len(obj))...)
	over := append(bytes.Clone(exact), ' ')

	p := h.do(t, http.MethodPost, "/v1/health-checks", adminToken, over).problem(t, http.StatusRequestEntityTooLarge)
	if !strings.Contains(p.Detail, "1048576") {
		t.Errorf("detail %q does not state the limit", p.Detail)
	}
	h.do(t, http.MethodGet, "/v1/health-checks/big", readToken, nil).problem(t, http.StatusNotFound)

	// The same limit guards updates, patches and overrides.
	h.create(t, api.KindHealthCheck, checkFixture("web", "127.0.0.1:80"))
	h.create(t, api.KindBurstToggle, toggleFixture("dr"))
	before := h.state(t, api.KindHealthCheck, "web")
	huge := bytes.Repeat([]byte(" "), DefaultMaxBodyBytes+1)
	h.do(t, http.MethodPut, "/v1/health-checks/web", adminToken, huge).problem(t, http.StatusRequestEntityTooLarge)
	h.do(t, http.MethodPatch, "/v1/burst-toggles/dr", operateToken, huge).problem(t, http.StatusRequestEntityTooLarge)
	h.do(t, http.MethodPut, "/v1/traffic-policies/web/override", operateToken, huge).problem(t, http.StatusRequestEntityTooLarge)
	h.wantUnchanged(t, api.KindHealthCheck, "web", before)

	h.do(t, http.MethodPost, "/v1/health-checks", adminToken, exact).want(t, http.StatusCreated)
}

// TestPutName: the URL names the object; a body naming another is refused
// (names are immutable), a body without a name takes the URL's.
func TestPutName(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create(t, api.KindHealthCheck, checkFixture("web", "127.0.0.1:80"))
	before := h.state(t, api.KindHealthCheck, "web")

	p := h.do(t, http.MethodPut, "/v1/health-checks/web", adminToken, checkFixture("web-2", "127.0.0.1:80")).problem(t, http.StatusBadRequest)
	wantDetail(t, p, "name", `"web-2"`, `"web"`)
	h.wantUnchanged(t, api.KindHealthCheck, "web", before)
	h.do(t, http.MethodGet, "/v1/health-checks/web-2", readToken, nil).problem(t, http.StatusNotFound)

	body := checkFixture("", "127.0.0.1:81")
	delete(body, "name")
	var got api.HealthCheck
	h.do(t, http.MethodPut, "/v1/health-checks/web", adminToken, body).want(t, http.StatusOK).decode(t, &got)
	if got.Name != "web" || got.Address != "127.0.0.1:81" || got.Version != 2 {
		t.Errorf("PUT without name: got %+v", got)
	}
}
