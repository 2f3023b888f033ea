package webhook

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	d          *Dispatcher
	deliveries *prometheus.CounterVec
	dropped    *prometheus.CounterVec
	latency    prometheus.Histogram

	lag, lastSuccess, failures *prometheus.Desc
}

func newMetrics(d *Dispatcher, reg prometheus.Registerer) *metrics {
	x := &metrics{
		d: d,
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "failover_webhook_deliveries_total",
			Help: "Webhook delivery attempts, by outcome (success, failure)."}, []string{"webhook", "outcome"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "failover_webhook_dropped_events_total",
			Help: "Events a webhook never received because its queue overflowed (oldest first)."}, []string{"webhook"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "failover_webhook_event_to_delivered_seconds",
			Help:    "Time from an event to its acknowledged delivery.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}}),
		lag:         prometheus.NewDesc("failover_webhook_lag_seconds", "Age of the oldest event waiting for the receiver (0 when none).", []string{"webhook"}, nil),
		lastSuccess: prometheus.NewDesc("failover_webhook_last_success_timestamp_seconds", "Time of the last acknowledged delivery.", []string{"webhook"}, nil),
		failures:    prometheus.NewDesc("failover_webhook_failed_attempts", "Failed attempts since the last acknowledged delivery.", []string{"webhook"}, nil),
	}
	if reg != nil {
		reg.MustRegister(x.deliveries, x.dropped, x.latency, x)
	}
	return x
}

func (x *metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- x.lag
	ch <- x.lastSuccess
	ch <- x.failures
}

func (x *metrics) Collect(ch chan<- prometheus.Metric) {
	now := x.d.now()
	x.d.mu.Lock()
	ws := make([]*worker, 0, len(x.d.workers))
	for _, w := range x.d.workers {
		ws = append(ws, w)
	}
	x.d.mu.Unlock()
	for _, w := range ws {
		_, st, oldest := w.snapshot()
		lag := 0.0
		if !oldest.IsZero() {
			lag = max(now.Sub(oldest).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(x.lag, prometheus.GaugeValue, lag, w.name)
		ch <- prometheus.MustNewConstMetric(x.failures, prometheus.GaugeValue, float64(st.Attempts), w.name)
		if st.LastSuccess != nil {
			ch <- prometheus.MustNewConstMetric(x.lastSuccess, prometheus.GaugeValue, float64(st.LastSuccess.UnixNano())/1e9, w.name)
		}
	}
}
