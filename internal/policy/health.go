package policy

import (
	"slices"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// CheckState is one health check's overall state, as the target rules
// read it.
type CheckState struct {
	State      string
	Since      time.Time
	ObservedAt time.Time
}

// EndpointHealth is the health of one endpoint of a target: up unless one
// of its checks is unhealthy.
type EndpointHealth struct {
	Up    bool
	Since time.Time
}

// TargetHealthOf derives a target's health from its checks' states; lookup
// reports false for a check that has no state yet. It is the one place
// that says when a target is up:
//
//   - "unknown" counts as up, so a check that has not yet reached rise or
//     fall never moves traffic;
//   - a target is down while any of its own health_checks is unhealthy;
//   - a target with endpoints is down, too, while fewer than min_healthy of
//     them are up; an endpoint is up unless one of its checks is unhealthy.
//
// Since is when the target entered its current state: down since the
// earliest of the causes that hold it down (for the endpoints, the moment
// the count fell below min_healthy); up since the last recovery it needed.
func TargetHealthOf(t api.PolicyTarget, lookup func(check string) (CheckState, bool)) TargetHealth {
	th := TargetHealth{Up: true}
	// Up since the last of its checks recovered; down since the first of
	// its checks failed.
	var downSince, upSince time.Time
	checks := func(names []string) (up bool, since time.Time) {
		up = true
		var down, rec time.Time
		for _, c := range names {
			cs, ok := lookup(c)
			if !ok {
				continue
			}
			if cs.ObservedAt.After(th.ObservedAt) {
				th.ObservedAt = cs.ObservedAt
			}
			if cs.State == api.StateUnhealthy {
				up = false
				if down.IsZero() || cs.Since.Before(down) {
					down = cs.Since
				}
			} else if cs.Since.After(rec) {
				rec = cs.Since
			}
		}
		if up {
			return true, rec
		}
		return false, down
	}
	earliest := func(t time.Time) {
		if downSince.IsZero() || t.Before(downSince) {
			downSince = t
		}
	}
	if up, since := checks(t.HealthChecks); up {
		upSince = since
	} else {
		th.Up = false
		earliest(since)
	}

	if len(t.Endpoints) > 0 {
		th.Endpoints = make(map[string]EndpointHealth, len(t.Endpoints))
		var ups, downs []time.Time
		for _, n := range api.SortedKeys(t.Endpoints) {
			up, since := checks(t.Endpoints[n].HealthChecks)
			th.Endpoints[n] = EndpointHealth{Up: up, Since: since}
			if up {
				ups = append(ups, since)
			} else {
				downs = append(downs, since)
			}
		}
		need := EndpointsNeeded(t)
		slices.SortFunc(ups, time.Time.Compare)
		slices.SortFunc(downs, time.Time.Compare)
		if len(ups) >= need {
			// Up since the need-th earliest recovery among those up: from
			// then on enough endpoints were up.
			if need > 0 && ups[need-1].After(upSince) {
				upSince = ups[need-1]
			}
		} else {
			// Down since the endpoint whose loss took the count below
			// min_healthy: the (n-need+1)-th to fail.
			th.Up = false
			earliest(downs[max(0, len(t.Endpoints)-need)])
		}
	}
	if th.Up {
		th.Since = upSince
	} else {
		th.Since = downSince
	}
	return th
}

// EndpointsNeeded is how many of a target's endpoints must be up for it
// to serve: min_healthy, at most the number of endpoints (Validate refuses
// more; an unvalidated policy must not make a target unservable).
func EndpointsNeeded(t api.PolicyTarget) int {
	return min(max(t.MinHealthyEndpoints(), 0), len(t.Endpoints))
}

// servingAddresses is what a target answers given its health: every
// address of its up endpoints (plus its own addresses). When no endpoint
// with an address is up — an override or fail_open serving a dead target —
// it answers all of them: dropping them all would answer nothing, which is
// worse than a chance that one works.
func servingAddresses(t api.PolicyTarget, h TargetHealth) []string {
	if len(t.Endpoints) == 0 {
		return slices.Clone(t.Addresses)
	}
	out := slices.Clone(t.Addresses)
	n := 0 // addresses of up endpoints
	for _, name := range api.SortedKeys(t.Endpoints) {
		if eh, ok := h.Endpoints[name]; !ok || eh.Up {
			out = append(out, t.Endpoints[name].Addresses...)
			n += len(t.Endpoints[name].Addresses)
		}
	}
	if n == 0 {
		return t.AllAddresses()
	}
	return out
}
