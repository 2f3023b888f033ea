package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// route is one API route with a request that the handler would accept.
type route struct {
	method, path string
	body         any
	// scope is the least scope that may call it; 0 means no token needed.
	scope Scope
	// ok is the handler's answer once the caller may call it.
	ok int
}

// authWorld creates one object of each kind, all named "app", so that the
// routes below hit real objects.
func authWorld(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t)
	for _, k := range api.Kinds {
		h.create(t, k, appFixture(k, "app"))
	}
	return h
}

// appFixture is a valid object of kind k in authWorld.
func appFixture(k api.Kind, name string) obj {
	if k == api.KindTrafficPolicy {
		return policyFixture(name, "app", "app")
	}
	return baseFixture(k, name)
}

// mutatingRoutes is every route that changes something (DESIGN §4.2).
func mutatingRoutes() []route {
	var rs []route
	for _, k := range api.Kinds {
		base := "/v1/" + string(k)
		deleted := http.StatusNoContent
		if k == api.KindHealthCheck {
			deleted = http.StatusConflict // traffic policy "app" uses it
		}
		rs = append(rs,
			route{http.MethodPost, base, appFixture(k, "other"), ScopeAdmin, http.StatusCreated},
			route{http.MethodPut, base + "/app", appFixture(k, "app"), ScopeAdmin, http.StatusOK},
			route{http.MethodDelete, base + "/app", nil, ScopeAdmin, deleted},
		)
	}
	expires := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	return append(rs,
		route{http.MethodPatch, "/v1/burst-toggles/app", `{"engaged":true}`, ScopeOperate, http.StatusOK},
		route{http.MethodPut, "/v1/traffic-policies/app/override", obj{"target": "secondary", "expires_at": expires}, ScopeOperate, http.StatusOK},
		route{http.MethodDelete, "/v1/traffic-policies/app/override", nil, ScopeOperate, http.StatusOK},
	)
}

// readRoutes is every GET of the v1 API, plus the routes without a token.
func readRoutes() []route {
	var rs []route
	for _, k := range api.Kinds {
		rs = append(rs,
			route{http.MethodGet, "/v1/" + string(k), nil, ScopeRead, http.StatusOK},
			route{http.MethodGet, "/v1/" + string(k) + "/app", nil, ScopeRead, http.StatusOK},
		)
	}
	return append(rs,
		route{http.MethodGet, "/v1/health-checks/app/status", nil, ScopeRead, http.StatusOK},
		route{http.MethodGet, "/v1/traffic-policies/app/decision", nil, ScopeRead, http.StatusOK},
		route{http.MethodGet, "/v1/replica-sets/app/status", nil, ScopeRead, http.StatusOK},
		route{http.MethodGet, "/v1/replica-sets/app/config", nil, ScopeRead, http.StatusOK},
		route{http.MethodGet, "/v1/events", nil, ScopeRead, http.StatusOK},
		route{http.MethodGet, "/v1/status", nil, ScopeRead, http.StatusOK},
		route{http.MethodGet, "/v1/cluster", nil, ScopeRead, http.StatusOK},
		route{http.MethodGet, "/burst/app", nil, 0, http.StatusServiceUnavailable}, // released
		route{http.MethodHead, "/burst/app", nil, 0, http.StatusServiceUnavailable},
		route{http.MethodGet, "/healthz", nil, 0, http.StatusOK},
		route{http.MethodGet, "/readyz", nil, 0, http.StatusOK},
		route{http.MethodGet, "/metrics", nil, 0, http.StatusOK},
	)
}

// TestAuthWalk calls every route with no token, a forged token and each
// scope's token: without a valid token a protected route answers 401 with
// a WWW-Authenticate challenge, with too small a scope 403, and otherwise
// the handler runs. Refusals change nothing.
func TestAuthWalk(t *testing.T) {
	t.Parallel()
	tokens := []struct {
		name  string
		token string
		scope Scope
	}{
		{"no token", noToken, 0},
		{"forged token", "not-a-token", 0},
		{"read", readToken, ScopeRead},
		{"operate", operateToken, ScopeOperate},
		{"admin", adminToken, ScopeAdmin},
	}
	for _, tk := range tokens {
		t.Run(tk.name, func(t *testing.T) {
			t.Parallel()
			h := authWorld(t)
			for _, rt := range append(readRoutes(), mutatingRoutes()...) {
				before := map[api.Kind]state{}
				for _, k := range api.Kinds {
					before[k] = h.state(t, k, "app")
				}
				r := h.do(t, rt.method, rt.path, tk.token, rt.body)
				name := rt.method + " " + rt.path
				switch {
				case rt.scope == 0 || tk.scope >= rt.scope:
					if r.Status != rt.ok {
						t.Errorf("%s: status %d, want the handler's %d; body %s", name, r.Status, rt.ok, r.Body)
					}
				case tk.scope == 0:
					r.problem(t, http.StatusUnauthorized)
					if ch := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(ch, "Bearer") {
						t.Errorf("%s: WWW-Authenticate %q, want a Bearer challenge", name, ch)
					}
				default:
					p := r.problem(t, http.StatusForbidden)
					if !strings.Contains(p.Detail, rt.scope.String()) {
						t.Errorf("%s: 403 detail %q does not name the scope needed (%s)", name, p.Detail, rt.scope)
					}
				}
				if r.Status == http.StatusUnauthorized || r.Status == http.StatusForbidden {
					for _, k := range api.Kinds {
						h.wantUnchanged(t, k, "app", before[k])
					}
				}
				// Mutations that went through are undone by recreating the
				// world for the next route.
				if rt.method != http.MethodGet && rt.method != http.MethodHead && r.Status < 300 {
					h = authWorld(t)
				}
			}
		})
	}
}

// TestAuthOperateScope pins down what the 4 a.m. buttons may do: the
// operate token engages toggles and sets and clears overrides, and those
// changes are applied.
func TestAuthOperateScope(t *testing.T) {
	t.Parallel()
	h := authWorld(t)
	h.do(t, http.MethodPatch, "/v1/burst-toggles/app", operateToken, `{"engaged":true}`).want(t, http.StatusOK)
	var tg api.BurstToggle
	h.get(t, api.KindBurstToggle, "app").decode(t, &tg)
	if !api.Bool(tg.Engaged, false) {
		t.Errorf("toggle not engaged: %+v", tg)
	}
	expires := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	h.do(t, http.MethodPut, "/v1/traffic-policies/app/override", operateToken, obj{"target": "secondary", "expires_at": expires}).want(t, http.StatusOK)
	if d := h.decision(t, "app"); d.Override == nil || d.Override.SetBy != operateName {
		t.Errorf("decision %+v: want an override set by %q", d, operateName)
	}
	h.do(t, http.MethodDelete, "/v1/traffic-policies/app/override", operateToken, nil).want(t, http.StatusOK)
	if d := h.decision(t, "app"); d.Override != nil {
		t.Errorf("override still set: %+v", d.Override)
	}
}

// TestAuthHeaderForms: only "Bearer <token>" authenticates.
func TestAuthHeaderForms(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tests := []struct {
		header string
		want   int
	}{
		{"Bearer " + readToken, http.StatusOK},
		{"Bearer  " + readToken + " ", http.StatusOK},
		{"Basic " + readToken, http.StatusUnauthorized},
		{"bearer", http.StatusUnauthorized},
		{"Bearer ", http.StatusUnauthorized},
		{readToken, http.StatusUnauthorized},
		{"Bearer " + readToken + "x", http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q", tc.header), func(t *testing.T) {
			r := h.do(t, http.MethodGet, "/v1/status", noToken, nil, "Authorization", tc.header)
			r.want(t, tc.want)
		})
	}
}
