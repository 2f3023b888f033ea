package health

import (
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// staleIntervals is how many intervals a site's last observation may age
// before the site stops voting (DESIGN §4.3): long enough to ride out a
// skipped probe or two, short enough that a partitioned failoverd cannot
// keep a dead endpoint "healthy".
const staleIntervals = 3

// Aggregate is a check's overall state from the probing sites'
// observations.
//
// Voters are the sites in probe_sites (all sites present in sites when
// probe_sites is empty) whose observation is fresh: LastChecked within
// 3 × interval_seconds of now. Stale and missing sites do not vote, and a
// voter still "unknown" abstains. With no deciding voter the answer is
// "unknown". Otherwise the check's quorum decides:
//
//   - any: healthy if at least one voter sees it healthy;
//   - all: healthy only if no voter sees it unhealthy;
//   - majority (default): healthy unless more than half of the deciding
//     voters see it unhealthy. A tie stays healthy: an endpoint that answers
//     one site is serving, and failing over on a split vote would move
//     traffic away because of one site's network trouble (Route 53 likewise
//     needs only a minority of checkers to call an endpoint healthy).
func Aggregate(c api.HealthCheck, sites map[string]api.SiteObservation, now time.Time) string {
	interval := c.IntervalSeconds
	if !(interval > 0) || interval > maxSeconds {
		interval = api.DefaultIntervalSeconds
	}
	maxAge := time.Duration(staleIntervals * interval * float64(time.Second))

	var healthy, unhealthy int
	vote := func(o api.SiteObservation, ok bool) {
		if !ok || o.LastChecked.IsZero() || now.Sub(o.LastChecked) > maxAge {
			return
		}
		switch o.State {
		case api.StateHealthy:
			healthy++
		case api.StateUnhealthy:
			unhealthy++
		}
	}
	if len(c.ProbeSites) == 0 {
		for _, o := range sites {
			vote(o, true)
		}
	} else {
		seen := make(map[string]bool, len(c.ProbeSites))
		for _, s := range c.ProbeSites {
			if seen[s] {
				continue
			}
			seen[s] = true
			o, ok := sites[s]
			vote(o, ok)
		}
	}

	decided := healthy + unhealthy
	if decided == 0 {
		return api.StateUnknown
	}
	var up bool
	switch c.Quorum {
	case api.QuorumAny:
		up = healthy > 0
	case api.QuorumAll:
		up = unhealthy == 0
	default:
		up = 2*unhealthy <= decided
	}
	if up {
		return api.StateHealthy
	}
	return api.StateUnhealthy
}
