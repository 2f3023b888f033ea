package health

import (
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// observe folds one probe result into a site's observation and reports
// the previous state and whether the state changed.
//
// The state is "unknown" until rise consecutive successes (→ healthy) or
// fall consecutive failures (→ unhealthy). From healthy only fall
// consecutive failures leave; from unhealthy only rise consecutive
// successes. A single blip never flips a state, and a restored state is
// kept until the counters, which start at 0, reach a threshold: a restart
// never changes a state by itself. Since is the time of the last change.
func observe(o *api.SiteObservation, rise, fall int, r Result) (from string, changed bool) {
	if o.State == "" {
		o.State = api.StateUnknown
	}
	from = o.State
	o.LastChecked = r.At
	o.LastLatencyMS = float64(r.Latency) / float64(time.Millisecond)
	if r.OK {
		o.LastError = ""
		o.Successes++
		o.Failures = 0
		if o.State != api.StateHealthy && o.Successes >= max(rise, 1) {
			o.State = api.StateHealthy
		}
	} else {
		o.LastError = r.Error
		o.Failures++
		o.Successes = 0
		if o.State != api.StateUnhealthy && o.Failures >= max(fall, 1) {
			o.State = api.StateUnhealthy
		}
	}
	if o.State != from {
		o.Since = r.At
		return from, true
	}
	return from, false
}

// restored is the observation a check resumes from after a restart: the
// last known state and its history, with the consecutive counters reset
// (they described probes of a process that no longer runs).
func restored(o api.SiteObservation) api.SiteObservation {
	switch o.State {
	case api.StateHealthy, api.StateUnhealthy, api.StateUnknown:
	default:
		o.State = api.StateUnknown
	}
	o.Successes, o.Failures = 0, 0
	return o
}
