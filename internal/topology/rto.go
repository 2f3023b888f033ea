package topology

import (
	"fmt"
	"math"
	"strconv"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// CheckTiming is one health check's detection timing.
type CheckTiming struct {
	IntervalSeconds, TimeoutSeconds float64
	Fall                            int
}

// DetectionSeconds is the worst-case time for the check to declare a
// target down: fall consecutive failures, one per interval, the last of
// which may take the full timeout to fail.
func (c CheckTiming) DetectionSeconds() float64 {
	return float64(c.Fall)*c.IntervalSeconds + c.TimeoutSeconds
}

// slowest returns the index of the check with the longest detection, or
// -1 when there is none (the first of equals wins).
func slowest(checks []CheckTiming) int {
	idx := -1
	for i, c := range checks {
		if idx < 0 || c.DetectionSeconds() > checks[idx].DetectionSeconds() {
			idx = i
		}
	}
	return idx
}

// WorstCaseFailoverSeconds is how long clients may keep reaching a failed
// target: detection by the slowest check (fall × interval + timeout; 0
// with no checks), then failover_delay_seconds before the decision moves,
// then ttl_seconds for resolvers to drop the cached answer.
func WorstCaseFailoverSeconds(checks []CheckTiming, failoverDelaySeconds, ttlSeconds int) float64 {
	detection := 0.0
	if i := slowest(checks); i >= 0 {
		detection = checks[i].DetectionSeconds()
	}
	return detection + float64(failoverDelaySeconds) + float64(ttlSeconds)
}

// CheckRTO returns an error on field "rto_seconds" when rtoSeconds is set
// (> 0) and the worst-case failover exceeds it, with the arithmetic
// spelled out so the user sees which term to shrink.
func CheckRTO(checks []CheckTiming, failoverDelaySeconds, ttlSeconds, rtoSeconds int) api.Problems {
	var p api.Problems
	if rtoSeconds <= 0 {
		return p
	}
	worst := WorstCaseFailoverSeconds(checks, failoverDelaySeconds, ttlSeconds)
	// Compare at millisecond precision so float noise (3 × 0.1) never
	// turns an exact fit into a failure.
	if roundMillis(worst) <= float64(rtoSeconds) {
		return p
	}
	detection := "0s detection (no health checks)"
	if i := slowest(checks); i >= 0 {
		c := checks[i]
		detection = fmt.Sprintf("%d × %ss + %ss detection", c.Fall, formatNumber(c.IntervalSeconds), formatNumber(c.TimeoutSeconds))
	}
	fix := "lower fall, interval_seconds or ttl_seconds, or raise rto_seconds"
	if failoverDelaySeconds > 0 {
		fix = "lower fall, interval_seconds, failover_delay_seconds or ttl_seconds, or raise rto_seconds"
	}
	p.Add("rto_seconds", "worst-case failover is %s + %ds failover delay + %ds TTL = %ss, over rto_seconds = %d: %s",
		detection, failoverDelaySeconds, ttlSeconds, formatNumber(worst), rtoSeconds, fix)
	return p
}

// roundMillis rounds seconds to the millisecond.
func roundMillis(v float64) float64 { return math.Round(v*1000) / 1000 }

// formatNumber renders a number of seconds or a priority without float
// noise: at most three decimals, no trailing zeros (2, 0.5, 0.3).
func formatNumber(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strconv.FormatFloat(roundMillis(v), 'f', -1, 64)
}
