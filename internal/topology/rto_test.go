package topology

import (
	"math"
	"testing"
)

func TestWorstCaseFailoverSeconds(t *testing.T) {
	tests := []struct {
		name       string
		checks     []CheckTiming
		delay, ttl int
		want       float64
	}{
		{"defaults", []CheckTiming{{10, 2, 3}}, 0, 30, 62},
		{"no checks: detection 0", nil, 5, 30, 35},
		{"slowest check counts", []CheckTiming{{1, 0.5, 3}, {10, 2, 3}, {5, 4, 2}}, 10, 60, 32 + 10 + 60},
		{"fractions", []CheckTiming{{0.5, 0.25, 4}}, 0, 1, 3.25},
		{"P1 budget: interval 1, fall 3", []CheckTiming{{1, 0.5, 3}}, 0, 0, 3.5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := WorstCaseFailoverSeconds(tc.checks, tc.delay, tc.ttl); math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("WorstCaseFailoverSeconds = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCheckRTO(t *testing.T) {
	tests := []struct {
		name            string
		checks          []CheckTiming
		delay, ttl, rto int
		want            string // "" for no problem
	}{
		{"over budget", []CheckTiming{{10, 2, 3}}, 0, 30, 60,
			"worst-case failover is 3 × 10s + 2s detection + 0s failover delay + 30s TTL = 62s, over rto_seconds = 60: lower fall, interval_seconds or ttl_seconds, or raise rto_seconds"},
		{"exactly on budget", []CheckTiming{{10, 2, 3}}, 0, 30, 62, ""},
		{"no rto", []CheckTiming{{10, 2, 3}}, 0, 30, 0, ""},
		{"float noise does not fail an exact fit", []CheckTiming{{0.1, 0.2, 3}}, 0, 0, 0, ""},
		{"float noise, tight budget", []CheckTiming{{0.1, 0.7, 3}}, 0, 0, 1, ""},
		{"with failover delay and fractions", []CheckTiming{{1, 0.5, 3}, {2.5, 0.25, 2}}, 20, 30, 50,
			"worst-case failover is 2 × 2.5s + 0.25s detection + 20s failover delay + 30s TTL = 55.25s, over rto_seconds = 50: lower fall, interval_seconds, failover_delay_seconds or ttl_seconds, or raise rto_seconds"},
		{"no checks", nil, 40, 30, 60,
			"worst-case failover is 0s detection (no health checks) + 40s failover delay + 30s TTL = 70s, over rto_seconds = 60: lower fall, interval_seconds, failover_delay_seconds or ttl_seconds, or raise rto_seconds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := CheckRTO(tc.checks, tc.delay, tc.ttl, tc.rto)
			if tc.want == "" {
				if len(p) != 0 {
					t.Fatalf("CheckRTO = %v, want none", p)
				}
				return
			}
			if len(p) != 1 || p[0].Field != "rto_seconds" || p[0].Detail != tc.want || len(p.Errors()) != 1 {
				t.Fatalf("CheckRTO = %v\nwant error on rto_seconds: %s", p, tc.want)
			}
		})
	}
}

func FuzzCheckRTO(f *testing.F) {
	f.Add(10.0, 2.0, 3, 0, 30, 60)
	f.Add(0.1, 0.05, 1, 0, 0, 1)
	f.Add(math.NaN(), math.Inf(1), -3, -1, -30, 5)
	f.Fuzz(func(t *testing.T, interval, timeout float64, fall, delay, ttl, rto int) {
		checks := []CheckTiming{{interval, timeout, fall}, {1, 0.5, 3}}
		worst := WorstCaseFailoverSeconds(checks, delay, ttl)
		p := CheckRTO(checks, delay, ttl, rto)
		for _, e := range p {
			if e.Field != "rto_seconds" || e.Severity != "error" {
				t.Fatalf("unexpected problem %v", e)
			}
		}
		if rto <= 0 && len(p) != 0 {
			t.Fatalf("rto %d unset, but %v", rto, p)
		}
		if rto > 0 && !math.IsNaN(worst) && (roundMillis(worst) > float64(rto)) != (len(p) == 1) {
			t.Fatalf("worst %v, rto %d: problems %v", worst, rto, p)
		}
		if w := WorstCaseFailoverSeconds(checks[1:], delay, ttl); !math.IsNaN(worst) && worst < w {
			t.Fatalf("adding a check lowered the worst case: %v < %v", worst, w)
		}
	})
}
