package publish

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the manager's: counters, and per-destination gauges read
// from the workers when scraped (the lag grows between attempts).
type metrics struct {
	m        *Manager
	attempts *prometheus.CounterVec
	repairs  *prometheus.CounterVec
	latency  *prometheus.HistogramVec

	inSync, lag, lastSuccess, failures *prometheus.Desc
}

func newMetrics(m *Manager, reg prometheus.Registerer) *metrics {
	labels := []string{"policy", "destination"}
	x := &metrics{
		m: m,
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "failover_publish_attempts_total",
			Help: "Publications to a destination, by outcome (success, failure)."}, []string{"destination", "outcome"}),
		repairs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "failover_publish_repairs_total",
			Help: "Records found changed outside failoverd by reconciliation and written back."}, []string{"destination"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "failover_publish_decision_to_published_seconds",
			Help:    "Time from a decision to its confirmed publication.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}}, []string{"destination"}),
		inSync:      prometheus.NewDesc("failover_publish_in_sync", "1 when the destination holds the newest decision's record set.", labels, nil),
		lag:         prometheus.NewDesc("failover_publish_lag_seconds", "How long the newest decision has waited to be published (0 in sync).", labels, nil),
		lastSuccess: prometheus.NewDesc("failover_publish_last_success_timestamp_seconds", "Time of the last successful publication.", labels, nil),
		failures:    prometheus.NewDesc("failover_publish_failed_attempts", "Failed attempts since the last success.", labels, nil),
	}
	if reg != nil {
		reg.MustRegister(x.attempts, x.repairs, x.latency, x)
	}
	return x
}

func (x *metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- x.inSync
	ch <- x.lag
	ch <- x.lastSuccess
	ch <- x.failures
}

func (x *metrics) Collect(ch chan<- prometheus.Metric) {
	now := x.m.now()
	x.m.mu.Lock()
	ws := make([]*worker, 0, len(x.m.workers))
	for _, w := range x.m.workers {
		ws = append(ws, w)
	}
	x.m.mu.Unlock()
	for _, w := range ws {
		e, st := w.current()
		ps := statusOf(e, st, now)
		l := []string{e.Policy, e.Destination}
		sync := 0.0
		if ps.InSync {
			sync = 1
		}
		ch <- prometheus.MustNewConstMetric(x.inSync, prometheus.GaugeValue, sync, l...)
		ch <- prometheus.MustNewConstMetric(x.lag, prometheus.GaugeValue, ps.LagSeconds, l...)
		ch <- prometheus.MustNewConstMetric(x.failures, prometheus.GaugeValue, float64(ps.Attempts), l...)
		if ps.LastSuccess != nil {
			ch <- prometheus.MustNewConstMetric(x.lastSuccess, prometheus.GaugeValue, float64(ps.LastSuccess.UnixNano())/1e9, l...)
		}
	}
}
