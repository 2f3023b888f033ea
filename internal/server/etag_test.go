package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// TestETagIfMatch walks optimistic concurrency for every kind: GET sends
// the version as ETag; a PUT or DELETE carrying a stale If-Match is
// refused with 412 and changes nothing; an identical PUT changes nothing,
// not even the version; a PUT of a missing object is 404.
func TestETagIfMatch(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create(t, api.KindHealthCheck, checkFixture("web-dc1", "127.0.0.1:443"))
	h.create(t, api.KindHealthCheck, checkFixture("web-dc2", "127.0.0.1:443"))

	tests := []struct {
		kind   api.Kind
		create obj
		// change makes a real update.
		change func(obj)
	}{
		{api.KindHealthCheck, checkFixture("app", "127.0.0.1:443"), func(o obj) { o["path"] = "/ready" }},
		{api.KindTrafficPolicy, policyFixture("app", "web-dc1", "web-dc2"), func(o obj) { o["ttl_seconds"] = 20 }},
		{api.KindReplicaSet, replicaSetFixture("app"), func(o obj) { sub(o, "members", "db-1")["zone"] = "dc1-a" }},
		{api.KindBurstToggle, toggleFixture("app"), func(o obj) { o["body_engaged"] = "UP" }},
	}
	for _, tc := range tests {
		t.Run(string(tc.kind), func(t *testing.T) {
			path := objPath(tc.kind, "app")
			created := h.create(t, tc.kind, tc.create)
			if got := created.Header.Get("ETag"); got != `"1"` {
				t.Errorf("create: ETag %s, want \"1\"", got)
			}
			if got := created.Header.Get("Location"); got != path {
				t.Errorf("create: Location %q, want %q", got, path)
			}
			r := h.get(t, tc.kind, "app")
			if got := r.Header.Get("ETag"); got != `"1"` {
				t.Errorf("GET: ETag %s, want \"1\"", got)
			}
			var v struct{ Version uint64 }
			r.decode(t, &v)
			if v.Version != 1 {
				t.Errorf("GET: version %d, want 1", v.Version)
			}

			// An identical PUT (the body as created, or as read back with
			// its computed fields) is a no-op: no new version.
			for _, body := range []any{tc.create, r.Body} {
				res := h.do(t, http.MethodPut, path, adminToken, body, "If-Match", `"1"`).want(t, http.StatusOK)
				if got := res.Header.Get("ETag"); got != `"1"` {
					t.Errorf("no-op PUT: ETag %s, want \"1\"", got)
				}
			}
			if got := h.get(t, tc.kind, "app").Header.Get("ETag"); got != `"1"` {
				t.Errorf("after no-op PUTs: ETag %s, want \"1\"", got)
			}

			changed := edit(t, tc.create, tc.change)
			res := h.do(t, http.MethodPut, path, adminToken, changed, "If-Match", `"1"`).want(t, http.StatusOK)
			if got := res.Header.Get("ETag"); got != `"2"` {
				t.Errorf("PUT: ETag %s, want \"2\"", got)
			}
			v2 := h.state(t, tc.kind, "app")
			if v2.etag != `"2"` {
				t.Fatalf("after PUT: %+v", v2)
			}
			if !json.Valid([]byte(v2.body)) || string(res.Body) != v2.body {
				t.Errorf("PUT answered %s but GET reads %s", res.Body, v2.body)
			}

			// Stale writers lose, visibly: reverting to the created body
			// from version 1 would silently undo version 2.
			p := h.do(t, http.MethodPut, path, adminToken, tc.create, "If-Match", `"1"`).problem(t, http.StatusPreconditionFailed)
			if p.Detail == "" {
				t.Error("412 without a detail")
			}
			h.do(t, http.MethodDelete, path, adminToken, nil, "If-Match", `"1"`).problem(t, http.StatusPreconditionFailed)
			h.wantUnchanged(t, tc.kind, "app", v2)

			// RFC 9110 §13.1.1: * matches the existing object, and so does a
			// list naming its strong ETag; any other well-formed list is a
			// 412 (weak tags never match: If-Match compares strongly); a
			// malformed header is a 400. (The matching PUTs are no-ops.)
			for _, c := range []struct {
				ifMatch string
				status  int
			}{
				{`*`, http.StatusOK},
				{`"2"`, http.StatusOK},
				{`"1", "2"`, http.StatusOK},
				{` "1" ,, "2" `, http.StatusOK},
				{`"abc"`, http.StatusPreconditionFailed},
				{`"two"`, http.StatusPreconditionFailed},
				{`""`, http.StatusPreconditionFailed},
				{`W/"2"`, http.StatusPreconditionFailed},
				{`W/"2", "3"`, http.StatusPreconditionFailed},
				{`"1", "3"`, http.StatusPreconditionFailed},
				{`2`, http.StatusBadRequest},
				{`"2`, http.StatusBadRequest},
				{`W/2`, http.StatusBadRequest},
				{`"1" "2"`, http.StatusBadRequest},
				{`*, "2"`, http.StatusBadRequest},
				{`"a b"`, http.StatusBadRequest},
				{``, http.StatusBadRequest},
			} {
				r := h.do(t, http.MethodPut, path, adminToken, changed, "If-Match", c.ifMatch)
				if r.Status != c.status {
					t.Errorf("PUT with If-Match %s: status %d, want %d: %s", c.ifMatch, r.Status, c.status, r.Body)
				}
				if c.status != http.StatusOK {
					h.do(t, http.MethodDelete, path, adminToken, nil, "If-Match", c.ifMatch).problem(t, c.status)
				}
			}
			h.wantUnchanged(t, tc.kind, "app", v2)

			// A missing object is never created by PUT.
			missing := objPath(tc.kind, "nope")
			body := edit(t, tc.create, func(o obj) { o["name"] = "nope" })
			h.do(t, http.MethodPut, missing, adminToken, body).problem(t, http.StatusNotFound)
			h.do(t, http.MethodGet, missing, readToken, nil).problem(t, http.StatusNotFound)
			h.do(t, http.MethodDelete, missing, adminToken, nil).problem(t, http.StatusNotFound)

			h.do(t, http.MethodDelete, path, adminToken, nil, "If-Match", `"2"`).want(t, http.StatusNoContent)
			h.do(t, http.MethodGet, path, readToken, nil).problem(t, http.StatusNotFound)
		})
	}
}

// TestPatchBurstIfMatch: the operators' PATCH honours If-Match too.
func TestPatchBurstIfMatch(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create(t, api.KindBurstToggle, toggleFixture("dr"))
	before := h.state(t, api.KindBurstToggle, "dr")

	h.do(t, http.MethodPatch, "/v1/burst-toggles/dr", operateToken, `{"engaged":true}`, "If-Match", `"7"`).problem(t, http.StatusPreconditionFailed)
	h.wantUnchanged(t, api.KindBurstToggle, "dr", before)

	res := h.do(t, http.MethodPatch, "/v1/burst-toggles/dr", operateToken, `{"engaged":true}`, "If-Match", `"1"`).want(t, http.StatusOK)
	if got := res.Header.Get("ETag"); got != `"2"` {
		t.Errorf("PATCH: ETag %s, want \"2\"", got)
	}
	// Engaging an engaged toggle changes nothing.
	res = h.do(t, http.MethodPatch, "/v1/burst-toggles/dr", operateToken, `{"engaged":true}`).want(t, http.StatusOK)
	if got := res.Header.Get("ETag"); got != `"2"` {
		t.Errorf("no-op PATCH: ETag %s, want \"2\"", got)
	}
}

// TestIfMatchConcurrentWriters: writers racing from the same version never
// silently overwrite each other: exactly one wins, the others get 412.
func TestIfMatchConcurrentWriters(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create(t, api.KindHealthCheck, checkFixture("web", "127.0.0.1:443"))
	const writers = 8
	codes := make(chan int, writers)
	var wg sync.WaitGroup
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			body := edit(t, checkFixture("web", "127.0.0.1:443"), func(o obj) { o["path"] = fmt.Sprintf("/w%d", i) })
			codes <- h.do(t, http.MethodPut, "/v1/health-checks/web", adminToken, body, "If-Match", `"1"`).Status
		}(i)
	}
	wg.Wait()
	close(codes)
	won := 0
	for c := range codes {
		switch c {
		case http.StatusOK:
			won++
		case http.StatusPreconditionFailed:
		default:
			t.Errorf("status %d, want 200 or 412", c)
		}
	}
	if won != 1 {
		t.Errorf("%d writers won, want exactly 1", won)
	}
	if got := h.get(t, api.KindHealthCheck, "web").Header.Get("ETag"); got != `"2"` {
		t.Errorf("ETag %s, want \"2\"", got)
	}
}

// TestParseIfMatch: the If-Match grammar of RFC 9110 §13.1.1, field by
// field, including several header lines (one list).
func TestParseIfMatch(t *testing.T) {
	tests := []struct {
		name    string
		fields  []string // nil: no header
		matches map[uint64]bool
		wantErr string
	}{
		{"absent", nil, map[uint64]bool{1: true, 7: true}, ""},
		{"any", []string{"*"}, map[uint64]bool{1: true, 7: true}, ""},
		{"one tag", []string{`"7"`}, map[uint64]bool{7: true, 1: false, 70: false}, ""},
		{"list", []string{`"1", "7"`}, map[uint64]bool{7: true, 1: true, 2: false}, ""},
		{"two header lines", []string{`"1"`, `"7"`}, map[uint64]bool{7: true, 1: true, 2: false}, ""},
		{"weak never matches", []string{`W/"7"`}, map[uint64]bool{7: false}, ""},
		{"opaque not a number", []string{`"seven"`, `"0x7"`}, map[uint64]bool{7: false}, ""},
		{"obs-text", []string{"\"\x80\xff\""}, map[uint64]bool{7: false}, ""},
		{"empty elements", []string{`,"7",,`}, map[uint64]bool{7: true}, ""},
		{"empty", []string{""}, nil, "it is empty"},
		{"only commas", []string{" , ,"}, nil, "it is empty"},
		{"unquoted", []string{"7"}, nil, "quoted"},
		{"unterminated", []string{`"7`}, nil, "ends with a quote"},
		{"weak unquoted", []string{"W/7"}, nil, "quoted"},
		{"no comma", []string{`"1" "7"`}, nil, "separated by commas"},
		{"star in a list", []string{`"1", *`}, nil, "* stands alone"},
		{"star twice", []string{"*", "*"}, nil, "* stands alone"},
		{"space inside", []string{`"a b"`}, nil, "no spaces"},
		{"control inside", []string{"\"a\x01\""}, nil, "no spaces"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, f := range tc.fields {
				h.Add("If-Match", f)
			}
			m, err := parseIfMatch(h)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "RFC 9110") {
					t.Fatalf("parseIfMatch(%q) = %+v, %v; want an error mentioning %q and the RFC", tc.fields, m, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseIfMatch(%q): %v", tc.fields, err)
			}
			for v, want := range tc.matches {
				if got := m.matches(v); got != want {
					t.Errorf("parseIfMatch(%q).matches(%d) = %v, want %v", tc.fields, v, got, want)
				}
			}
		})
	}
}

// FuzzIfMatch: no header crashes the parser; what parses matches exactly
// the versions its strong tags name (or any, for *), and prints back as
// tags that parse the same.
func FuzzIfMatch(f *testing.F) {
	for _, s := range []string{`*`, `"1"`, `W/"2", "3"`, `"1" "2"`, `,,`, `"`, `W/`, "\"\x80\"", `"a", *`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		m, err := parseIfMatch(http.Header{"If-Match": {v}})
		if err != nil {
			return
		}
		if m.any {
			if !m.matches(0) || !m.matches(12345) {
				t.Fatalf("* does not match every version")
			}
			return
		}
		var printed []string
		for _, tag := range m.tags {
			printed = append(printed, tag.String())
			if n, err := strconv.ParseUint(tag.opaque, 10, 64); err == nil && !tag.weak && strconv.FormatUint(n, 10) == tag.opaque && !m.matches(n) {
				t.Fatalf("%q does not match version %d it names", v, n)
			}
		}
		again, err := parseIfMatch(http.Header{"If-Match": {strings.Join(printed, ", ")}})
		if err != nil || len(again.tags) != len(m.tags) {
			t.Fatalf("%q parsed as %v, which reparses as %v, %v", v, printed, again.tags, err)
		}
	})
}
