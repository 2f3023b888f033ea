package health

import (
	"errors"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// metrics are the Monitor's Prometheus series. They always exist so the
// probe path has no nil checks; they are exported only when
// MonitorOptions.Registerer is set.
type metrics struct {
	probes   *prometheus.CounterVec   // {type,result}
	local    *prometheus.CounterVec   // {reason}
	duration *prometheus.HistogramVec // {type}
	lag      prometheus.Histogram
	up       *prometheus.GaugeVec // {check,site}
	skipped  prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "failover_probes_total",
			Help: "Health probes run, by check type and result: success, failure (the endpoint's) or local_failure (this node could not probe; not counted against the endpoint).",
		}, []string{"type", "result"}),
		local: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "failover_probe_local_failures_total",
			Help: "Probes that failed because of this node, not the endpoint, by reason: " + strings.Join(LocalReasons, ", ") + ". They make the site's observation unknown, never unhealthy.",
		}, []string{"reason"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "failover_probe_duration_seconds",
			Help:    "Duration of health probes that judged the endpoint (local failures excluded), by check type.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"type"}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "failover_probe_schedule_lag_seconds",
			Help:    "Delay between when a probe was due and when it started.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "failover_check_up",
			Help: "State of a health check as seen from a probing site: 1 healthy, 0 unhealthy, -1 unknown.",
		}, []string{"check", "site"}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "failover_probes_skipped_total",
			Help: "Probes not run because the check's previous probe was still running when they were due.",
		}),
	}
	if reg != nil {
		m.probes = register(reg, m.probes)
		m.local = register(reg, m.local)
		m.duration = register(reg, m.duration)
		m.lag = register(reg, m.lag)
		m.up = register(reg, m.up)
		m.skipped = register(reg, m.skipped)
	}
	// The label set is closed: every reason is exported from the start, so
	// an alert on a rate of local failures has a series to watch.
	for _, r := range LocalReasons {
		m.local.WithLabelValues(r)
	}
	return m
}

// register registers c, or returns the identical collector already
// registered (two Monitors sharing a registry share the series).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err)
	}
	return c
}

// typeMetrics are one check type's series, resolved once per Upsert so a
// probe never looks labels up.
type typeMetrics struct {
	success, failure, local prometheus.Counter
	duration                prometheus.Observer
}

func (m *metrics) forType(typ string) typeMetrics {
	return typeMetrics{
		success:  m.probes.WithLabelValues(typ, "success"),
		failure:  m.probes.WithLabelValues(typ, "failure"),
		local:    m.probes.WithLabelValues(typ, "local_failure"),
		duration: m.duration.WithLabelValues(typ),
	}
}

// upValue maps a state to failover_check_up.
func upValue(state string) float64 {
	switch state {
	case api.StateHealthy:
		return 1
	case api.StateUnhealthy:
		return 0
	}
	return -1
}

// localFailure counts a local probe failure. A reason outside LocalReasons
// (from a prober registered by a test) is counted as "other": the label set
// stays closed whatever a prober returns.
func (m *metrics) localFailure(reason string) {
	if !slices.Contains(LocalReasons, reason) {
		reason = "other"
	}
	m.local.WithLabelValues(reason).Inc()
}
