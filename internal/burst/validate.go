package burst

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// Limits of Validate.
const (
	// MaxBodyBytes bounds body_engaged and body_released: load balancers
	// read a health-check response's first few hundred bytes at most.
	MaxBodyBytes = 1024
	// MaxWindows bounds the schedule; a calendar of bursts needs a handful.
	MaxWindows = 256
)

// Validate returns every problem of a toggle, in a stable order, with field
// paths in the provider's notation. Omitted bodies read as their defaults.
func Validate(t api.BurstToggle) api.Problems {
	t.Normalize() // t is a copy and Normalize touches only its strings
	var ps api.Problems
	api.CheckName(&ps, "name", t.Name)
	api.CheckName(&ps, "site", t.Site)

	exp, hasExp := expiry(t)
	if t.ExpiresAt != nil && t.ExpiresAt.IsZero() {
		ps.Add("expires_at", "is the zero time (0001-01-01T00:00:00Z), which is never meant: set an RFC 3339 time such as 2025-12-01T06:00:00Z, or omit expires_at for no expiry")
	}

	if len(t.Schedule) > MaxWindows {
		ps.Add("schedule", "has %d windows, more than %d: merge adjacent windows or remove past ones", len(t.Schedule), MaxWindows)
	}
	// Overlapping windows are allowed: the toggle is engaged over their
	// union, which is what someone stacking two calendars means.
	for i, w := range t.Schedule {
		f := api.Index("schedule", i)
		if w.Start.IsZero() {
			ps.Add(f+".start", "is required: set the RFC 3339 time the burst begins, e.g. 2025-11-28T00:00:00Z")
		}
		if w.End.IsZero() {
			ps.Add(f+".end", "is required: set the RFC 3339 time the burst ends, e.g. 2025-12-01T06:00:00Z")
		}
		if !w.Start.IsZero() && !w.End.IsZero() && !w.Start.Before(w.End) {
			ps.Add(f+".end", "%s is not after start %s: a window engages at start and releases at end, so set end later than start", stamp(w.End), stamp(w.Start)).Read(f + ".start")
		}
		if hasExp && !w.Start.IsZero() && !w.Start.Before(exp) {
			ps.Warn(f+".start", "%s is at or after expires_at %s, so this window never engages: move it earlier or extend expires_at", stamp(w.Start), stamp(exp)).Read("expires_at")
		}
	}

	checkBody(&ps, "body_engaged", t.BodyEngaged)
	checkBody(&ps, "body_released", t.BodyReleased)
	if t.BodyEngaged == t.BodyReleased {
		ps.Add("body_released", "equals body_engaged (%q): load balancers tell an engaged toggle from a released one by the body, so make them different (defaults %q and %q)", t.BodyEngaged, api.DefaultBodyEngaged, api.DefaultBodyReleased).Read("body_engaged")
	}
	return ps
}

// ValidateAt is Validate plus the warnings that depend on the time now: a
// schedule window that ended before now never engages again, and an
// expires_at before now releases the toggle for good. Validate itself stays
// a pure function of the toggle, so failoverd's verdict on a write never
// changes with the clock.
func ValidateAt(t api.BurstToggle, now time.Time) api.Problems {
	ps := Validate(t)
	for i, w := range t.Schedule {
		if !w.End.IsZero() && !w.End.After(now) {
			f := api.Index("schedule", i)
			ps.Warn(f+".end", "%s is in the past (now is %s), so this window never engages again: remove it, or move it to a future date", stamp(w.End), stamp(now)).Read(f + ".start")
		}
	}
	if t.ExpiresAt != nil && !t.ExpiresAt.IsZero() && !t.ExpiresAt.After(now) {
		ps.Warn("expires_at", "%s is in the past (now is %s), so the toggle stays released whatever engaged and schedule say: remove expires_at or set a future time", stamp(*t.ExpiresAt), stamp(now))
	}
	return ps
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func checkBody(ps *api.Problems, field, body string) {
	switch {
	case strings.TrimSpace(body) == "":
		ps.Add(field, "must not be blank: a load balancer matches this text, so set a word such as %q", api.DefaultBodyEngaged)
	case len(body) > MaxBodyBytes:
		ps.Add(field, "is %d bytes, more than %d: keep it a short word a load balancer can match", len(body), MaxBodyBytes)
	case !utf8.ValidString(body):
		ps.Add(field, "is not valid UTF-8: use plain text such as %q", api.DefaultBodyEngaged)
	default:
		for i, r := range body {
			if unicode.IsControl(r) {
				ps.Add(field, "contains the control character %U at byte %d: load balancers match a single line of text, so remove it", r, i)
				break
			}
		}
	}
}
