package health

import (
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

func TestAggregate(t *testing.T) {
	now := time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC)
	fresh := func(state string) api.SiteObservation {
		return api.SiteObservation{State: state, LastChecked: now.Add(-5 * time.Second)}
	}
	aged := func(state string, age time.Duration) api.SiteObservation {
		return api.SiteObservation{State: state, LastChecked: now.Add(-age)}
	}
	const (
		h = api.StateHealthy
		d = api.StateUnhealthy
		u = api.StateUnknown
	)
	type sites = map[string]api.SiteObservation
	tests := []struct {
		name       string
		quorum     string
		probeSites []string
		sites      sites
		want       string
	}{
		{"no sites", "", nil, nil, u},
		{"one healthy", "", nil, sites{"dc1": fresh(h)}, h},
		{"one unhealthy", "", nil, sites{"dc1": fresh(d)}, d},
		{"only unknown", "", nil, sites{"dc1": fresh(u), "aws": fresh(u)}, u},
		{"never checked does not vote", "", nil, sites{"dc1": {State: h}}, u},
		{"stale does not vote", "", nil, sites{"dc1": aged(h, 31*time.Second)}, u},
		{"exactly 3 intervals is fresh", "", nil, sites{"dc1": aged(d, 30*time.Second)}, d},
		{"future timestamp (clock skew) votes", "", nil, sites{"dc1": aged(d, -2*time.Second)}, d},
		{"stale site outvoted no more", "", nil, sites{"dc1": fresh(h), "aws": aged(d, time.Minute), "gcp": aged(d, time.Minute)}, h},
		{"majority healthy", "majority", nil, sites{"a": fresh(h), "b": fresh(h), "c": fresh(d)}, h},
		{"majority unhealthy", "majority", nil, sites{"a": fresh(h), "b": fresh(d), "c": fresh(d)}, d},
		{"majority tie stays healthy", "majority", nil, sites{"a": fresh(h), "b": fresh(d)}, h},
		{"majority of deciding voters", "majority", nil, sites{"a": fresh(d), "b": fresh(u), "c": fresh(u)}, d},
		{"all needs every voter", "all", nil, sites{"a": fresh(h), "b": fresh(h), "c": fresh(d)}, d},
		{"all healthy", "all", nil, sites{"a": fresh(h), "b": fresh(h), "c": fresh(u)}, h},
		{"any one healthy", "any", nil, sites{"a": fresh(h), "b": fresh(d), "c": fresh(d)}, h},
		{"any none healthy", "any", nil, sites{"a": fresh(d), "b": fresh(d)}, d},
		{"probe_sites restrict voters", "majority", []string{"a"}, sites{"a": fresh(h), "b": fresh(d), "c": fresh(d)}, h},
		{"probe_sites missing site", "majority", []string{"x"}, sites{"a": fresh(h)}, u},
		{"probe_sites duplicates vote once", "majority", []string{"b", "b", "b", "a", "c"}, sites{"a": fresh(h), "b": fresh(d), "c": fresh(h)}, h},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCheck("web", api.CheckHTTP, "192.0.2.10:80", func(c *api.HealthCheck) {
				c.Quorum, c.ProbeSites = tt.quorum, tt.probeSites
			})
			if got := Aggregate(c, tt.sites, now); got != tt.want {
				t.Errorf("Aggregate = %s, want %s", got, tt.want)
			}
		})
	}
}
