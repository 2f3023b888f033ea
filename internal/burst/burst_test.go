package burst

import (
	"math/rand"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

var t0 = time.Date(2025, 11, 28, 0, 0, 0, 0, time.UTC)

func at(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }

func win(start, end int) api.Window { return api.Window{Start: at(start), End: at(end)} }

func TestEffective(t *testing.T) {
	never := time.Time{}
	exp := func(h int) *time.Time { v := at(h); return &v }
	tests := []struct {
		name     string
		schedule []api.Window
		expires  *time.Time
		engaged  bool
		now      time.Time
		wantOn   bool
		wantNext time.Time
	}{
		{name: "released, no schedule", now: at(0), wantOn: false, wantNext: never},
		{name: "engaged, no expiry", engaged: true, now: at(0), wantOn: true, wantNext: never},
		{name: "engaged until expiry", engaged: true, expires: exp(5), now: at(0), wantOn: true, wantNext: at(5)},
		{name: "at expiry is expired", engaged: true, expires: exp(5), now: at(5), wantOn: false, wantNext: never},
		{name: "just before expiry", engaged: true, expires: exp(5), now: at(5).Add(-time.Nanosecond), wantOn: true, wantNext: at(5)},
		{name: "before a window", schedule: []api.Window{win(2, 4)}, now: at(1), wantOn: false, wantNext: at(2)},
		{name: "at window start", schedule: []api.Window{win(2, 4)}, now: at(2), wantOn: true, wantNext: at(4)},
		{name: "at window end", schedule: []api.Window{win(2, 4)}, now: at(4), wantOn: false, wantNext: never},
		{name: "windows in any order", schedule: []api.Window{win(10, 12), win(2, 4)}, now: at(5), wantOn: false, wantNext: at(10)},
		{name: "overlapping windows engage over their union", schedule: []api.Window{win(2, 6), win(4, 8)}, now: at(3), wantOn: true, wantNext: at(8)},
		{name: "touching windows never release in between", schedule: []api.Window{win(2, 4), win(4, 6)}, now: at(2), wantOn: true, wantNext: at(6)},
		{name: "window ended by expiry", schedule: []api.Window{win(2, 6)}, expires: exp(3), now: at(2), wantOn: true, wantNext: at(3)},
		{name: "window after expiry never engages", schedule: []api.Window{win(6, 8)}, expires: exp(3), now: at(1), wantOn: false, wantNext: never},
		{name: "engaged makes windows irrelevant", schedule: []api.Window{win(2, 4)}, engaged: true, now: at(1), wantOn: true, wantNext: never},
		{name: "empty and inverted windows are ignored", schedule: []api.Window{win(3, 3), win(5, 4)}, now: at(1), wantOn: false, wantNext: never},
		{name: "zero expires_at is no expiry", engaged: true, expires: &time.Time{}, now: at(1), wantOn: true, wantNext: never},
		{name: "past expiry, window later", schedule: []api.Window{win(2, 4)}, expires: exp(1), engaged: true, now: at(1), wantOn: false, wantNext: never},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg := api.BurstToggle{Name: "bf", Site: "dr", Schedule: tc.schedule, ExpiresAt: tc.expires}
			on, next := Effective(tg, tc.engaged, tc.now)
			if on != tc.wantOn || !next.Equal(tc.wantNext) {
				t.Errorf("Effective = %v, %v; want %v, %v", on, next, tc.wantOn, tc.wantNext)
			}
		})
	}
}

// TestEffectiveMatchesBruteForce checks Effective against the definition,
// minute by minute, on random schedules: the state at every minute, and
// that next is exactly the first minute at which the state differs.
func TestEffectiveMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	const span = 120 // minutes
	m := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	for c := range 2000 {
		var tg api.BurstToggle
		for range rng.Intn(5) {
			s := rng.Intn(span)
			tg.Schedule = append(tg.Schedule, api.Window{Start: m(s), End: m(s + rng.Intn(30) - 5)})
		}
		if rng.Intn(2) == 0 {
			e := m(rng.Intn(span))
			tg.ExpiresAt = &e
		}
		engaged := rng.Intn(4) == 0
		truth := func(i int) bool {
			if tg.ExpiresAt != nil && i >= int(tg.ExpiresAt.Sub(t0)/time.Minute) {
				return false
			}
			if engaged {
				return true
			}
			for _, w := range tg.Schedule {
				if !m(i).Before(w.Start) && m(i).Before(w.End) {
					return true
				}
			}
			return false
		}
		states := make([]bool, span+40)
		for i := range states {
			states[i] = truth(i)
		}
		for i, want := range states {
			on, next := Effective(tg, engaged, m(i))
			if on != want {
				t.Fatalf("case %d (%+v, engaged %v) minute %d: on = %v, want %v", c, tg, engaged, i, on, want)
			}
			wantNext := time.Time{}
			for j := i + 1; j < len(states); j++ {
				if states[j] != on {
					wantNext = m(j)
					break
				}
			}
			if !next.Equal(wantNext) {
				t.Fatalf("case %d (%+v, engaged %v) minute %d: next = %v, want %v", c, tg, engaged, i, next, wantNext)
			}
		}
	}
}
