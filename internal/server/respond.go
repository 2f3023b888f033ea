package server

import (
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

// decodeStrict decodes a body that has no defaulted fields (a PATCH, an
// override) with api.Decode: exact names, no duplicate keys, every problem
// on its path.
func decodeStrict(body []byte, v any) api.Problems {
	_, p := api.Decode(body, v)
	return p
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
