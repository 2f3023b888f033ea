package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

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

func writeProblem(w http.ResponseWriter, p *problem) {
	if p.Type == "" {
		p.Type = "about:blank"
	}
	b, _ := json.Marshal(p)
	writeRaw(w, p.Status, api.ProblemContentType, b)
}

func invalid(errs api.Problems) *problem {
	return &problem{Status: http.StatusBadRequest, Title: "Invalid Request",
		Detail: fmt.Sprintf("%d problem(s) with the request; each names its field and what to change", len(errs)),
		Errors: errs}
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

// decodeStrict decodes exactly one JSON value into v, rejecting unknown
// fields and trailing data, and turns decoder errors into field problems.
func decodeStrict(body []byte, v any) api.Problems {
	var p api.Problems
	if len(bytes.TrimSpace(body)) == 0 {
		p.Add("", "the request body is empty: send a JSON object")
		return p
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		p = append(p, jsonProblem(err))
		return p
	}
	if _, err := dec.Token(); err != io.EOF {
		p.Add("", "unexpected data after the JSON object: send exactly one object")
	}
	return p
}

func jsonProblem(err error) api.FieldError {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return api.FieldError{Field: jsonFieldPath(te.Field), Severity: api.SeverityError,
			Detail: fmt.Sprintf("expected %s, got JSON %s", te.Type, te.Value)}
	case errors.As(err, &se):
		return api.FieldError{Severity: api.SeverityError, Detail: fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return api.FieldError{Field: f, Severity: api.SeverityError,
			Detail: "unknown field: remove it (check the spelling against the API reference; names are snake_case)"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return api.FieldError{Severity: api.SeverityError, Detail: "truncated JSON: the body ends mid-value"}
	}
	return api.FieldError{Severity: api.SeverityError, Detail: "cannot decode the body: " + err.Error()}
}

// mapAttrs are the attributes whose JSON object keys are user-chosen names.
var mapAttrs = map[string]bool{"targets": true, "members": true, "headers": true, "tags": true}

// jsonFieldPath turns encoding/json's dotted "targets.dc1.priority" into
// the provider's notation, `targets["dc1"].priority`, so the error lands on
// the right attribute.
func jsonFieldPath(f string) string {
	if f == "" {
		return ""
	}
	parts := strings.Split(f, ".")
	var b strings.Builder
	for i := 0; i < len(parts); i++ {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(parts[i])
		if mapAttrs[parts[i]] && i+1 < len(parts) {
			b.WriteString("[" + strconv.Quote(parts[i+1]) + "]")
			i++
		}
	}
	return b.String()
}

// parseETag reads an If-Match header: a quoted decimal version, or *.
// ok is false when the header is absent or "*".
func parseETag(h string) (v uint64, ok bool, err error) {
	h = strings.TrimSpace(h)
	if h == "" || h == "*" {
		return 0, false, nil
	}
	h = strings.TrimPrefix(h, "W/")
	unq, uerr := strconv.Unquote(h)
	if uerr != nil {
		unq = h
	}
	v, err = strconv.ParseUint(unq, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("If-Match %q is not a version ETag: send the ETag from the last GET, e.g. \"3\"", h)
	}
	return v, true, nil
}

func etag(v uint64) string { return `"` + strconv.FormatUint(v, 10) + `"` }
