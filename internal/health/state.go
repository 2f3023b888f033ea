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
//
// A local failure (Result.Local: this node could not probe, local.go) is
// not an observation of the endpoint. It makes the state unknown at once,
// so this site abstains from the vote (Aggregate) instead of voting on a
// judgement it can no longer renew, and leaves both counters untouched:
// it neither counts towards fall nor breaks a run of successes, so once
// probing works again the first real result that continues the run
// restores the state (healthy → local → success is healthy again at once;
// failures still need fall of them in a row). LastError says why; the
// latency of an attempt that never reached the endpoint is not recorded.
func observe(o *api.SiteObservation, rise, fall int, r Result) (from string, changed bool) {
	if o.State == "" {
		o.State = api.StateUnknown
	}
	from = o.State
	o.LastChecked = r.At
	switch {
	case r.Local != "":
		o.LastError = r.Error
		o.State = api.StateUnknown
	case r.OK:
		o.LastLatencyMS = float64(r.Latency) / float64(time.Millisecond)
		o.LastError = ""
		o.Successes++
		o.Failures = 0
		if o.State != api.StateHealthy && o.Successes >= max(rise, 1) {
			o.State = api.StateHealthy
		}
	default:
		o.LastLatencyMS = float64(r.Latency) / float64(time.Millisecond)
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
