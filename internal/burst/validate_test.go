package burst

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

func validToggle() api.BurstToggle {
	exp := at(24 * 7)
	return api.BurstToggle{
		Name:      "black-friday",
		Site:      "dr",
		Schedule:  []api.Window{win(0, 24), win(12, 48), win(48, 72)},
		ExpiresAt: &exp,
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*api.BurstToggle)
		errs  map[string]string // field → substring; no other error allowed
		warns []string
	}{
		{name: "valid (overlapping and touching windows, default bodies)", edit: func(*api.BurstToggle) {}},
		{
			name: "names",
			edit: func(b *api.BurstToggle) { b.Name, b.Site = "", "DR Site" },
			errs: map[string]string{"name": "is required", "site": `"DR Site" is not a valid name`},
		},
		{
			name: "windows",
			edit: func(b *api.BurstToggle) {
				b.Schedule = []api.Window{win(5, 5), win(6, 2), {Start: at(1)}, {End: at(1)}, win(1, 2)}
			},
			errs: map[string]string{
				"schedule[0].end":   "is not after start 2025-11-28T05:00:00Z",
				"schedule[1].end":   "2025-11-28T02:00:00Z is not after start 2025-11-28T06:00:00Z",
				"schedule[2].end":   "is required",
				"schedule[3].start": "is required",
			},
		},
		{
			name:  "window after expiry warns",
			edit:  func(b *api.BurstToggle) { b.Schedule = append(b.Schedule, win(24*8, 24*9)) },
			warns: []string{"schedule[3].start"},
		},
		{
			name: "too many windows",
			edit: func(b *api.BurstToggle) {
				b.Schedule = nil
				for i := range MaxWindows + 1 {
					b.Schedule = append(b.Schedule, win(i, i+1))
				}
				b.ExpiresAt = nil
			},
			errs: map[string]string{"schedule": "more than 256"},
		},
		{
			name: "zero expires_at",
			edit: func(b *api.BurstToggle) { b.ExpiresAt = &time.Time{} },
			errs: map[string]string{"expires_at": "is the zero time"},
		},
		{
			name: "equal bodies",
			edit: func(b *api.BurstToggle) { b.BodyEngaged, b.BodyReleased = "no-burst", "" },
			errs: map[string]string{"body_released": `equals body_engaged ("no-burst")`},
		},
		{
			name: "bad bodies",
			edit: func(b *api.BurstToggle) { b.BodyEngaged, b.BodyReleased = "burst\n", "  " },
			errs: map[string]string{
				"body_engaged":  "contains the control character U+000A at byte 5",
				"body_released": "must not be blank",
			},
		},
		{
			name: "long and invalid bodies",
			edit: func(b *api.BurstToggle) {
				b.BodyEngaged, b.BodyReleased = strings.Repeat("b", MaxBodyBytes+1), "no\xffburst"
			},
			errs: map[string]string{
				"body_engaged":  "is 1025 bytes, more than 1024",
				"body_released": "is not valid UTF-8",
			},
		},
		{
			name: "a 1 KiB body is fine",
			edit: func(b *api.BurstToggle) { b.BodyEngaged = strings.Repeat("é", MaxBodyBytes/2) },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := validToggle()
			tc.edit(&b)
			ps := Validate(b)
			got := map[string]string{}
			for _, e := range ps.Errors() {
				if _, dup := got[e.Field]; dup {
					t.Errorf("two errors on %s: %q and %q", e.Field, got[e.Field], e.Detail)
				}
				got[e.Field] = e.Detail
			}
			for field, sub := range tc.errs {
				if d, ok := got[field]; !ok {
					t.Errorf("no error on %s (got %v)", field, ps)
				} else if !strings.Contains(d, sub) {
					t.Errorf("error on %s = %q, want it to contain %q", field, d, sub)
				}
			}
			for field, d := range got {
				if _, ok := tc.errs[field]; !ok {
					t.Errorf("unexpected error on %s: %s", field, d)
				}
			}
			warned := map[string]bool{}
			for _, w := range ps.Warnings() {
				warned[w.Field] = true
			}
			for _, f := range tc.warns {
				if !warned[f] {
					t.Errorf("no warning on %s (got %v)", f, ps.Warnings())
				}
			}
			if len(tc.errs) == 0 && len(tc.warns) == 0 && len(ps) != 0 {
				t.Errorf("want no problems, got %v", ps)
			}
			checkProblems(t, ps)
		})
	}
}

func checkProblems(t *testing.T, ps api.Problems) {
	t.Helper()
	for _, e := range ps {
		if _, err := api.ParsePath(e.Field); err != nil || e.Field == "" {
			t.Errorf("problem %q has an unparsable field: %v", e, err)
		}
		if e.Severity != api.SeverityError && e.Severity != api.SeverityWarning {
			t.Errorf("problem %q has severity %q", e, e.Severity)
		}
	}
}

func FuzzValidate(f *testing.F) {
	b, _ := json.Marshal(validToggle())
	f.Add(b, int64(0), false)
	f.Add([]byte(`{"name":"x","site":"y","schedule":[{"start":"2025-01-01T00:00:00Z","end":"2024-01-01T00:00:00Z"}],"expires_at":"0001-01-01T00:00:00Z","body_engaged":"\u0000"}`), int64(1e9), true)
	f.Add([]byte(`{"schedule":[{"start":"9999-12-31T23:59:59Z","end":"0001-01-01T00:00:00Z"},{}],"body_released":"burst"}`), int64(-1e12), true)
	f.Fuzz(func(t *testing.T, data []byte, nowSec int64, engaged bool) {
		var tg api.BurstToggle
		if json.Unmarshal(data, &tg) != nil {
			return
		}
		ps := Validate(tg)
		checkProblems(t, ps)
		if !reflect.DeepEqual(ps, Validate(tg)) {
			t.Fatal("Validate is not deterministic")
		}
		now := t0.Add(time.Duration(nowSec%(1<<40)) * time.Second)
		on, next := Effective(tg, engaged, now)
		if next.IsZero() {
			return
		}
		if !next.After(now) {
			t.Fatalf("next %v not after now %v", next, now)
		}
		// next is a real change: the state there differs, and just before
		// it does not.
		if on2, _ := Effective(tg, engaged, next); on2 == on {
			t.Fatalf("state at next %v is still %v", next, on)
		}
		if before := next.Add(-time.Nanosecond); before.After(now) {
			if on3, _ := Effective(tg, engaged, before); on3 != on {
				t.Fatalf("state changed before next %v", next)
			}
		}
	})
}

// ValidateAt warns about windows that already ended and an expiry in the
// past; Validate, which failoverd runs on writes, does not look at the clock.
func TestValidateAtPast(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	past := time.Date(2025, 11, 28, 0, 0, 0, 0, time.UTC)
	tg := api.BurstToggle{Name: "bf", Site: "dr", Schedule: []api.Window{
		{Start: past, End: past.Add(72 * time.Hour)},
		{Start: now.Add(time.Hour), End: now.Add(2 * time.Hour)},
	}}
	if ps := Validate(tg); len(ps) != 0 {
		t.Fatalf("Validate = %v, want no problems", ps)
	}
	ps := ValidateAt(tg, now)
	if len(ps) != 1 || ps[0].Field != "schedule[0].end" || ps[0].Severity != api.SeverityWarning || !strings.Contains(ps[0].Detail, "in the past") {
		t.Fatalf("ValidateAt = %v, want one warning on schedule[0].end", ps)
	}
	exp := past
	tg.ExpiresAt = &exp
	if ps := ValidateAt(tg, now); len(ps.Warnings()) < 2 || !strings.Contains(ps.Warnings()[len(ps.Warnings())-1].Field, "expires_at") {
		t.Errorf("ValidateAt with a past expires_at = %v, want an expires_at warning", ps)
	}
}
