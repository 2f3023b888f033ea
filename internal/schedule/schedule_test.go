package schedule

import (
	"strings"
	"testing"
	"time"
)

func TestCronNext(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		expr, after, want string
	}{
		{"* * * * *", "2026-12-05T19:20:30Z", "2026-12-05T19:21:00Z"},
		{"0 3 * * 2", "2026-12-05T19:20:00Z", "2026-12-08T03:00:00Z"}, // next Tuesday
		{"*/15 * * * *", "2026-12-05T19:20:00Z", "2026-12-05T19:30:00Z"},
		{"5/15 * * * *", "2026-12-05T19:21:00Z", "2026-12-05T19:35:00Z"},
		{"30 1-3 * * *", "2026-12-05T02:30:00Z", "2026-12-05T03:30:00Z"},
		{"0 0 1 1,7 *", "2026-12-05T00:00:00Z", "2027-01-01T00:00:00Z"},
		{"0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z"},
		{"0 12 * * 7", "2026-12-05T12:00:00Z", "2026-12-06T12:00:00Z"}, // 7 is Sunday
		{"0 0 13 * 5", "2026-12-05T00:00:00Z", "2026-12-11T00:00:00Z"}, // Friday or the 13th
	} {
		c, err := ParseCron(tc.expr)
		if err != nil {
			t.Fatalf("%q: %v", tc.expr, err)
		}
		got, ok := c.Next(at(tc.after))
		if !ok || !got.Equal(at(tc.want)) {
			t.Errorf("%q after %s: %s %v, want %s", tc.expr, tc.after, got, ok, tc.want)
		}
	}
}

func TestCronRefused(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{"", "has 0 fields"},
		{"* * * *", "has 4 fields"},
		{"60 * * * *", "minute"},
		{"* 24 * * *", "hour"},
		{"* * 0 * *", "day of month"},
		{"* * * 13 *", "month"},
		{"* * * * 8", "day of week"},
		{"5-1 * * * *", "backwards"},
		{"*/0 * * * *", "step"},
		{"0 0 31 2 *", "never runs"},
		{"MON * * * *", "minute"},
	} {
		if _, err := ParseCron(tc.expr); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.expr, err, tc.want)
		}
	}
}

func TestParseWindow(t *testing.T) {
	w, err := ParseWindow("2026-12-12T03:00:00Z/2026-12-12T03:30:00+00:00")
	if err != nil || w.End.Sub(w.Start) != 30*time.Minute {
		t.Fatalf("%+v %v", w, err)
	}
	for _, tc := range []struct{ s, want string }{
		{"2026-12-12T03:00:00Z", "not a window"},
		{"tomorrow/2026-12-12T03:00:00Z", "start"},
		{"2026-12-12T03:00:00Z/soon", "end"},
		{"2026-12-12T03:00:00Z/2026-12-12T02:00:00Z", "ends before"},
		{"2026-12-12T03:00:00Z/2026-12-14T03:00:00Z", "longer than"},
	} {
		if _, err := ParseWindow(tc.s); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.s, err, tc.want)
		}
	}
}

// FuzzParseCron: no input panics; an accepted expression has a next run,
// later than the asked time, that matches it.
func FuzzParseCron(f *testing.F) {
	for _, s := range []string{"* * * * *", "0 3 * * 2", "*/15 1-5 1,15 */2 0-7", "0 0 29 2 *", "0 0 31 2 *",
		"5/15 * * * *", "1-2/0 * * * *", "99999999999999999999 * * * *", "-1 * * * *", "* * * * 7", ",,, * * * *"} {
		f.Add(s)
	}
	from := time.Date(2026, 12, 5, 19, 20, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCron(s)
		if err != nil {
			return
		}
		next, ok := c.Next(from)
		if !ok {
			t.Fatalf("%q accepted but never runs", s)
		}
		if !next.After(from) || !c.dayMatches(next) || c.hour&(1<<uint(next.Hour())) == 0 || c.minute&(1<<uint(next.Minute())) == 0 {
			t.Fatalf("%q: next %s does not match", s, next)
		}
	})
}

// FuzzParseWindow: no input panics; an accepted window is ordered and
// bounded.
func FuzzParseWindow(f *testing.F) {
	for _, s := range []string{"2026-12-12T03:00:00Z/2026-12-12T03:30:00Z", "2026-12-12T03:00:00Z/", "/", "",
		"2026-12-12T03:00:00+14:00/2026-12-12T03:00:00-12:00", "9999-12-31T23:59:59Z/9999-12-31T23:59:60Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWindow(s)
		if err != nil {
			return
		}
		if !w.End.After(w.Start) || w.End.Sub(w.Start) > MaxWindow {
			t.Fatalf("%q accepted as %+v", s, w)
		}
	})
}
