package server

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// wantBurst fails unless /burst/{name} answers code with body (the body
// ends in a newline, which load balancers' exact matches ignore).
func (h *harness) wantBurst(t *testing.T, name string, code int, body string) {
	t.Helper()
	r := h.do(t, http.MethodGet, "/burst/"+name, noToken, nil)
	if r.Status != code || strings.TrimRight(string(r.Body), "\n") != body {
		t.Errorf("GET /burst/%s: %d %q, want %d %q", name, r.Status, r.Body, code, body)
	}
	if got := r.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("GET /burst/%s: Cache-Control %q, want no-store", name, got)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("GET /burst/%s: Content-Type %q, want text/plain", name, ct)
	}
}

// TestBurstURL: /burst/{name} answers 503 no-burst until an operator
// engages the toggle, then 200 burst at once, with configured bodies when
// set; HEAD works; unknown names are 404. No token is needed.
func TestBurstURL(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var tg api.BurstToggle
	h.create(t, api.KindBurstToggle, toggleFixture("dr")).decode(t, &tg)
	if want := h.srv.URL + "/burst/dr"; tg.URL != want {
		t.Errorf("url %q, want %q", tg.URL, want)
	}
	if tg.Engaged == nil || *tg.Engaged || tg.Effective == nil || *tg.Effective {
		t.Errorf("new toggle %+v: want engaged = effective = false", tg)
	}
	h.wantBurst(t, "dr", http.StatusServiceUnavailable, "no-burst")

	h.do(t, http.MethodPatch, "/v1/burst-toggles/dr", operateToken, `{"engaged":true}`).want(t, http.StatusOK).decode(t, &tg)
	if !api.Bool(tg.Engaged, false) || !api.Bool(tg.Effective, false) {
		t.Errorf("PATCH answered %+v: want engaged and effective", tg)
	}
	h.wantBurst(t, "dr", http.StatusOK, "burst")

	head := h.do(t, http.MethodHead, "/burst/dr", noToken, nil)
	if head.Status != http.StatusOK || len(head.Body) != 0 {
		t.Errorf("HEAD /burst/dr: %d %q, want 200 without a body", head.Status, head.Body)
	}

	h.do(t, http.MethodPatch, "/v1/burst-toggles/dr", operateToken, `{"engaged":false}`).want(t, http.StatusOK)
	h.wantBurst(t, "dr", http.StatusServiceUnavailable, "no-burst")
	head = h.do(t, http.MethodHead, "/burst/dr", noToken, nil)
	if head.Status != http.StatusServiceUnavailable {
		t.Errorf("HEAD /burst/dr: %d, want 503", head.Status)
	}

	// Custom bodies.
	h.create(t, api.KindBurstToggle, edit(t, toggleFixture("black-friday"), func(o obj) {
		o["body_engaged"], o["body_released"] = "POOL UP", "POOL DOWN"
	}))
	h.wantBurst(t, "black-friday", http.StatusServiceUnavailable, "POOL DOWN")
	h.do(t, http.MethodPatch, "/v1/burst-toggles/black-friday", adminToken, `{"engaged":true}`).want(t, http.StatusOK)
	h.wantBurst(t, "black-friday", http.StatusOK, "POOL UP")

	// Changing a body is seen at once.
	h.do(t, http.MethodPut, "/v1/burst-toggles/black-friday", adminToken, edit(t, toggleFixture("black-friday"), func(o obj) {
		o["body_engaged"], o["body_released"] = "GO", "STOP"
	})).want(t, http.StatusOK)
	h.wantBurst(t, "black-friday", http.StatusOK, "GO")

	r := h.do(t, http.MethodGet, "/burst/nope", noToken, nil)
	if r.Status != http.StatusNotFound {
		t.Errorf("GET /burst/nope: %d, want 404", r.Status)
	}
	if r := h.do(t, http.MethodHead, "/burst/nope", noToken, nil); r.Status != http.StatusNotFound {
		t.Errorf("HEAD /burst/nope: %d, want 404", r.Status)
	}

	// Deleted toggles stop answering.
	h.do(t, http.MethodDelete, "/v1/burst-toggles/black-friday", adminToken, nil).want(t, http.StatusNoContent)
	if r := h.do(t, http.MethodGet, "/burst/black-friday", noToken, nil); r.Status != http.StatusNotFound {
		t.Errorf("GET /burst/black-friday after delete: %d, want 404", r.Status)
	}
}

// TestBurstEffective: the effective state is engaged or scheduled, and
// never past expires_at.
func TestBurstEffective(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	now := time.Now().UTC()
	stamp := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }

	tests := []struct {
		name      string
		edit      func(obj)
		engaged   bool
		effective bool
	}{
		{"released", nil, false, false},
		{"engaged", func(o obj) { o["engaged"] = true }, true, true},
		{"scheduled now", func(o obj) {
			o["schedule"] = []any{obj{"start": stamp(-time.Hour), "end": stamp(time.Hour)}}
		}, false, true},
		{"scheduled later", func(o obj) {
			o["schedule"] = []any{obj{"start": stamp(time.Hour), "end": stamp(2 * time.Hour)}}
		}, false, false},
		{"schedule over", func(o obj) {
			o["schedule"] = []any{obj{"start": stamp(-2 * time.Hour), "end": stamp(-time.Hour)}}
		}, false, false},
		{"engaged but expired", func(o obj) { o["engaged"], o["expires_at"] = true, stamp(-time.Minute) }, true, false},
		{"scheduled but expired", func(o obj) {
			o["schedule"] = []any{obj{"start": stamp(-time.Hour), "end": stamp(time.Hour)}}
			o["expires_at"] = stamp(-time.Minute)
		}, false, false},
		{"engaged until later", func(o obj) { o["engaged"], o["expires_at"] = true, stamp(time.Hour) }, true, true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := "t" + string(rune('a'+i))
			var tg api.BurstToggle
			h.create(t, api.KindBurstToggle, edit(t, toggleFixture(name), tc.edit)).decode(t, &tg)
			if api.Bool(tg.Engaged, !tc.engaged) != tc.engaged || api.Bool(tg.Effective, !tc.effective) != tc.effective {
				t.Errorf("created %+v: want engaged %t, effective %t", tg, tc.engaged, tc.effective)
			}
			h.get(t, api.KindBurstToggle, name).decode(t, &tg)
			if api.Bool(tg.Effective, !tc.effective) != tc.effective {
				t.Errorf("GET: effective %v, want %t", tg.Effective, tc.effective)
			}
			if tc.effective {
				h.wantBurst(t, name, http.StatusOK, "burst")
			} else {
				h.wantBurst(t, name, http.StatusServiceUnavailable, "no-burst")
			}
		})
	}
}

// TestBurstOperatorStateSurvivesApply: a PUT without engaged (Terraform
// not managing it) keeps the operator's flip; a PUT with engaged enforces.
func TestBurstOperatorStateSurvivesApply(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create(t, api.KindBurstToggle, toggleFixture("dr"))
	h.do(t, http.MethodPatch, "/v1/burst-toggles/dr", operateToken, `{"engaged":true}`).want(t, http.StatusOK)

	h.do(t, http.MethodPut, "/v1/burst-toggles/dr", adminToken, edit(t, toggleFixture("dr"), func(o obj) { o["body_engaged"] = "up" })).want(t, http.StatusOK)
	h.wantBurst(t, "dr", http.StatusOK, "up")

	h.do(t, http.MethodPut, "/v1/burst-toggles/dr", adminToken, edit(t, toggleFixture("dr"), func(o obj) { o["engaged"] = false })).want(t, http.StatusOK)
	h.wantBurst(t, "dr", http.StatusServiceUnavailable, "no-burst")
}

// TestBurstPatchValidation: the PATCH body is {"engaged": bool}, nothing
// else, and a missing toggle is 404.
func TestBurstPatchValidation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create(t, api.KindBurstToggle, toggleFixture("dr"))
	before := h.state(t, api.KindBurstToggle, "dr")
	tests := []struct {
		body  string
		field string
	}{
		{`{}`, "engaged"},
		{`{"engaged":null}`, "engaged"},
		{`{"engaged":"true"}`, "engaged"},
		{`{"engaged":true,"until":"2025-12-01T00:00:00Z"}`, "until"},
		{`{"engaged":true} {"engaged":false}`, ""},
		{``, ""},
	}
	for _, tc := range tests {
		p := h.do(t, http.MethodPatch, "/v1/burst-toggles/dr", operateToken, tc.body).problem(t, http.StatusBadRequest)
		if _, ok := errorOn(p, tc.field); !ok {
			t.Errorf("PATCH %s: no error on %q: %s", tc.body, tc.field, describe(p))
		}
	}
	h.wantUnchanged(t, api.KindBurstToggle, "dr", before)
	h.wantBurst(t, "dr", http.StatusServiceUnavailable, "no-burst")
	h.do(t, http.MethodPatch, "/v1/burst-toggles/nope", operateToken, `{"engaged":true}`).problem(t, http.StatusNotFound)
}
