package drill

import (
	"strings"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

var t0 = time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)

func ptime(d time.Duration) *time.Time { t := t0.Add(d); return &t }

func pfloat(v float64) *float64 { return &v }

// TestPublishedAt: when a destination's publish status shows a decision.
func TestPublishedAt(t *testing.T) {
	dec := api.Decision{Generation: 7, Since: t0.Add(10 * time.Millisecond)}
	for _, tc := range []struct {
		name string
		ps   api.PublishStatus
		want *time.Time
		why  string
	}{
		{"published this generation", api.PublishStatus{Generation: 7, PublishedGeneration: 7, InSync: true, LastSuccess: ptime(40 * time.Millisecond)}, ptime(40 * time.Millisecond), ""},
		{"a newer one coalesced over it", api.PublishStatus{Generation: 9, PublishedGeneration: 9, InSync: true, LastSuccess: ptime(90 * time.Millisecond)}, ptime(90 * time.Millisecond), ""},
		{"record set unchanged by the decision", api.PublishStatus{Generation: 7, PublishedGeneration: 5, InSync: true, LastSuccess: ptime(-time.Hour)}, ptime(10 * time.Millisecond), ""},
		{"older generation in sync is not this one", api.PublishStatus{Generation: 6, PublishedGeneration: 6, InSync: true, LastSuccess: ptime(0)}, nil, "generation 7 not confirmed yet (published 6)"},
		{"newer entry in sync but never published at 7", api.PublishStatus{Generation: 8, PublishedGeneration: 5, InSync: true, LastSuccess: ptime(0)}, nil, "generation 7 not confirmed yet (published 5)"},
		{"failing", api.PublishStatus{Generation: 7, PublishedGeneration: 6, Attempts: 3, LastError: "refused TSIG key k", LastSuccess: ptime(0)}, nil, "3 failed attempt(s)"},
		{"not attempted yet", api.PublishStatus{Generation: 7}, nil, "generation 7 not confirmed yet (published 0)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, why := publishedAt(tc.ps, dec)
			if (got == nil) != (tc.want == nil) || (got != nil && !got.Equal(*tc.want)) || why != tc.why {
				t.Errorf("publishedAt = %v %q, want %v %q", got, why, tc.want, tc.why)
			}
		})
	}
}

// TestSwitchTime: the switch is the slowest of failoverd's DNS and every
// publisher, and unmeasured when one never showed the target.
func TestSwitchTime(t *testing.T) {
	dns := ptime(20 * time.Millisecond)
	for _, tc := range []struct {
		name string
		dns  *time.Time
		pubs []published
		want *float64
	}{
		{"no publishers: DNS", dns, nil, pfloat(0.02)},
		{"publisher slower than DNS", dns, []published{{at: ptime(50 * time.Millisecond)}, {at: ptime(30 * time.Millisecond)}}, pfloat(0.05)},
		{"publisher faster than DNS", dns, []published{{at: ptime(10 * time.Millisecond)}}, pfloat(0.02)},
		{"a publisher never showed it", dns, []published{{at: ptime(50 * time.Millisecond)}, {why: "failing"}}, nil},
		{"DNS never showed it", nil, []published{{at: ptime(50 * time.Millisecond)}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := switchTime(t0, tc.dns, tc.pubs)
			if (got == nil) != (tc.want == nil) || (got != nil && (*got-*tc.want > 1e-9 || *tc.want-*got > 1e-9)) {
				t.Errorf("switchTime = %v, want %v", secs(got), secs(tc.want))
			}
		})
	}
}

// TestJudgePublishers: a publisher follows when it published both
// switches within the budget; otherwise the report names it, and the
// drill fails.
func TestJudgePublishers(t *testing.T) {
	back := t0.Add(time.Minute)
	for _, tc := range []struct {
		name             string
		rto              int
		over, fb         published
		followed, passes bool
		problem          string
	}{
		{"followed", 30, published{at: ptime(100 * time.Millisecond)}, published{at: ptime(time.Minute + 80*time.Millisecond)}, true, true, ""},
		{"lagged beyond the RTO", 30, published{at: ptime(40 * time.Second)}, published{at: ptime(time.Minute + 80*time.Millisecond)}, false, false,
			"failover published 40.000s after the request, beyond the budget of 30.0s"},
		{"failing", 30, published{why: "not published within 30s of the request: 4 failed attempt(s)", lastErr: "refused TSIG key k"},
			published{why: "not published within 30s of the request: 9 failed attempt(s)", lastErr: "refused TSIG key k"}, false, false,
			"failover not published within 30s of the request: 4 failed attempt(s); failback not published within 30s of the request: 9 failed attempt(s)"},
		{"failback missing", 30, published{at: ptime(100 * time.Millisecond)}, published{why: "nothing to publish: the decision did not move"}, false, false,
			"failback nothing to publish: the decision did not move"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := &api.DrillReport{RTOSeconds: tc.rto, WorstCaseSeconds: 7.5}
			dnsOver, dnsBack := t0.Add(5*time.Millisecond), back.Add(5*time.Millisecond)
			tc.over.destination, tc.over.record = api.DestinationRFC2136, "web.example.test"
			tc.fb.destination, tc.fb.record = api.DestinationRFC2136, "web.example.test"
			rep.SwitchSeconds = switchTime(t0, &dnsOver, []published{tc.over})
			recordPublished(rep, []published{tc.over}, t0, false)
			rep.FailbackSwitchSecs = switchTime(back, &dnsBack, []published{tc.fb})
			recordPublished(rep, []published{tc.fb}, back, true)
			judgePublishers(rep)
			if len(rep.Publishers) != 1 {
				t.Fatalf("publishers %+v", rep.Publishers)
			}
			p := rep.Publishers[0]
			if p.Followed != tc.followed || p.Problem != tc.problem || pass(rep) != tc.passes {
				t.Errorf("followed %t problem %q pass %t; want %t %q %t", p.Followed, p.Problem, pass(rep), tc.followed, tc.problem, tc.passes)
			}
			if p.LastError != tc.fb.lastErr {
				t.Errorf("last error %q, want %q", p.LastError, tc.fb.lastErr)
			}
			noted := len(rep.Notes) == 1 && strings.HasPrefix(rep.Notes[0], "publisher rfc2136 web.example.test did not follow: ")
			if noted == tc.followed {
				t.Errorf("notes %q (followed %t)", rep.Notes, tc.followed)
			}
			if tc.over.at != nil && (p.FailoverSeconds == nil || *p.FailoverSeconds != tc.over.at.Sub(t0).Seconds()) {
				t.Errorf("failover seconds %v", secs(p.FailoverSeconds))
			}
		})
	}
}
