package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// wantKeys fails unless the JSON object b has every one of keys.
func wantKeys(t *testing.T, what string, b []byte, keys ...string) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v in %s", what, err, b)
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s: no %q in %s", what, k, b)
		}
	}
	return m
}

// TestHealthStatus: a check's status reads {"state", "sites": {SITE:
// {"state", "last_checked", …}}} and follows the endpoint.
func TestHealthStatus(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	be := backend(t)
	h.create(t, api.KindHealthCheck, fastCheck("web", hostPort(be)))

	var st api.HealthStatus
	eventually(t, 15*time.Second, func() (bool, string) {
		r := h.do(t, http.MethodGet, "/v1/health-checks/web/status", readToken, nil).want(t, http.StatusOK)
		r.decode(t, &st)
		return st.State == api.StateHealthy && st.Sites["local"].State == api.StateHealthy, string(r.Body)
	})
	r := h.do(t, http.MethodGet, "/v1/health-checks/web/status", readToken, nil).want(t, http.StatusOK)
	m := wantKeys(t, "status", r.Body, "state", "sites")
	var sites map[string]json.RawMessage
	json.Unmarshal(m["sites"], &sites)
	wantKeys(t, "sites.local", sites["local"], "state", "last_checked")
	if st.Check != "web" || st.Sites["local"].LastChecked.IsZero() || st.Since.IsZero() {
		t.Errorf("status %+v", st)
	}

	be.Close()
	eventually(t, 15*time.Second, func() (bool, string) {
		h.do(t, http.MethodGet, "/v1/health-checks/web/status", readToken, nil).want(t, http.StatusOK).decode(t, &st)
		return st.State == api.StateUnhealthy && st.Sites["local"].LastError != "", fmt.Sprintf("%+v", st)
	})

	h.do(t, http.MethodGet, "/v1/health-checks/nope/status", readToken, nil).problem(t, http.StatusNotFound)
}

// TestDecisionShape: a decision reads {"policy", "serving": [{"target",
// "addresses"|"cname", "weight"}], "reason", "since", "generation"}.
func TestDecisionShape(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create(t, api.KindHealthCheck, checkFixture("web-dc1", "127.0.0.1:443"))
	h.create(t, api.KindHealthCheck, checkFixture("web-dc2", "127.0.0.1:443"))
	h.create(t, api.KindTrafficPolicy, policyFixture("web", "web-dc1", "web-dc2"))
	h.create(t, api.KindTrafficPolicy, edit(t, policyFixture("api", "web-dc1", "web-dc2"), func(o obj) {
		o["mode"] = "active-active"
		sub(o, "targets", "primary")["weight"] = 3
		delete(sub(o, "targets", "secondary"), "addresses")
		sub(o, "targets", "secondary")["cname"] = "lb.dc2.example.net"
	}))

	r := h.do(t, http.MethodGet, "/v1/traffic-policies/web/decision", readToken, nil).want(t, http.StatusOK)
	m := wantKeys(t, "decision", r.Body, "policy", "serving", "reason", "since", "generation")
	var targets []json.RawMessage
	if err := json.Unmarshal(m["serving"], &targets); err != nil || len(targets) != 1 {
		t.Fatalf("serving %s: want one target", m["serving"])
	}
	wantKeys(t, "serving[0]", targets[0], "target", "addresses", "weight")
	var d api.Decision
	r.decode(t, &d)
	// Checks that never answered are unknown, which counts as up.
	if d.Policy != "web" || !slices.Equal(serving(d), []string{"primary"}) || !slices.Equal(d.Serving[0].Addresses, []string{"192.0.2.10"}) ||
		d.Reason == "" || d.Since.IsZero() || d.Generation < 1 || d.TTLSeconds != 30 {
		t.Errorf("decision %+v", d)
	}

	d = h.decision(t, "api")
	want := []api.ServingTarget{
		{Target: "primary", Addresses: []string{"192.0.2.10"}, Weight: 3},
		{Target: "secondary", CNAME: "lb.dc2.example.net", Weight: 1},
	}
	slices.SortFunc(d.Serving, func(a, b api.ServingTarget) int { return strings.Compare(a.Target, b.Target) })
	if len(d.Serving) != 2 || d.Serving[0].Weight != 3 || d.Serving[1].CNAME != want[1].CNAME || d.Serving[1].Weight != 1 {
		t.Errorf("active-active serving %+v, want %+v", d.Serving, want)
	}

	h.do(t, http.MethodGet, "/v1/traffic-policies/nope/decision", readToken, nil).problem(t, http.StatusNotFound)
}

// TestOverride: an operator pins a policy to a target until expires_at;
// the pin is validated, answered with the decision it produces, visible
// in GET, cleared by DELETE, and ends by itself when it expires.
func TestOverride(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create(t, api.KindHealthCheck, checkFixture("web-dc1", "127.0.0.1:443"))
	h.create(t, api.KindHealthCheck, checkFixture("web-dc2", "127.0.0.1:443"))
	h.create(t, api.KindTrafficPolicy, policyFixture("web", "web-dc1", "web-dc2"))
	const path = "/v1/traffic-policies/web/override"
	at := func(d time.Duration) string { return time.Now().Add(d).UTC().Format(time.RFC3339Nano) }

	t.Run("validation", func(t *testing.T) {
		before := h.decision(t, "web")
		tests := []struct {
			name   string
			body   any
			fields []string
			detail string
		}{
			{"unknown target", obj{"target": "dc9", "expires_at": at(time.Hour)}, []string{"target"}, `"dc9"`},
			{"missing expires_at", obj{"target": "secondary"}, []string{"expires_at"}, "required"},
			{"expires_at in the past", obj{"target": "secondary", "expires_at": at(-time.Minute)}, []string{"expires_at"}, "past"},
			{"expires_at too far", obj{"target": "secondary", "expires_at": at(8 * 24 * time.Hour)}, []string{"expires_at"}, "ahead"},
			{"several", obj{"target": "", "reason": strings.Repeat("r", 1025)}, []string{"target", "expires_at", "reason"}, ""},
			{"unknown field", obj{"target": "secondary", "expires_at": at(time.Hour), "ttl": 5}, []string{"ttl"}, "unknown field"},
			{"empty body", "", []string{""}, "empty"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				p := h.do(t, http.MethodPut, path, operateToken, tc.body).problem(t, http.StatusBadRequest)
				wantFields(t, p, tc.fields...)
				wantDetail(t, p, tc.fields[0], tc.detail)
			})
		}
		if after := h.decision(t, "web"); after.Generation != before.Generation || after.Override != nil {
			t.Errorf("a refused override changed the decision: %+v → %+v", before, after)
		}
		h.do(t, http.MethodPut, "/v1/traffic-policies/nope/override", operateToken, obj{"target": "secondary", "expires_at": at(time.Hour)}).problem(t, http.StatusNotFound)
		h.do(t, http.MethodDelete, "/v1/traffic-policies/nope/override", operateToken, nil).problem(t, http.StatusNotFound)
	})

	t.Run("set and clear", func(t *testing.T) {
		before := h.decision(t, "web")
		var d api.Decision
		h.do(t, http.MethodPut, path, operateToken, obj{"target": "secondary", "expires_at": at(time.Hour), "reason": "INC-4711 drain dc1"}).
			want(t, http.StatusOK).decode(t, &d)
		if !slices.Equal(serving(d), []string{"secondary"}) || d.Override == nil || d.Override.Target != "secondary" ||
			d.Override.SetBy != operateName || d.Override.Reason != "INC-4711 drain dc1" || d.Generation <= before.Generation {
			t.Errorf("override answered %+v", d)
		}
		got := h.decision(t, "web")
		if !slices.Equal(serving(got), []string{"secondary"}) || got.Override == nil || got.Generation != d.Generation {
			t.Errorf("GET after override: %+v, want the answered decision %+v", got, d)
		}

		var cleared api.Decision
		h.do(t, http.MethodDelete, path, operateToken, nil).want(t, http.StatusOK).decode(t, &cleared)
		if !slices.Equal(serving(cleared), []string{"primary"}) || cleared.Override != nil || cleared.Generation <= d.Generation {
			t.Errorf("clear answered %+v", cleared)
		}
		if got := h.decision(t, "web"); !slices.Equal(serving(got), []string{"primary"}) || got.Override != nil {
			t.Errorf("GET after clear: %+v", got)
		}
		// Clearing without an override is fine (it is also how a manual
		// failback is performed).
		h.do(t, http.MethodDelete, path, operateToken, nil).want(t, http.StatusOK)
	})

	t.Run("expiry", func(t *testing.T) {
		h.do(t, http.MethodPut, path, operateToken, obj{"target": "secondary", "expires_at": at(1500 * time.Millisecond)}).want(t, http.StatusOK)
		eventually(t, 15*time.Second, func() (bool, string) {
			d := h.decision(t, "web")
			return d.Override == nil && slices.Equal(serving(d), []string{"primary"}), fmt.Sprintf("%+v", d)
		})
	})
}

// replSetConfig is the replSetReconfig document as a client reads it.
type replSetConfig struct {
	ID      string `json:"_id"`
	Version int    `json:"version"`
	Members []struct {
		ID          int               `json:"_id"`
		Host        string            `json:"host"`
		Priority    float64           `json:"priority"`
		Votes       int               `json:"votes"`
		ArbiterOnly bool              `json:"arbiterOnly"`
		Hidden      bool              `json:"hidden"`
		Tags        map[string]string `json:"tags"`
	} `json:"members"`
}

func (c replSetConfig) ids() map[string]int {
	out := map[string]int{}
	for _, m := range c.Members {
		out[m.Host] = m.ID
	}
	return out
}

// TestReplicaSetConfig: /config is the replSetReconfig document, and a
// member keeps its _id across updates that reorder, add and remove
// members — MongoDB identifies members by _id.
func TestReplicaSetConfig(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var rs api.ReplicaSet
	h.create(t, api.KindReplicaSet, replicaSetFixture("orders")).decode(t, &rs)
	a := rs.Analysis
	if a == nil || a.VotingMembers != 3 || a.Majority != 2 || a.FaultTolerance != 1 || a.PreferredPrimarySite != "dc1" ||
		!a.SiteLoss["dc1"].Survives || a.SiteLoss["dc1"].NewPrimary != "db-2" {
		t.Errorf("analysis %+v", a)
	}

	config := func(t *testing.T) replSetConfig {
		t.Helper()
		var c replSetConfig
		h.do(t, http.MethodGet, "/v1/replica-sets/orders/config", readToken, nil).want(t, http.StatusOK).decode(t, &c)
		return c
	}
	c := config(t)
	const (
		arb = "arb.example.net:27017"
		db0 = "db-0.example.org:27017"
		db1 = "db-1.example.org:27017"
		db2 = "db-2.example.org:27017"
		db3 = "db-3.example.net:27017"
	)
	if c.ID != "orders" || c.Version != 1 || len(c.Members) != 3 {
		t.Fatalf("config %+v", c)
	}
	first := c.ids()
	for _, m := range c.Members {
		switch m.Host {
		case arb:
			if !m.ArbiterOnly || m.Priority != 0 || m.Votes != 1 || m.Tags != nil {
				t.Errorf("arbiter %+v", m)
			}
		case db1:
			if m.Priority != 2 || m.Votes != 1 || m.Tags["site"] != "dc1" {
				t.Errorf("db-1 %+v", m)
			}
		}
	}

	// Reordered JSON, two members added (one sorting first by name); one
	// votes, since a reconfiguration adds at most one voter.
	reordered := `{"members":{
		"db-3":{"site":"dc2","host":"` + db3 + `","votes":0,"priority":0},
		"db-2":{"priority":1,"site":"dc2","host":"` + db2 + `"},
		"arb":{"arbiter":true,"site":"dc3","host":"` + arb + `"},
		"db-1":{"priority":2,"site":"dc1","host":"` + db1 + `"},
		"db-0":{"priority":2,"site":"dc1","host":"` + db0 + `"}},
		"require_site_fault_tolerance":false,
		"name":"orders"}`
	h.do(t, http.MethodPut, "/v1/replica-sets/orders", adminToken, reordered).want(t, http.StatusOK).decode(t, &rs)
	c = config(t)
	second := c.ids()
	if c.Version != 2 || len(second) != 5 {
		t.Fatalf("config after adding members %+v", c)
	}
	for host, id := range first {
		if second[host] != id {
			t.Errorf("%s: _id %d became %d", host, id, second[host])
		}
	}
	if len(uniqueIDs(second)) != 5 {
		t.Errorf("_ids not unique: %v", second)
	}
	if rs.MemberIDs["db-0"] != second[db0] || rs.MemberIDs["arb"] != second[arb] {
		t.Errorf("member_ids %v disagree with config %v", rs.MemberIDs, second)
	}

	// Remove two members: the others keep their ids.
	h.do(t, http.MethodPut, "/v1/replica-sets/orders", adminToken, `{"name":"orders","members":{
		"arb":{"arbiter":true,"site":"dc3","host":"`+arb+`"},
		"db-0":{"priority":2,"site":"dc1","host":"`+db0+`"},
		"db-2":{"priority":1,"site":"dc2","host":"`+db2+`"}}}`).want(t, http.StatusOK)
	c = config(t)
	third := c.ids()
	if c.Version != 3 || len(third) != 3 {
		t.Fatalf("config after removing members %+v", c)
	}
	for _, host := range []string{arb, db0, db2} {
		if third[host] != second[host] {
			t.Errorf("%s: _id %d became %d", host, second[host], third[host])
		}
	}
	for i := 1; i < len(c.Members); i++ {
		if c.Members[i-1].ID >= c.Members[i].ID {
			t.Errorf("members not in _id order: %+v", c.Members)
		}
	}

	// Ids survive a restart too.
	h.restart(t)
	if got := config(t).ids(); !mapsEqual(got, third) {
		t.Errorf("after restart _ids %v, want %v", got, third)
	}
	h.do(t, http.MethodGet, "/v1/replica-sets/nope/config", readToken, nil).problem(t, http.StatusNotFound)
}

func uniqueIDs(m map[string]int) map[int]bool {
	out := map[int]bool{}
	for _, id := range m {
		out[id] = true
	}
	return out
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestReplicaSetStatus: {"members_up", "has_majority", "expected_primary",
// "at_risk"} follows the members' health checks.
func TestReplicaSetStatus(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	be := backend(t)
	h.create(t, api.KindHealthCheck, fastCheck("db-1", hostPort(be)))
	h.create(t, api.KindReplicaSet, edit(t, replicaSetFixture("orders"), func(o obj) {
		sub(o, "members", "db-1")["health_check"] = "db-1"
	}))

	r := h.do(t, http.MethodGet, "/v1/replica-sets/orders/status", readToken, nil).want(t, http.StatusOK)
	wantKeys(t, "replica set status", r.Body, "members_up", "has_majority", "expected_primary", "at_risk")
	var st api.ReplicaSetStatus
	r.decode(t, &st)
	if st.MembersUp != 3 || !st.HasMajority || st.ExpectedPrimary != "db-1" || st.AtRisk {
		t.Errorf("status with everything up: %+v", st)
	}

	be.Close()
	eventually(t, 15*time.Second, func() (bool, string) {
		h.do(t, http.MethodGet, "/v1/replica-sets/orders/status", readToken, nil).want(t, http.StatusOK).decode(t, &st)
		// db-2 and the arbiter still hold 2 of 3 votes; losing dc2 now
		// would leave 1.
		return st.MembersUp == 2 && st.HasMajority && st.ExpectedPrimary == "db-2" && st.AtRisk &&
			st.Members["db-1"] == api.StateUnhealthy, fmt.Sprintf("%+v", st)
	})
	h.do(t, http.MethodGet, "/v1/replica-sets/nope/status", readToken, nil).problem(t, http.StatusNotFound)
}

// TestStatus: the operator's one screen.
func TestStatus(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var st api.Status
	r := h.do(t, http.MethodGet, "/v1/status", readToken, nil).want(t, http.StatusOK)
	wantKeys(t, "status", r.Body, "site", "version", "started", "checks", "decisions", "toggles")
	r.decode(t, &st)
	if st.Site != "local" || st.Version != "test" || st.Started.IsZero() || st.Checks == nil || st.Decisions == nil || st.Toggles == nil {
		t.Errorf("empty status %+v: want site, version, start and empty (not null) lists", st)
	}

	h.create(t, api.KindHealthCheck, checkFixture("web-dc1", "127.0.0.1:443"))
	h.create(t, api.KindHealthCheck, checkFixture("web-dc2", "127.0.0.1:443"))
	h.create(t, api.KindTrafficPolicy, policyFixture("web", "web-dc1", "web-dc2"))
	h.create(t, api.KindBurstToggle, toggleFixture("dr"))
	h.do(t, http.MethodGet, "/v1/status", readToken, nil).want(t, http.StatusOK).decode(t, &st)
	if len(st.Checks) != 2 || len(st.Decisions) != 1 || st.Decisions[0].Policy != "web" || len(st.Toggles) != 1 || st.Toggles[0].Name != "dr" {
		t.Errorf("status %+v", st)
	}
}

// TestEventsPaging: ?since= returns the events after a sequence number,
// ?limit= bounds the page, and bad parameters are a 400 naming each.
func TestEventsPaging(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for i := 0; i < 6; i++ {
		h.create(t, api.KindBurstToggle, toggleFixture(fmt.Sprintf("t%d", i)))
	}
	all := h.events(t)
	if len(all) < 6 {
		t.Fatalf("%d events, want at least 6", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].Seq <= all[i-1].Seq {
			t.Fatalf("events out of order: %d after %d", all[i].Seq, all[i-1].Seq)
		}
	}
	var page api.List[api.Event]
	h.do(t, http.MethodGet, fmt.Sprintf("/v1/events?since=%d&limit=2", all[1].Seq), readToken, nil).want(t, http.StatusOK).decode(t, &page)
	if len(page.Items) != 2 || page.Items[0].Seq != all[2].Seq || page.Items[1].Seq != all[3].Seq {
		t.Errorf("since=%d&limit=2: %+v", all[1].Seq, page.Items)
	}
	h.do(t, http.MethodGet, "/v1/events?since="+strconv.FormatUint(all[len(all)-1].Seq, 10), readToken, nil).want(t, http.StatusOK).decode(t, &page)
	if page.Items == nil || len(page.Items) != 0 {
		t.Errorf("since the last event: %+v, want an empty list", page.Items)
	}

	tests := []struct {
		query  string
		fields []string
	}{
		{"since=abc", []string{"since"}},
		{"since=-1", []string{"since"}},
		{"limit=0", []string{"limit"}},
		{"limit=1001", []string{"limit"}},
		{"limit=ten", []string{"limit"}},
		{"since=x&limit=-5", []string{"since", "limit"}},
		{"since=x&follow=1", []string{"since"}},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			p := h.do(t, http.MethodGet, "/v1/events?"+tc.query, readToken, nil).problem(t, http.StatusBadRequest)
			wantFields(t, p, tc.fields...)
			if len(p.Errors) != len(tc.fields) {
				t.Errorf("errors %v, want %v", fields(p), tc.fields)
			}
		})
	}
}

// TestEventsFollow reads the server-sent event stream until the decision
// event caused by an override arrives.
func TestEventsFollow(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create(t, api.KindHealthCheck, checkFixture("web-dc1", "127.0.0.1:443"))
	h.create(t, api.KindHealthCheck, checkFixture("web-dc2", "127.0.0.1:443"))
	h.create(t, api.KindTrafficPolicy, policyFixture("web", "web-dc1", "web-dc2"))
	// The first decision's event is written in the background: start
	// following after it.
	var since uint64
	eventually(t, 10*time.Second, func() (bool, string) {
		for _, ev := range h.events(t) {
			if ev.Type == api.EventDecision && ev.Object == "traffic-policies/web" {
				since = h.lastSeq(t)
				return true, ""
			}
		}
		return false, "no decision event for the new policy"
	})

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/v1/events?follow=1&since=%d", h.srv.URL, since), nil)
	req.Header.Set("Authorization", "Bearer "+readToken)
	res, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("follow: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}

	h.do(t, http.MethodPut, "/v1/traffic-policies/web/override", operateToken,
		obj{"target": "secondary", "expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}).want(t, http.StatusOK)

	var (
		last     uint64
		decision *api.Event
		sawAudit bool
	)
	err = readSSE(bufio.NewReader(res.Body), func(ev sseEvent) bool {
		var e api.Event
		if err := json.Unmarshal(ev.Data, &e); err != nil {
			t.Errorf("event data %q: %v", ev.Data, err)
			return true
		}
		if id, _ := strconv.ParseUint(ev.ID, 10, 64); id != e.Seq || e.Seq <= since || e.Seq <= last || ev.Type != e.Type {
			t.Errorf("event id %q type %q for %+v (since %d, last %d)", ev.ID, ev.Type, e, since, last)
		}
		last = e.Seq
		if e.Type == api.EventAudit && e.Action == "override set" {
			sawAudit = true
		}
		if e.Type == api.EventDecision && e.Object == "traffic-policies/web" {
			decision = &e
			return true
		}
		return false
	})
	if decision == nil {
		t.Fatalf("stream ended without a decision event: %v", err)
	}
	var d api.Decision
	if err := json.Unmarshal(decision.Data, &d); err != nil || !slices.Equal(serving(d), []string{"secondary"}) {
		t.Errorf("decision event data %s: want serving secondary", decision.Data)
	}
	if decision.ObservedAt == nil || decision.ObservedAt.IsZero() {
		t.Errorf("decision event without observed_at: %+v", decision)
	}
	if !sawAudit {
		t.Error("the override's audit event was not streamed before its decision")
	}

	// Last-Event-ID resumes a dropped stream after the given event.
	cancel()
	ctx2, cancel2 := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel2()
	req, _ = http.NewRequestWithContext(ctx2, http.MethodGet, h.srv.URL+"/v1/events?follow=1", nil)
	req.Header.Set("Authorization", "Bearer "+readToken)
	req.Header.Set("Last-Event-ID", strconv.FormatUint(since, 10))
	res2, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res2.Body.Close()
	readSSE(bufio.NewReader(res2.Body), func(ev sseEvent) bool {
		if id, _ := strconv.ParseUint(ev.ID, 10, 64); id <= since {
			t.Errorf("resumed stream replayed event %d (Last-Event-ID %d)", id, since)
		}
		return true
	})
}

// An override to a target that is down right now needs force and a
// reason (issue 14).
func TestOverrideToADownTargetNeedsForce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close() // nothing listens: connection refused
	fast := func(name, addr string) obj {
		return obj{"name": name, "site": "dc1", "type": "tcp", "address": addr, "interval_seconds": 1, "timeout_seconds": 0.5, "rise": 1, "fall": 1}
	}
	h.create(t, api.KindHealthCheck, fast("dc1-web", "127.0.0.1:443"))
	h.create(t, api.KindHealthCheck, fast("dc2-web", dead))
	h.create(t, api.KindTrafficPolicy, policyFixture("web", "dc1-web", "dc2-web"))
	eventually(t, 15*time.Second, func() (bool, string) {
		var st api.HealthStatus
		h.do(t, http.MethodGet, "/v1/health-checks/dc2-web/status", readToken, nil).want(t, http.StatusOK).decode(t, &st)
		return st.State == api.StateUnhealthy, st.State
	})
	const path = "/v1/traffic-policies/web/override"
	until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano)

	p := h.do(t, http.MethodPut, path, operateToken, obj{"target": "secondary", "expires_at": until}).problem(t, http.StatusBadRequest)
	wantFields(t, p, "force")
	wantDetail(t, p, "force", `target "secondary" is down right now`)

	p = h.do(t, http.MethodPut, path, operateToken, obj{"target": "secondary", "expires_at": until, "force": true}).problem(t, http.StatusBadRequest)
	wantFields(t, p, "reason")

	var d api.Decision
	h.do(t, http.MethodPut, path, operateToken, obj{"target": "secondary", "expires_at": until, "force": true, "reason": "INC-42: the checks are wrong"}).
		want(t, http.StatusOK).decode(t, &d)
	if len(d.Serving) != 1 || d.Serving[0].Target != "secondary" || !strings.Contains(d.Reason, "forced while the target was down") || d.Override == nil || !d.Override.Force {
		t.Errorf("forced override: %+v", d)
	}
}
