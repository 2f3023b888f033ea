package health

import (
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

func TestObserve(t *testing.T) {
	letter := map[string]byte{api.StateUnknown: 'u', api.StateHealthy: 'h', api.StateUnhealthy: 'd'}
	state := map[byte]string{'u': api.StateUnknown, 'h': api.StateHealthy, 'd': api.StateUnhealthy}
	// seq: '+' success, '-' failure, 'L' local failure (this node could not
	// probe). want: the state after each result (u unknown, h healthy,
	// d down).
	tests := []struct {
		name       string
		start      byte
		rise, fall int
		seq, want  string
	}{
		{"rise from unknown", 'u', 2, 3, "++", "uh"},
		{"fall from unknown", 'u', 2, 3, "---", "uud"},
		{"flapping stays unknown", 'u', 2, 3, "+-+-+-", "uuuuuu"},
		{"healthy survives blips", 'h', 2, 3, "--+--+", "hhhhhh"},
		{"healthy falls after fall failures", 'h', 2, 3, "+---", "hhhd"},
		{"unhealthy rises after rise successes", 'd', 2, 3, "-++", "ddh"},
		{"unhealthy ignores one success", 'd', 2, 3, "+-+-", "dddd"},
		{"rise 1 fall 1 follows every result", 'u', 1, 1, "+-+", "hdh"},
		{"full cycle", 'u', 2, 2, "++--++", "uhhddh"},
		{"counters keep counting past thresholds", 'u', 1, 1, "++++", "hhhh"},
		{"zero thresholds act as 1", 'u', 0, 0, "+-", "hd"},
		// A local failure is not an observation: the site abstains
		// (unknown) and the counters carry on across it.
		{"local never counts as a failure", 'h', 2, 1, "LLLLL", "uuuuu"},
		{"local from unknown stays unknown", 'u', 1, 1, "LL", "uu"},
		{"local from unhealthy abstains", 'd', 2, 3, "L", "u"},
		{"healthy run resumes after local", 'h', 2, 3, "++LL+", "hhuuh"},
		{"failure run resumes after local", 'h', 2, 2, "-L-", "hud"},
		{"local does not break a rise", 'u', 3, 3, "++L+", "uuuh"},
		{"local does not break a fall", 'h', 2, 3, "--L-", "hhud"},
		{"local then a failure needs fall", 'h', 2, 3, "+L--", "huuu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t0 := time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC)
			o := api.SiteObservation{State: state[tt.start], Since: t0}
			since := t0
			got := make([]byte, 0, len(tt.seq))
			for i := 0; i < len(tt.seq); i++ {
				at := t0.Add(time.Duration(i+1) * time.Second)
				r := Result{OK: tt.seq[i] == '+', At: at, Latency: 1500 * time.Microsecond}
				switch tt.seq[i] {
				case '-':
					r.Error = "status 503 not in 200-399"
				case 'L':
					r.Error, r.Local, r.Latency = "local: too many open files (not a backend failure)", LocalFileDescriptors, time.Second
				}
				before := o
				from, changed := observe(&o, tt.rise, tt.fall, r)
				got = append(got, letter[o.State])
				if changed != (from != o.State) {
					t.Fatalf("step %d: changed=%v from=%s to=%s", i, changed, from, o.State)
				}
				if changed {
					since = at
				}
				if !o.Since.Equal(since) || !o.LastChecked.Equal(at) || o.LastError != r.Error {
					t.Fatalf("step %d: bad bookkeeping %+v", i, o)
				}
				if r.Local != "" {
					// Neither counter moves, and the latency of an attempt
					// that never reached the endpoint is not recorded.
					if o.Successes != before.Successes || o.Failures != before.Failures || o.LastLatencyMS != before.LastLatencyMS {
						t.Fatalf("step %d: a local failure changed %+v into %+v", i, before, o)
					}
					continue
				}
				if o.LastLatencyMS != 1.5 {
					t.Fatalf("step %d: latency %v", i, o.LastLatencyMS)
				}
				if r.OK && (o.Failures != 0 || o.Successes == 0) || !r.OK && (o.Successes != 0 || o.Failures == 0) {
					t.Fatalf("step %d: counters %d/%d", i, o.Successes, o.Failures)
				}
			}
			if string(got) != tt.want {
				t.Errorf("states %s, want %s", got, tt.want)
			}
		})
	}
}

func TestRestored(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		in        api.SiteObservation
		wantState string
	}{
		{"healthy kept", api.SiteObservation{State: api.StateHealthy, Since: t0, Successes: 7}, api.StateHealthy},
		{"unhealthy kept", api.SiteObservation{State: api.StateUnhealthy, Since: t0, Failures: 9, LastError: "x"}, api.StateUnhealthy},
		{"empty is unknown", api.SiteObservation{}, api.StateUnknown},
		{"garbage is unknown", api.SiteObservation{State: "up"}, api.StateUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := restored(tt.in)
			if got.State != tt.wantState || got.Successes != 0 || got.Failures != 0 || !got.Since.Equal(tt.in.Since) || got.LastError != tt.in.LastError {
				t.Fatalf("restored(%+v) = %+v", tt.in, got)
			}
			// One failure after a restart never flips a restored healthy
			// state (fall >= 2).
			if got.State == api.StateHealthy {
				if _, changed := observe(&got, 2, 2, Result{At: t0}); changed {
					t.Fatal("a single failure after restore flipped the state")
				}
			}
		})
	}
}
