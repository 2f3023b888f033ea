package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// auditCount is the count an audit event stands for: 1 for an applied
// mutation, the Data count for an aggregated refusal or replay.
func auditCount(tb testing.TB, ev api.Event) (kind, route string, count int) {
	tb.Helper()
	if len(ev.Data) == 0 {
		return "", "", 1
	}
	var d aggData
	if err := json.Unmarshal(ev.Data, &d); err != nil || d.Count < 1 || d.Route == "" {
		tb.Fatalf("audit event %+v: data %s is not an aggregate (%v)", ev, ev.Data, err)
	}
	return d.Kind, d.Route, d.Count
}

// TestAuditEveryMutation: every mutating request by an authenticated
// caller is accounted for in the audit log, naming the token, the action,
// the object and the outcome. Applied ones (changes and no-ops) are one
// event each; refused ones — by validation, a precondition, a conflict,
// the size, the media type or the scope — are aggregated per token and
// route: the first of each in full at once, the rest counted in a summary
// when the window ends (here: when the server closes).
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
	const (
		checks    = "POST /v1/health-checks"
		check     = "PUT /v1/health-checks/{name}"
		delCheck  = "DELETE /v1/health-checks/{name}"
		patch     = "PATCH /v1/burst-toggles/{name}"
		override  = "PUT /v1/traffic-policies/{name}/override"
		clearOver = "DELETE /v1/traffic-policies/{name}/override"
	)

	tests := []struct {
		name          string
		token         string
		method, path  string
		body          any
		headers       []string
		status        int
		actor, action string
		object, route string
	}{
		{"create", adminToken, "POST", "/v1/health-checks", web, nil, 201, adminName, "create", "health-checks/web", checks},
		{"update", adminToken, "PUT", "/v1/health-checks/web", edit(t, web, func(o obj) { o["path"] = "/live" }), nil, 200, adminName, "update", "health-checks/web", check},
		{"no-op update", adminToken, "PUT", "/v1/health-checks/web", edit(t, web, func(o obj) { o["path"] = "/live" }), nil, 200, adminName, "update", "health-checks/web", check},
		{"invalid create", adminToken, "POST", "/v1/health-checks", checkFixture("bad", "nowhere"), nil, 400, adminName, "create", "health-checks/bad", checks},
		{"duplicate create", adminToken, "POST", "/v1/health-checks", web, nil, 409, adminName, "create", "health-checks/web", checks},
		{"stale update", adminToken, "PUT", "/v1/health-checks/web", web, []string{"If-Match", `"1"`}, 412, adminName, "update", "health-checks/web", check},
		{"update of a missing object", adminToken, "PUT", "/v1/health-checks/nope", checkFixture("nope", "127.0.0.1:80"), nil, 404, adminName, "update", "health-checks/nope", check},
		{"oversized body", adminToken, "POST", "/v1/health-checks", strings.Repeat(" ", DefaultMaxBodyBytes+1), nil, 413, adminName, "create", "health-checks", checks},
		{"text body", adminToken, "POST", "/v1/health-checks", "name=web", []string{"Content-Type", "text/plain"}, 415, adminName, "create", "health-checks", checks},
		{"delete of a referenced check", adminToken, "DELETE", "/v1/health-checks/web-dc1", nil, nil, 409, adminName, "delete", "health-checks/web-dc1", delCheck},
		{"delete", adminToken, "DELETE", "/v1/burst-toggles/spare", nil, nil, 204, adminName, "delete", "burst-toggles/spare", "DELETE /v1/burst-toggles/{name}"},
		{"engage", operateToken, "PATCH", "/v1/burst-toggles/dr", `{"engaged":true}`, nil, 200, operateName, "engage", "burst-toggles/dr", patch},
		{"engage again (no-op)", operateToken, "PATCH", "/v1/burst-toggles/dr", `{"engaged":true}`, nil, 200, operateName, "engage", "burst-toggles/dr", patch},
		{"release", adminToken, "PATCH", "/v1/burst-toggles/dr", `{"engaged":false}`, nil, 200, adminName, "release", "burst-toggles/dr", patch},
		{"invalid patch", operateToken, "PATCH", "/v1/burst-toggles/dr", `{"engaged":"yes"}`, nil, 400, operateName, "patch", "burst-toggles/dr", patch},
		{"override set", operateToken, "PUT", "/v1/traffic-policies/web/override", obj{"target": "secondary", "expires_at": expires}, nil, 200, operateName, "override set", "traffic-policies/web", override},
		{"invalid override", operateToken, "PUT", "/v1/traffic-policies/web/override", obj{"target": "dc9", "expires_at": expires}, nil, 400, operateName, "override set", "traffic-policies/web", override},
		{"override clear", operateToken, "DELETE", "/v1/traffic-policies/web/override", nil, nil, 200, operateName, "override clear", "traffic-policies/web", clearOver},
		{"read token creates", readToken, "POST", "/v1/health-checks", checkFixture("web-2", "127.0.0.1:80"), nil, 403, readName, "create", "health-checks", checks},
		{"read token engages", readToken, "PATCH", "/v1/burst-toggles/dr", `{"engaged":true}`, nil, 403, readName, "patch", "burst-toggles/dr", patch},
		{"read token overrides", readToken, "PUT", "/v1/traffic-policies/web/override", obj{"target": "secondary", "expires_at": expires}, nil, 403, readName, "override set", "traffic-policies/web", override},
		{"read token clears an override", readToken, "DELETE", "/v1/traffic-policies/web/override", nil, nil, 403, readName, "override clear", "traffic-policies/web", clearOver},
		{"operate token updates", operateToken, "PUT", "/v1/health-checks/web", web, nil, 403, operateName, "update", "health-checks/web", check},
		{"operate token deletes", operateToken, "DELETE", "/v1/traffic-policies/web", nil, nil, 403, operateName, "delete", "traffic-policies/web", "DELETE /v1/traffic-policies/{name}"},
		{"read token deletes twice", readToken, "DELETE", "/v1/traffic-policies/web/override", nil, nil, 403, readName, "override clear", "traffic-policies/web", clearOver},
	}
	before := h.lastSeq(t)
	type key struct{ actor, action, object, outcome string }
	type aggKey struct{ actor, route string }
	applied := map[key]int{}         // exactly one event each
	firstRefusal := map[aggKey]key{} // stored in full
	refusals := map[aggKey]int{}     // counted
	for _, tc := range tests {
		r := h.do(t, tc.method, tc.path, tc.token, tc.body, tc.headers...)
		if r.Status != tc.status {
			t.Fatalf("%s: status %d, want %d; body %s", tc.name, r.Status, tc.status, r.Body)
		}
		k := key{tc.actor, tc.action, tc.object, fmt.Sprintf("%d %s", tc.status, http.StatusText(tc.status))}
		if tc.status < 300 {
			applied[k]++
			continue
		}
		ak := aggKey{tc.actor, tc.route}
		if refusals[ak] == 0 {
			firstRefusal[ak] = k
		}
		refusals[ak]++
	}
	// Requests without a valid token are answered 401 and not audited:
	// there is no one to attribute them to.
	h.do(t, "POST", "/v1/health-checks", noToken, web).problem(t, http.StatusUnauthorized)
	h.do(t, "POST", "/v1/health-checks", "forged", web).problem(t, http.StatusUnauthorized)

	// The first refusal of each token and route is stored at once.
	eventually(t, 10*time.Second, func() (bool, string) {
		got := map[aggKey]bool{}
		for _, ev := range h.events(t) {
			if ev.Seq > before && ev.Type == api.EventAudit && len(ev.Data) > 0 {
				_, route, _ := auditCount(t, ev)
				got[aggKey{ev.Actor, route}] = true
			}
		}
		for ak := range refusals {
			if !got[ak] {
				return false, fmt.Sprintf("no refusal event yet for %+v", ak)
			}
		}
		return true, ""
	})
	// Closing the server ends the windows: the summaries are stored.
	h.api.Close()
	var evs []api.Event
	eventually(t, 10*time.Second, func() (bool, string) {
		evs = nil
		n := 0
		for _, ev := range h.events(t) {
			if ev.Seq > before && ev.Type == api.EventAudit {
				evs = append(evs, ev)
				_, _, c := auditCount(t, ev)
				n += c
			}
		}
		return n >= len(tests), fmt.Sprintf("audit events account for %d of %d requests", n, len(tests))
	})

	gotApplied := map[key]int{}
	gotRefusals := map[aggKey]int{}
	stored := map[aggKey]int{}
	seenFirst := map[aggKey]bool{}
	for _, ev := range evs {
		if ev.Actor == "" || ev.Action == "" || ev.Outcome == "" || ev.Time.IsZero() || !strings.Contains(ev.Message, ev.Actor) {
			t.Errorf("incomplete audit event %+v", ev)
		}
		kind, route, n := auditCount(t, ev)
		k := key{ev.Actor, ev.Action, ev.Object, ev.Outcome}
		if kind == "" {
			gotApplied[k]++
			continue
		}
		if kind != auditRefused {
			t.Errorf("audit event of kind %q, want %q: %+v", kind, auditRefused, ev)
		}
		ak := aggKey{ev.Actor, route}
		gotRefusals[ak] += n
		stored[ak]++
		if !seenFirst[ak] {
			seenFirst[ak] = true
			if k != firstRefusal[ak] || n != 1 {
				t.Errorf("first refusal event of %+v: %+v count %d, want %+v count 1", ak, k, n, firstRefusal[ak])
			}
		}
	}
	for k, n := range applied {
		if gotApplied[k] != n {
			t.Errorf("%d audit events %+v, want exactly %d", gotApplied[k], k, n)
		}
	}
	for k, n := range gotApplied {
		if applied[k] == 0 {
			t.Errorf("%d unexpected audit events %+v", n, k)
		}
	}
	for ak, n := range refusals {
		if gotRefusals[ak] != n {
			t.Errorf("refusals by %s on %s: audit events count %d, want %d", ak.actor, ak.route, gotRefusals[ak], n)
		}
		if want := min(n, 2); stored[ak] != want {
			t.Errorf("refusals by %s on %s: %d events stored, want %d (the first, then one summary)", ak.actor, ak.route, stored[ak], want)
		}
	}

	// Every stored audit event is a log line too, message "audit".
	logged := map[key]int{}
	for _, rec := range h.logLines(t, "audit") {
		s := func(f string) string { v, _ := rec[f].(string); return v }
		logged[key{s("actor"), s("action"), s("object"), s("outcome")}]++
	}
	for _, ev := range evs {
		if logged[key{ev.Actor, ev.Action, ev.Object, ev.Outcome}] == 0 {
			t.Errorf("audit event %q has no \"audit\" log line", ev.Message)
		}
	}
}

// TestRefusalFloodKeepsTheAuditTrail is issue 9's audit erasure: a read
// token sending thousands of refused mutations used to store one event
// each, so pruning by count pushed the admins' real mutations out. Now
// they are two events per route and window, carrying the count, and the
// log gets as few lines.
func TestRefusalFloodKeepsTheAuditTrail(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create(t, api.KindBurstToggle, toggleFixture("dr"))
	const flood = 400
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < flood/8; i++ {
				h.do(t, http.MethodPatch, "/v1/burst-toggles/dr", readToken, `{"engaged":true}`).want(t, http.StatusForbidden)
				h.do(t, http.MethodPost, "/v1/health-checks", readToken, checkFixture("x", "127.0.0.1:80")).want(t, http.StatusForbidden)
			}
		}()
	}
	wg.Wait()
	h.do(t, http.MethodPatch, "/v1/burst-toggles/dr", operateToken, `{"engaged":true}`).want(t, http.StatusOK)
	h.api.Close()

	var byRead []api.Event
	var counted int
	eventually(t, 10*time.Second, func() (bool, string) {
		byRead, counted = nil, 0
		for _, ev := range h.events(t) {
			if ev.Type == api.EventAudit && ev.Actor == readName {
				byRead = append(byRead, ev)
				_, _, n := auditCount(t, ev)
				counted += n
			}
		}
		return counted >= 2*flood, fmt.Sprintf("%d of %d refusals counted", counted, 2*flood)
	})
	if len(byRead) != 4 || counted != 2*flood {
		t.Errorf("%d refused requests stored as %d events counting %d, want 4 events (first and summary, per route) counting all", 2*flood, len(byRead), counted)
	}
	if got := h.auditEvents(t, "burst-toggles/dr", "engage"); len(got) != 1 || got[0].Actor != operateName {
		t.Errorf("the operator's engage: %d audit events %+v, want 1", len(got), got)
	}
	var lines int
	for _, rec := range h.logLines(t, "audit") {
		if rec["actor"] == readName {
			lines++
		}
	}
	if lines != 4 {
		t.Errorf("%d \"audit\" log lines for %d refused requests, want 4", lines, 2*flood)
	}
}

// TestAuditWindowEndsByItself: a window's summary is stored when the
// window ends, without a later request or a shutdown.
func TestAuditWindowEndsByItself(t *testing.T) {
	t.Parallel()
	type emitted struct {
		ev    api.Event
		count int
	}
	got := make(chan emitted, 10)
	a := newAuditAggregator(100*time.Millisecond, func(ev api.Event, route string, n int) { got <- emitted{ev, n} })
	k := aggKey{"dashboard", "PATCH /v1/burst-toggles/{name}", auditRefused}
	for i := 0; i < 3; i++ {
		a.record(k, api.Event{Time: time.Now(), Type: api.EventAudit, Actor: "dashboard", Action: "patch",
			Object: fmt.Sprintf("burst-toggles/t%d", i), Outcome: "403 Forbidden", Message: fmt.Sprintf("refusal %d", i)})
	}
	first := <-got
	if first.count != 1 || first.ev.Object != "burst-toggles/t0" {
		t.Fatalf("first event %+v count %d, want the first refusal, count 1", first.ev, first.count)
	}
	select {
	case sum := <-got:
		var d aggData
		json.Unmarshal(sum.ev.Data, &d)
		if sum.count != 2 || d.Count != 2 || d.Route != k.route || sum.ev.Object != "burst-toggles/t2" || !strings.Contains(sum.ev.Message, "refusal 2") {
			t.Errorf("summary %+v (data %+v) count %d, want count 2 naming the last refusal", sum.ev, d, sum.count)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no summary 10 s after a 100 ms window")
	}
	// The next refusal opens a new window and is stored in full again.
	a.record(k, api.Event{Time: time.Now(), Actor: "dashboard", Message: "refusal 3"})
	if ev := <-got; ev.count != 1 || ev.ev.Message != "refusal 3" {
		t.Errorf("after the window: %+v, want the refusal in full", ev)
	}
	a.flush()
}
