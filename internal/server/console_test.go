package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/ui"
)

// The console's assets are public and carry the security headers; they
// never embed data (no token, no object): that comes from the API.
func TestConsoleAssets(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		path, ctype, contains string
		code                  int
	}{
		{"/ui/", "text/html", `<script src="app.js" defer></script>`, http.StatusOK},
		{"/ui/app.js", "javascript", "sessionStorage", http.StatusOK},
		{"/ui/app.css", "text/css", "@media", http.StatusOK},
		{"/ui/nope.js", "", "", http.StatusNotFound},
	} {
		t.Run(tc.path, func(t *testing.T) {
			r := h.do(t, http.MethodGet, tc.path, noToken, nil).want(t, tc.code)
			if got := r.Header.Get("Content-Security-Policy"); got != ui.CSP {
				t.Errorf("CSP %q, want %q", got, ui.CSP)
			}
			if !strings.Contains(ui.CSP, "frame-ancestors 'none'") || strings.Contains(ui.CSP, "unsafe-inline") {
				t.Errorf("CSP %q must forbid framing and inline script", ui.CSP)
			}
			if got := r.Header.Get("X-Frame-Options"); got != "DENY" {
				t.Errorf("X-Frame-Options %q, want DENY", got)
			}
			if got := r.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q, want nosniff", got)
			}
			if tc.code != http.StatusOK {
				return
			}
			if ct := r.Header.Get("Content-Type"); !strings.Contains(ct, tc.ctype) {
				t.Errorf("Content-Type %q, want %s", ct, tc.ctype)
			}
			if !strings.Contains(string(r.Body), tc.contains) {
				t.Errorf("body lacks %q", tc.contains)
			}
		})
	}
	// No inline script or style in the page: the CSP would block it.
	page := string(h.do(t, http.MethodGet, "/ui/", noToken, nil).Body)
	for _, bad := range []string{"<script>", " style=", "onclick="} {
		if strings.Contains(page, bad) {
			t.Errorf("index.html contains %q, which the CSP blocks", bad)
		}
	}
	r := h.do(t, http.MethodGet, "/ui", noToken, nil)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "failover console") {
		t.Errorf("/ui did not redirect to the console: %d", r.Status)
	}
	h.do(t, http.MethodPost, "/ui/", adminToken, "x").want(t, http.StatusMethodNotAllowed)
}

func TestWhoami(t *testing.T) {
	h := newHarness(t)
	h.do(t, http.MethodGet, "/v1/whoami", noToken, nil).want(t, http.StatusUnauthorized)
	for _, tc := range []struct{ token, name, scope string }{
		{readToken, readName, "read"},
		{operateToken, operateName, "operate"},
		{adminToken, adminName, "admin"},
	} {
		var w api.Whoami
		h.do(t, http.MethodGet, "/v1/whoami", tc.token, nil).want(t, http.StatusOK).decode(t, &w)
		if w.Name != tc.name || w.Scope != tc.scope {
			t.Errorf("whoami = %+v, want %s/%s", w, tc.name, tc.scope)
		}
	}
	// last_event_seq is the newest event: following from it sees only
	// what happens next.
	h.do(t, http.MethodPost, "/v1/burst-toggles", adminToken, toggleFixture("bf")).want(t, http.StatusCreated)
	var w api.Whoami
	h.do(t, http.MethodGet, "/v1/whoami", readToken, nil).want(t, http.StatusOK).decode(t, &w)
	var evs api.List[api.Event]
	h.do(t, http.MethodGet, "/v1/events?limit=1000", readToken, nil).want(t, http.StatusOK).decode(t, &evs)
	if n := len(evs.Items); n == 0 || evs.Items[n-1].Seq != w.LastEventSeq {
		t.Errorf("last_event_seq %d, events end at %v", w.LastEventSeq, evs.Items)
	}
}

// The drill routes: read lists, operate starts and aborts, every refusal
// names the fix.
func TestDrillRoutes(t *testing.T) {
	h := newHarness(t)
	h.do(t, http.MethodPost, "/v1/health-checks", adminToken, checkFixture("web-dc1", "127.0.0.1:1")).want(t, http.StatusCreated)
	h.do(t, http.MethodPost, "/v1/health-checks", adminToken, checkFixture("web-dc2", "127.0.0.1:2")).want(t, http.StatusCreated)
	h.do(t, http.MethodPost, "/v1/traffic-policies", adminToken, policyFixture("web", "web-dc1", "web-dc2")).want(t, http.StatusCreated)

	var list api.List[api.Drill]
	h.do(t, http.MethodGet, "/v1/drills", readToken, nil).want(t, http.StatusOK).decode(t, &list)
	if list.Items == nil || len(list.Items) != 0 {
		t.Errorf("no drills yet: %s", mustJSON(t, list))
	}
	h.do(t, http.MethodGet, "/v1/drills", noToken, nil).want(t, http.StatusUnauthorized)
	h.do(t, http.MethodPost, "/v1/traffic-policies/web/drills", readToken, api.DrillRequest{Target: "dc2"}).want(t, http.StatusForbidden)
	h.do(t, http.MethodPost, "/v1/drills/d-x/abort", readToken, nil).want(t, http.StatusForbidden)
	h.do(t, http.MethodGet, "/v1/drills/d-nope", readToken, nil).want(t, http.StatusNotFound)
	h.do(t, http.MethodPost, "/v1/drills/d-nope/abort", operateToken, nil).want(t, http.StatusNotFound)
	p := h.do(t, http.MethodPost, "/v1/traffic-policies/web/drills", operateToken, `{"target":"dc2","hold":"forever"}`).problem(t, http.StatusBadRequest)
	wantFields(t, p, "hold")
	p = h.do(t, http.MethodPost, "/v1/traffic-policies/web/drills", operateToken, `{"target":"dc2","extra":1}`).problem(t, http.StatusBadRequest)
	wantFields(t, p, "extra")
	h.do(t, http.MethodPost, "/v1/traffic-policies/nope/drills", operateToken, api.DrillRequest{Target: "dc2"}).want(t, http.StatusNotFound)
	h.do(t, http.MethodPost, "/v1/traffic-policies/web/drills", operateToken, "x").want(t, http.StatusBadRequest)
	// Every refused start is in the audit log, by token.
	var audit api.List[api.Event]
	h.do(t, http.MethodGet, "/v1/events?type=audit&limit=1000", adminToken, nil).want(t, http.StatusOK).decode(t, &audit)
	found := false
	for _, ev := range audit.Items {
		if ev.Actor == operateName && ev.Action == "drill run" && strings.HasPrefix(ev.Outcome, "400") {
			found = true
		}
	}
	h.eng.Flush()
	if !found {
		h.do(t, http.MethodGet, "/v1/events?type=audit&limit=1000", adminToken, nil).want(t, http.StatusOK).decode(t, &audit)
		for _, ev := range audit.Items {
			found = found || (ev.Actor == operateName && ev.Action == "drill run")
		}
	}
	if !found {
		t.Errorf("no audit event of the refused drill run: %s", mustJSON(t, audit))
	}
}
