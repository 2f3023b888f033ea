package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

type problem = api.Problem

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeProblem(w, &problem{Status: http.StatusInternalServerError, Title: "Internal Error", Detail: err.Error()})
		return
	}
	writeRaw(w, status, "application/json", b)
}

func writeRaw(w http.ResponseWriter, status int, contentType string, b []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(b)
	w.Write([]byte("\n"))
}

func writeProblem(w http.ResponseWriter, p *problem) { writeProblemFor(w, p, 0) }

// writeProblemFor answers p to a request of requestBytes bytes, listing
// only as many field problems as problemBudget allows.
func writeProblemFor(w http.ResponseWriter, p *problem, requestBytes int) {
	if p.Type == "" {
		p.Type = "about:blank"
	}
	p.Errors = boundProblems(p.Errors, problemBudget(requestBytes))
	b, _ := json.Marshal(p)
	writeRaw(w, p.Status, api.ProblemContentType, b)
}

// The bounds of a problem's list of field problems. Every problem is still
// found and counted; a response lists the first ones and one final entry
// "and N more", so a body of many tiny mistakes cannot make failoverd
// answer with many times its size (it was 35×).
const (
	// maxFieldProblems bounds the entries of one response.
	maxFieldProblems = 50
	// minProblemBytes is the JSON the entries may take however small the
	// request: enough for every problem of a small object.
	minProblemBytes = 2 << 10
	// maxProblemText bounds one entry's field path and detail, which may
	// quote the request.
	maxProblemText = 512
)

// problemBudget is how many bytes of field problems answer a request of
// requestBytes: twice the request, at least minProblemBytes.
func problemBudget(requestBytes int) int { return max(minProblemBytes, 2*requestBytes) }

// boundProblems keeps at most maxFieldProblems entries within budget bytes
// of JSON (always the first entry) and replaces the rest with one entry
// saying how many more there are.
func boundProblems(errs api.Problems, budget int) api.Problems {
	used := 0
	for i := range errs {
		e := errs[i]
		e.Field, e.Detail = clip(e.Field), clip(e.Detail)
		b, _ := json.Marshal(e)
		if i > 0 && (i == maxFieldProblems || used+len(b) > budget) {
			kept := append(api.Problems(nil), errs[:i]...)
			return append(kept, api.FieldError{Severity: api.SeverityError,
				Detail: fmt.Sprintf("and %d more problem(s) not listed here: fix these and send the request again to see the rest", len(errs)-i)})
		}
		errs[i] = e
		used += len(b) + 1
	}
	return errs
}

// clip shortens s to maxProblemText bytes, on a UTF-8 boundary.
func clip(s string) string {
	if len(s) <= maxProblemText {
		return s
	}
	cut := maxProblemText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func invalid(errs api.Problems) *problem {
	return &problem{Status: http.StatusBadRequest, Title: "Invalid Request",
		Detail: fmt.Sprintf("%d problem(s) with the request; each names its field and what to change", len(errs)),
		Errors: errs}
}

// checkContentType refuses a request body that is not labelled JSON:
// application/json or application/*+json, in UTF-8 (RFC 8259), with or
// without a charset parameter. A body without a Content-Type is refused
// too: the Go client, the provider and the CLI always label theirs, and
// a form or text/plain body is what a browser may send across origins
// without asking first. A request without a body needs no label.
func checkContentType(r *http.Request) *problem {
	if r.ContentLength == 0 {
		return nil
	}
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	ok := err == nil && (mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
	if cs, set := params["charset"]; ok && set && !strings.EqualFold(cs, "utf-8") {
		ok = false
	}
	if ok {
		return nil
	}
	got := "no Content-Type"
	if ct != "" {
		got = "Content-Type " + clip(strconv.Quote(ct))
	}
	return &problem{Status: http.StatusUnsupportedMediaType, Title: "Unsupported Media Type",
		Detail: "the body has " + got + ": send JSON (UTF-8) with \"Content-Type: application/json\""}
}

// errTooLarge is returned by readBody for bodies over the limit.
var errTooLarge = errors.New("body too large")

// readBody reads at most limit bytes of the request body.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errTooLarge
	}
	return b, nil
}

// decodeStrict decodes a body that has no defaulted fields (a PATCH, an
// override) with api.Decode: exact names, no duplicate keys, every problem
// on its path.
func decodeStrict(body []byte, v any) api.Problems {
	_, p := api.Decode(body, v)
	return p
}

// ifMatch is a request's If-Match precondition (RFC 9110 §13.1.1).
type ifMatch struct {
	present bool
	any     bool // "*": any current representation
	tags    []entityTag
}

// entityTag is one entity-tag of If-Match: [W/]"opaque".
type entityTag struct {
	weak   bool
	opaque string
}

func (t entityTag) String() string {
	if t.weak {
		return `W/"` + t.opaque + `"`
	}
	return `"` + t.opaque + `"`
}

// matches evaluates the precondition against an existing object at
// version: "*" matches it, and so does a listed strong tag equal to its
// ETag. If-Match uses the strong comparison (RFC 9110 §8.8.3.2), so a weak
// tag never matches.
func (m ifMatch) matches(version uint64) bool {
	if !m.present || m.any {
		return true
	}
	want := strconv.FormatUint(version, 10)
	for _, t := range m.tags {
		if !t.weak && t.opaque == want {
			return true
		}
	}
	return false
}

// parseIfMatch reads the If-Match fields of h:
//
//	If-Match    = "*" / #entity-tag
//	entity-tag  = [ "W/" ] DQUOTE *etagc DQUOTE
//	etagc       = %x21 / %x23-7E / obs-text
//
// Any well-formed tag is accepted (it just may not match); anything else is
// an error, answered 400.
func parseIfMatch(h http.Header) (ifMatch, error) {
	fields, present := h[http.CanonicalHeaderKey("If-Match")]
	if !present {
		return ifMatch{}, nil
	}
	m := ifMatch{present: true}
	v := strings.Join(fields, ",")
	bad := func(why string) (ifMatch, error) {
		return ifMatch{}, fmt.Errorf("If-Match %s is not a list of entity tags (%s): send the ETag of the last GET, e.g. \"3\", or * (RFC 9110 §13.1.1)", clip(strconv.Quote(v)), why)
	}
	if strings.TrimSpace(v) == "*" {
		m.any = true
		return m, nil
	}
	rest := v
	for {
		rest = strings.TrimLeft(rest, " \t")
		if rest == "" {
			break
		}
		if rest[0] == ',' { // empty list elements are allowed
			rest = rest[1:]
			continue
		}
		var t entityTag
		if strings.HasPrefix(rest, "W/") {
			t.weak, rest = true, rest[2:]
		}
		if rest == "" || rest[0] != '"' {
			if rest != "" && rest[0] == '*' {
				return bad("* stands alone")
			}
			return bad("an entity tag is quoted")
		}
		end := 1
		for end < len(rest) && rest[end] != '"' {
			if c := rest[end]; c < 0x21 || c == 0x7f {
				return bad("an entity tag holds no spaces or control characters")
			}
			end++
		}
		if end == len(rest) {
			return bad("an entity tag ends with a quote")
		}
		t.opaque, rest = rest[1:end], strings.TrimLeft(rest[end+1:], " \t")
		m.tags = append(m.tags, t)
		if rest != "" && rest[0] != ',' {
			return bad("entity tags are separated by commas")
		}
	}
	if len(m.tags) == 0 {
		return bad("it is empty")
	}
	return m, nil
}

func etag(v uint64) string { return `"` + strconv.FormatUint(v, 10) + `"` }
