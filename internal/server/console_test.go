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
