// Package burst computes a burst toggle's effective state and validates
// toggles.
//
// A burst toggle is the "burstable DR" switch: the DR site's load balancer
// health-checks the toggle's /burst/{name} URL, which answers body_released
// ("no-burst", pool down) or body_engaged ("burst", pool up). Engaging it
// turns the warm DR site into extra production capacity in minutes, and it
// gates the burst_only targets of the traffic policies that name it.
//
// The effective state is
//
//	(engaged OR now is inside a schedule window) AND NOT (now ≥ expires_at)
//
// A window is the half-open interval [start, end): engaged at start,
// released at end. Windows may overlap or touch; the toggle is engaged over
// their union, so back-to-back windows never release in between. expires_at
// ends everything, the operator's flip and the schedule alike: it is the
// "release no later than" of a Black-Friday burst that someone might forget.
// A zero expires_at (which Validate rejects) is read as no expiry rather
// than as "expired since year 1", so a client bug never silently releases
// burst capacity.
package burst

import (
	"slices"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// Effective returns whether t is engaged at now, given engaged (the
// operator's stored state), and next, the earliest instant after now at
// which that answer changes (a window start or end, or the expiry), or zero
// if it never changes without new input. Windows whose end is not after
// their start are empty and never engage.
func Effective(t api.BurstToggle, engaged bool, now time.Time) (on bool, next time.Time) {
	on = effectiveAt(t, engaged, now)
	// The answer is constant between consecutive boundaries and, since
	// windows are half-open, equals its value at the boundary that opens
	// the interval. So the next change is the first boundary whose value
	// differs from now's; overlapping or touching windows change nothing
	// at their inner boundaries and are skipped.
	var bounds []time.Time
	for _, w := range t.Schedule {
		if w.Start.Before(w.End) {
			bounds = append(bounds, w.Start, w.End)
		}
	}
	if exp, ok := expiry(t); ok {
		bounds = append(bounds, exp)
	}
	slices.SortFunc(bounds, func(a, b time.Time) int { return a.Compare(b) })
	for _, b := range bounds {
		if b.After(now) && effectiveAt(t, engaged, b) != on {
			return on, b
		}
	}
	return on, time.Time{}
}

func expiry(t api.BurstToggle) (time.Time, bool) {
	if t.ExpiresAt == nil || t.ExpiresAt.IsZero() {
		return time.Time{}, false
	}
	return *t.ExpiresAt, true
}

func effectiveAt(t api.BurstToggle, engaged bool, at time.Time) bool {
	if exp, ok := expiry(t); ok && !at.Before(exp) {
		return false
	}
	if engaged {
		return true
	}
	for _, w := range t.Schedule {
		if !at.Before(w.Start) && at.Before(w.End) {
			return true
		}
	}
	return false
}
