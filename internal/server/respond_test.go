package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// TestBoundProblems: at most maxFieldProblems entries within the byte
// budget (always the first), each clipped, then one "and N more".
func TestBoundProblems(t *testing.T) {
	small := func(n int) api.Problems {
		var p api.Problems
		for i := 0; i < n; i++ {
			p.Add(fmt.Sprintf("targets[\"t%d\"].priority", i), "must be 1 or more")
		}
		return p
	}
	tests := []struct {
		name       string
		in         api.Problems
		budget     int
		wantListed int // entries before the "more" one; -1: as many as fit the budget
		wantMore   int // 0: no "more" entry
	}{
		{"none", nil, minProblemBytes, 0, 0},
		{"a few", small(10), minProblemBytes, 10, 0},
		{"over the count", small(60), 1 << 20, maxFieldProblems, 10},
		{"over the budget", small(60), 500, -1, -1},
		{"first always listed", small(3), 1, 1, 2},
		{"one huge", api.Problems{{Field: strings.Repeat("f", 5000), Detail: strings.Repeat("d", 5000), Severity: api.SeverityError}}, 100, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := boundProblems(append(api.Problems(nil), tc.in...), tc.budget)
			listed, more := len(got), 0
			if len(got) > 0 {
				if last := got[len(got)-1]; strings.HasPrefix(last.Detail, "and ") {
					listed--
					fmt.Sscanf(last.Detail, "and %d more", &more)
				}
			}
			if tc.wantListed == -1 {
				size := func(n int) (b int) {
					for _, e := range tc.in[:n] {
						j, _ := json.Marshal(e)
						b += len(j) + 1
					}
					return b
				}
				if listed < 1 || size(listed) > tc.budget || size(listed+1) <= tc.budget {
					t.Errorf("listed %d entries (%d bytes), want as many as fit %d bytes", listed, size(listed), tc.budget)
				}
				tc.wantListed, tc.wantMore = listed, len(tc.in)-listed
			}
			if listed != tc.wantListed || more != tc.wantMore {
				t.Errorf("listed %d and %d more, want %d and %d more", listed, more, tc.wantListed, tc.wantMore)
			}
			if listed+more != len(tc.in) {
				t.Errorf("%d listed + %d more ≠ %d problems", listed, more, len(tc.in))
			}
			for _, e := range got {
				if len(e.Field) > maxProblemText+len("…") || len(e.Detail) > maxProblemText+len("…") {
					t.Errorf("entry not clipped: field %d bytes, detail %d bytes", len(e.Field), len(e.Detail))
				}
			}
		})
	}
}

// TestProblemResponseBounded is issue 9's amplification: a body of many
// tiny mistakes (300 empty policy targets, 3 kB) was answered with every
// one of its 601 problems — 35× the request. Now the answer lists what
// fits in twice the request and says how many more there are, and a
// small request still gets every problem.
func TestProblemResponseBounded(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var b strings.Builder
	b.WriteString(`{"name":"web","mode":"active-passive","when_all_down":"fail_open","targets":{`)
	for i := 0; i < 300; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"t%d":{}`, i)
	}
	b.WriteString(`}}`)
	body := b.String()
	r := h.do(t, http.MethodPost, "/v1/traffic-policies", adminToken, body)
	p := r.problem(t, http.StatusBadRequest)
	var total int
	fmt.Sscanf(p.Detail, "%d problem(s)", &total)
	if total < 600 {
		t.Fatalf("detail %q: want the count of every problem (600 or more)", p.Detail)
	}
	if limit := 2*len(body) + 1024; len(r.Body) > limit {
		t.Errorf("a %d-byte request was answered with %d bytes (%.1f×), want at most %d", len(body), len(r.Body), float64(len(r.Body))/float64(len(body)), limit)
	}
	t.Logf("a %d-byte request with %d problems: %d-byte answer (%.1f×), %d entries", len(body), total, len(r.Body), float64(len(r.Body))/float64(len(body)), len(p.Errors))
	last := p.Errors[len(p.Errors)-1]
	var more int
	if _, err := fmt.Sscanf(last.Detail, "and %d more", &more); err != nil || more != total-(len(p.Errors)-1) {
		t.Errorf("last entry %q: want \"and %d more …\"", last.Detail, total-(len(p.Errors)-1))
	}
	if len(p.Errors)-1 > maxFieldProblems {
		t.Errorf("%d entries listed, want at most %d", len(p.Errors)-1, maxFieldProblems)
	}

	// A small request with a few problems gets all of them.
	p = h.do(t, http.MethodPost, "/v1/traffic-policies", adminToken, `{"name":"web","mode":"active-passive","targets":{"a":{},"b":{}}}`).problem(t, http.StatusBadRequest)
	fmt.Sscanf(p.Detail, "%d problem(s)", &total)
	if len(p.Errors) != total || strings.HasPrefix(p.Errors[len(p.Errors)-1].Detail, "and ") {
		t.Errorf("a small request's %d problems were cut: %s", total, describe(p))
	}
}
