package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// TestAuditEveryMutation: every mutating request by an authenticated
// caller — applied, refused by validation, by a precondition, by a
// conflict, by its scope, or changing nothing — leaves exactly one audit
// event naming the token, the action, the object and the outcome.
func TestAuditEveryMutation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create(t, api.KindHealthCheck, checkFixture("web-dc1", "127.0.0.1:443"))
	h.create(t, api.KindHealthCheck, checkFixture("web-dc2", "127.0.0.1:443"))
	h.create(t, api.KindTrafficPolicy, policyFixture("web", "web-dc1", "web-dc2"))
	h.create(t, api.KindBurstToggle, toggleFixture("dr"))
	h.create(t, api.KindBurstToggle, toggleFixture("spare"))
	expires := time.Now().Add(30 * time.Minute).UTC().Format(time.RFC3339)
	web := checkFixture("web", "127.0.0.1:443")

	tests := []struct {
		name          string
		token         string
		method, path  string
		body          any
		headers       []string
		status        int
		actor, action string
		object        string
	}{
		{"create", adminToken, "POST", "/v1/health-checks", web, nil, 201, adminName, "create", "health-checks/web"},
		{"update", adminToken, "PUT", "/v1/health-checks/web", edit(t, web, func(o obj) { o["path"] = "/live" }), nil, 200, adminName, "update", "health-checks/web"},
		{"no-op update", adminToken, "PUT", "/v1/health-checks/web", edit(t, web, func(o obj) { o["path"] = "/live" }), nil, 200, adminName, "update", "health-checks/web"},
		{"invalid create", adminToken, "POST", "/v1/health-checks", checkFixture("bad", "nowhere"), nil, 400, adminName, "create", "health-checks/bad"},
		{"duplicate create", adminToken, "POST", "/v1/health-checks", web, nil, 409, adminName, "create", "health-checks/web"},
		{"stale update", adminToken, "PUT", "/v1/health-checks/web", web, []string{"If-Match", `"1"`}, 412, adminName, "update", "health-checks/web"},
		{"update of a missing object", adminToken, "PUT", "/v1/health-checks/nope", checkFixture("nope", "127.0.0.1:80"), nil, 404, adminName, "update", "health-checks/nope"},
		{"oversized body", adminToken, "POST", "/v1/health-checks", strings.Repeat(" ", DefaultMaxBodyBytes+1), nil, 413, adminName, "create", "health-checks"},
		{"delete of a referenced check", adminToken, "DELETE", "/v1/health-checks/web-dc1", nil, nil, 409, adminName, "delete", "health-checks/web-dc1"},
		{"delete", adminToken, "DELETE", "/v1/burst-toggles/spare", nil, nil, 204, adminName, "delete", "burst-toggles/spare"},
		{"engage", operateToken, "PATCH", "/v1/burst-toggles/dr", `{"engaged":true}`, nil, 200, operateName, "engage", "burst-toggles/dr"},
		{"engage again (no-op)", operateToken, "PATCH", "/v1/burst-toggles/dr", `{"engaged":true}`, nil, 200, operateName, "engage", "burst-toggles/dr"},
		{"release", adminToken, "PATCH", "/v1/burst-toggles/dr", `{"engaged":false}`, nil, 200, adminName, "release", "burst-toggles/dr"},
		{"invalid patch", operateToken, "PATCH", "/v1/burst-toggles/dr", `{"engaged":"yes"}`, nil, 400, operateName, "patch", "burst-toggles/dr"},
		{"override set", operateToken, "PUT", "/v1/traffic-policies/web/override", obj{"target": "secondary", "expires_at": expires}, nil, 200, operateName, "override set", "traffic-policies/web"},
		{"invalid override", operateToken, "PUT", "/v1/traffic-policies/web/override", obj{"target": "dc9", "expires_at": expires}, nil, 400, operateName, "override set", "traffic-policies/web"},
		{"override clear", operateToken, "DELETE", "/v1/traffic-policies/web/override", nil, nil, 200, operateName, "override clear", "traffic-policies/web"},
		{"read token creates", readToken, "POST", "/v1/health-checks", checkFixture("web-2", "127.0.0.1:80"), nil, 403, readName, "create", "health-checks"},
		{"read token engages", readToken, "PATCH", "/v1/burst-toggles/dr", `{"engaged":true}`, nil, 403, readName, "patch", "burst-toggles/dr"},
		{"read token overrides", readToken, "PUT", "/v1/traffic-policies/web/override", obj{"target": "secondary", "expires_at": expires}, nil, 403, readName, "override set", "traffic-policies/web"},
		{"read token clears an override", readToken, "DELETE", "/v1/traffic-policies/web/override", nil, nil, 403, readName, "override clear", "traffic-policies/web"},
		{"operate token updates", operateToken, "PUT", "/v1/health-checks/web", web, nil, 403, operateName, "update", "health-checks/web"},
		{"operate token deletes", operateToken, "DELETE", "/v1/traffic-policies/web", nil, nil, 403, operateName, "delete", "traffic-policies/web"},
	}
	type key struct{ actor, action, object, outcome string }
	want := map[key]int{}
	for _, tc := range tests {
		r := h.do(t, tc.method, tc.path, tc.token, tc.body, tc.headers...)
		if r.Status != tc.status {
			t.Fatalf("%s: status %d, want %d; body %s", tc.name, r.Status, tc.status, r.Body)
		}
		want[key{tc.actor, tc.action, tc.object, fmt.Sprintf("%d %s", tc.status, http.StatusText(tc.status))}]++
	}
	// Requests without a valid token are answered 401 and not audited:
	// there is no one to attribute them to.
	h.do(t, "POST", "/v1/health-checks", noToken, web).problem(t, http.StatusUnauthorized)
	h.do(t, "POST", "/v1/health-checks", "forged", web).problem(t, http.StatusUnauthorized)

	// Refusals are logged in the background: wait for all of them.
	var got map[key]int
	var audits []api.Event
	eventually(t, 10*time.Second, func() (bool, string) {
		got = map[key]int{}
		audits = audits[:0]
		for _, ev := range h.events(t) {
			if ev.Type != api.EventAudit {
				continue
			}
			audits = append(audits, ev)
			got[key{ev.Actor, ev.Action, ev.Object, ev.Outcome}]++
		}
		for k, n := range want {
			if got[k] < n {
				return false, fmt.Sprintf("%d audit event(s) %+v, want %d", got[k], k, n)
			}
		}
		return true, ""
	})
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%d audit events %+v, want exactly %d", got[k], k, n)
		}
	}
	for _, ev := range audits {
		if ev.Actor == "" || ev.Action == "" || ev.Outcome == "" || ev.Time.IsZero() || !strings.Contains(ev.Message, ev.Actor) {
			t.Errorf("incomplete audit event %+v", ev)
		}
	}
}
