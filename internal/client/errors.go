package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// Error is every failure of a call to failoverd: an HTTP error answer
// (Status set, Problem decoded from application/problem+json when the body
// is one) or a transport failure (Status 0, Err set). Its message says what
// failed and what to do about it.
type Error struct {
	Method string
	Path   string
	// Endpoint is the node of the last attempt.
	Endpoint string
	// Tried is what every node asked during the call said, in the order
	// they were first asked (one entry with a single endpoint).
	Tried []Tried
	// Status is the HTTP status, 0 when no answer was received.
	Status int
	// Problem is failoverd's problem document; nil when the body was not
	// one (e.g. an HTML page from a proxy, then Body holds its start).
	Problem *api.Problem
	Body    string
	// Attempts is how many attempts were made, retries included.
	Attempts int
	// Err is the transport error (or ctx's error) when Status is 0.
	Err error

	timeout  time.Duration
	canceled bool // the caller's ctx ended the call
}

// Tried is what one endpoint said during a call.
type Tried struct {
	Endpoint string
	// Attempts is how many attempts it got.
	Attempts int
	// Said is its last answer ("HTTP 503 Service Unavailable: <detail>")
	// or the transport error ("dial tcp …: connection refused").
	Said string
}

func (t Tried) String() string {
	s := t.Endpoint + ": " + t.Said
	if t.Attempts > 1 {
		s += fmt.Sprintf(" (%d attempts)", t.Attempts)
	}
	return s
}

// triedList renders what each node said, when more than one was asked:
// with a single endpoint the message already says it all.
func (e *Error) triedList() string {
	if len(e.Tried) < 2 {
		return ""
	}
	parts := make([]string, len(e.Tried))
	for i, t := range e.Tried {
		parts[i] = t.String()
	}
	return strings.Join(parts, "; ")
}

func (e *Error) Unwrap() error { return e.Err }

func (e *Error) Error() string {
	if e.Status == 0 {
		return e.transportMessage()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "failoverd %s %s: ", e.Method, e.Path)
	if e.Problem != nil {
		b.WriteString(e.Problem.Error())
		for _, r := range e.Problem.Referrers {
			if !strings.Contains(e.Problem.Detail, r) {
				b.WriteString("; referenced by " + strings.Join(e.Problem.Referrers, ", "))
				break
			}
		}
	} else {
		fmt.Fprintf(&b, "HTTP %d %s", e.Status, http.StatusText(e.Status))
		if e.Body != "" {
			b.WriteString(": " + e.Body)
		}
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	if list := e.triedList(); list != "" {
		fmt.Fprintf(&b, "; endpoints tried: %s", list)
	}
	// failoverd's details already say what to do; the client's own hint is
	// for answers without one (a proxy's page, an older server).
	if hint := e.hint(); hint != "" && (e.Problem == nil || e.Problem.Detail == "") {
		b.WriteString(": " + hint)
	}
	return b.String()
}

// hint says what to do about a status when the answer does not.
func (e *Error) hint() string {
	switch e.Status {
	case http.StatusUnauthorized:
		return `the token is missing or not accepted: set FAILOVER_TOKEN or the provider's token ("failoverd serve --dev" prints one at start-up)`
	case http.StatusForbidden:
		return `the token's scope does not allow this: operator actions need scope "operate", changing declared objects needs "admin"`
	case http.StatusConflict:
		if e.Problem != nil && len(e.Problem.Referrers) > 0 {
			return "remove those references (or delete the referrers) first"
		}
	case http.StatusPreconditionFailed:
		return "the object was changed by someone else since it was read: read it again (terraform refresh) and reapply"
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		if len(e.Tried) > 1 {
			return "no failoverd node could serve the request: check that a majority of the cluster is up and in contact (failoverd status), then try again"
		}
		return "failoverd is overloaded or restarting: try again in a moment"
	}
	return ""
}

func (e *Error) transportMessage() string {
	cause := "unknown error"
	if e.Err != nil {
		cause = e.Err.Error()
	}
	after := ""
	if e.Attempts > 1 {
		after = fmt.Sprintf(" after %d attempts", e.Attempts)
	}
	list := e.triedList()
	switch {
	case e.canceled && list != "":
		return fmt.Sprintf("failoverd %s %s: %s; endpoints tried: %s", e.Method, e.Path, cause, list)
	case e.canceled:
		return fmt.Sprintf("failoverd %s %s: %s", e.Method, e.Path, cause)
	case list != "":
		// Each node's own cause is in the list; the advice fits them all.
		return fmt.Sprintf("cannot reach any of the %d failoverd endpoints tried%s (%s): check that the nodes are up (GET <endpoint>/readyz), or fix FAILOVER_ENDPOINT / the provider's endpoints", len(e.Tried), after, list)
	case isTLSError(e.Err):
		return fmt.Sprintf("TLS connection to failoverd at %s failed%s (%s): trust the CA that signed its certificate (the provider's ca_cert_pem), or use http:// if it serves plain HTTP", e.Endpoint, after, cause)
	case isTimeout(e.Err):
		return fmt.Sprintf("failoverd at %s did not answer within %s%s (%s): check that it is healthy (GET %s/readyz) or raise the request timeout", e.Endpoint, e.timeout, after, cause, e.Endpoint)
	}
	return fmt.Sprintf(`cannot reach failoverd at %s%s (%s): start it with "failoverd serve --dev" or set FAILOVER_ENDPOINT / the provider's endpoint`, e.Endpoint, after, cause)
}

// transportError wraps a failure without an HTTP answer.
func (c *Client) transportError(ctx context.Context, r request, rot *rotation, attempts int, err error) error {
	canceled := ctx.Err() != nil
	if canceled {
		// The caller gave up; say so rather than blame the network.
		err = ctx.Err()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// "Get "http://…/v1/status": dial tcp …" repeats what the message
		// already says; keep the cause.
		err = ue.Err
	}
	return &Error{Method: r.method, Path: r.path, Endpoint: c.names[rot.current()], Tried: rot.outcomes(),
		Attempts: attempts, Err: err, timeout: c.timeout, canceled: canceled}
}

// causeOf is a transport error without the request line url.Error adds.
func causeOf(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return oneLineSnippet(err.Error(), 200)
}

// summarizeAnswer says what an HTTP answer was, with the problem's detail
// when the body (peeked, possibly nil) holds one.
func summarizeAnswer(r request, resp *http.Response, body []byte) string {
	s := fmt.Sprintf("HTTP %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	if len(body) == 0 {
		return s
	}
	e := decodeError(r.method, r.path, resp.StatusCode, resp.Header, body)
	detail := e.Body
	if e.Problem != nil {
		detail = e.Problem.Detail
		if detail == "" {
			detail = e.Problem.Title
		}
	}
	if detail = oneLineSnippet(detail, 200); detail != "" {
		s += ": " + detail
	}
	return s
}

func isTLSError(err error) bool {
	var (
		verr *tls.CertificateVerificationError
		rerr tls.RecordHeaderError
		uerr x509.UnknownAuthorityError
		herr x509.HostnameError
		cerr x509.CertificateInvalidError
	)
	return errors.As(err, &verr) || errors.As(err, &rerr) || errors.As(err, &uerr) || errors.As(err, &herr) || errors.As(err, &cerr)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// decodeError builds the Error of a non-2xx answer. It never fails: a body
// that is not a problem document is kept (shortened) as Body.
func decodeError(method, path string, status int, h http.Header, body []byte) *Error {
	e := &Error{Method: method, Path: path, Status: status}
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if mt == api.ProblemContentType || mt == "application/json" {
		var p api.Problem
		if json.Unmarshal(body, &p) == nil && (p.Title != "" || p.Detail != "" || len(p.Errors) > 0) {
			if p.Title == "" {
				p.Title = http.StatusText(status)
			}
			// The status line is authoritative; a problem's own status
			// may be missing.
			p.Status = status
			e.Problem = &p
			return e
		}
	}
	e.Body = snippet(body, 300)
	return e
}

// snippet renders the start of a body as one printable line.
func snippet(b []byte, n int) string { return oneLineSnippet(string(b), n) }

func oneLineSnippet(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n]) + "…"
	}
	return s
}

func statusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// IsNotFound reports a 404: the object does not exist (Terraform removes it
// from state on read and treats it as done on delete).
func IsNotFound(err error) bool { return statusOf(err) == http.StatusNotFound }

// IsConflict reports a 409, e.g. deleting an object that others reference
// (see Error.Problem.Referrers) or creating a name that exists.
func IsConflict(err error) bool { return statusOf(err) == http.StatusConflict }

// IsPreconditionFailed reports a 412: If-Match did not match, someone else
// changed the object since it was read.
func IsPreconditionFailed(err error) bool { return statusOf(err) == http.StatusPreconditionFailed }
