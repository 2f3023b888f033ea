package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

func TestProblemWithFieldErrors(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	_, err := Create(context.Background(), c, api.KindHealthCheck, api.HealthCheck{Name: "Web Primary"})
	var ce *Error
	if !errors.As(err, &ce) || ce.Status != 400 || ce.Problem == nil {
		t.Fatalf("err = %#v, want a 400 *Error with a problem", err)
	}
	if len(ce.Problem.Errors) != 2 {
		t.Errorf("field errors = %+v, want name and address", ce.Problem.Errors)
	}
	for _, s := range []string{"failoverd POST /v1/health-checks: Bad Request (HTTP 400)", `name: "Web Primary" is not a valid name`, "address: is required"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
}

func TestStatusHelpers(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	ctx := context.Background()
	if _, err := Create(ctx, c, api.KindHealthCheck, webCheck); err != nil {
		t.Fatal(err)
	}
	f.referrers["web"] = []string{"traffic-policies/shop", "replica-sets/orders"}

	_, errMissing := Get[api.HealthCheck](ctx, c, api.KindHealthCheck, "gone")
	_, errExists := Create(ctx, c, api.KindHealthCheck, webCheck)
	errReferenced := c.Delete(ctx, api.KindHealthCheck, "web", 0)
	_, errStale := Update(ctx, c, api.KindHealthCheck, "web", webCheck, 7)

	tests := []struct {
		name   string
		err    error
		is     func(error) bool
		errHas string
	}{
		{"not found", errMissing, IsNotFound, `health-checks "gone" does not exist`},
		{"exists", errExists, IsConflict, "already exists"},
		{"referenced", errReferenced, IsConflict, `"web" is still referenced; referenced by traffic-policies/shop, replica-sets/orders`},
		{"stale", errStale, IsPreconditionFailed, "If-Match \"7\" does not match the current version 1"},
	}
	helpers := []func(error) bool{IsNotFound, IsConflict, IsPreconditionFailed}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wrapped := fmt.Errorf("reading: %w", tc.err)
			if !tc.is(tc.err) || !tc.is(wrapped) {
				t.Errorf("helper does not recognise %v", tc.err)
			}
			n := 0
			for _, h := range helpers {
				if h(tc.err) {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d helpers match %v, want exactly one", n, tc.err)
			}
			if !strings.Contains(tc.err.Error(), tc.errHas) {
				t.Errorf("error %q does not contain %q", tc.err, tc.errHas)
			}
		})
	}
	if IsNotFound(nil) || IsNotFound(errors.New("404")) {
		t.Error("IsNotFound matches errors that are not *Error 404")
	}
}

func TestDecodeError(t *testing.T) {
	problem := http.Header{"Content-Type": {"application/problem+json; charset=utf-8"}}
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   string
		not    string
	}{
		{"problem", 400, problem, `{"title":"Invalid","status":400,"errors":[{"field":"targets[\"dc1\"].weight","detail":"must be 0–1000"}]}`,
			`failoverd PUT /v1/x: Invalid (HTTP 400); targets["dc1"].weight: must be 0–1000`, ""},
		{"problem without title", 404, problem, `{"detail":"no such policy"}`, "Not Found (HTTP 404): no such policy", ""},
		{"html from a proxy", 502, http.Header{"Content-Type": {"text/html"}}, "<html>\n<body>Bad   Gateway</body></html>", "HTTP 502 Bad Gateway: <html> <body>Bad Gateway</body></html>: failoverd is overloaded", ""},
		{"truncated json", 500, problem, `{"title":`, `HTTP 500 Internal Server Error: {"title":`, ""},
		{"unauthorized", 401, problem, `{"title":"Unauthorized"}`, "set FAILOVER_TOKEN", ""},
		{"server detail wins over the client's hint", 412, problem, `{"title":"Precondition Failed","detail":"at version 3, not 2: read it again"}`, "at version 3, not 2: read it again", "someone else"},
		{"no detail: client hint", 412, problem, `{"title":"Precondition Failed"}`, "changed by someone else", ""},
		{"referrers named in detail are not repeated", 409, problem, `{"title":"Conflict","detail":"used by policies/web","referrers":["policies/web"]}`, "used by policies/web", "referenced by"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := decodeError("PUT", "/v1/x", tc.status, tc.header, []byte(tc.body))
			if e.Status != tc.status {
				t.Errorf("Status = %d, want %d", e.Status, tc.status)
			}
			if !strings.Contains(e.Error(), tc.want) {
				t.Errorf("Error() = %q, want it to contain %q", e.Error(), tc.want)
			}
			if tc.not != "" && strings.Contains(e.Error(), tc.not) {
				t.Errorf("Error() = %q, want it without %q", e.Error(), tc.not)
			}
		})
	}
}

// FuzzDecodeError: any answer yields an *Error with the HTTP status, a
// one-line message, and every field problem of a valid problem document.
func FuzzDecodeError(f *testing.F) {
	f.Add(400, api.ProblemContentType, []byte(`{"title":"Invalid","status":400,"errors":[{"field":"name","detail":"bad"}]}`))
	f.Add(409, api.ProblemContentType, []byte(`{"title":"Conflict","referrers":["a","b"]}`))
	f.Add(502, "text/html", []byte("<html>\xff\xfe</html>"))
	f.Add(0, "", []byte(nil))
	f.Add(500, "application/json", []byte(`{"errors":[{"field":"","detail":""}]}`))
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		if status <= 0 || status > 999 {
			status = 500
		}
		e := decodeError("GET", "/v1/x", status, http.Header{"Content-Type": {contentType}}, body)
		if e.Status != status {
			t.Fatalf("Status = %d, want %d", e.Status, status)
		}
		msg := e.Error()
		if msg == "" || !utf8.ValidString(e.Body) || strings.ContainsAny(e.Body, "\r\n") {
			t.Fatalf("bad message %q / body %q", msg, e.Body)
		}
		if e.Problem != nil {
			if e.Problem.Status != status {
				t.Fatalf("Problem.Status = %d, want %d", e.Problem.Status, status)
			}
			var p api.Problem
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatalf("decoded a problem from invalid JSON: %v", err)
			}
			for _, fe := range p.Errors {
				if !strings.Contains(msg, fe.String()) {
					t.Fatalf("message %q misses field error %q", msg, fe.String())
				}
			}
		}
	})
}
