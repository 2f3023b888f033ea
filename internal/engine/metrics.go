package engine

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

type metrics struct {
	checkUp         *prometheus.GaugeVec
	decisionChanges *prometheus.CounterVec
	decisionLatency prometheus.Histogram
	serving         *prometheus.GaugeVec
	burstEngaged    *prometheus.GaugeVec
	eventsDropped   *prometheus.CounterVec
	rsAtRisk        *prometheus.GaugeVec
	rsMajority      *prometheus.GaugeVec
	misaligned      *prometheus.GaugeVec
	noProber        *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		checkUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "failover_check_state",
			Help: "Overall state of a health check across probing sites: 1 healthy, 0 unhealthy, -1 unknown.",
		}, []string{"check"}),
		decisionChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "failover_decision_changes_total",
			Help: "Times a traffic policy changed what it serves (failovers, failbacks, bursts, overrides).",
		}, []string{"policy"}),
		decisionLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "failover_decision_latency_seconds",
			Help:    "From the observation that triggered a decision change to the decision.",
			Buckets: []float64{.0001, .0005, .001, .005, .01, .05, .1, .5, 1, 5, 30, 60, 300},
		}),
		serving: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "failover_policy_serving_targets",
			Help: "Number of targets a policy serves now (0 = fallback or fail_closed).",
		}, []string{"policy"}),
		burstEngaged: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "failover_burst_engaged",
			Help: "Effective state of a burst toggle: 1 engaged, 0 released.",
		}, []string{"toggle"}),
		rsAtRisk: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "failover_replica_set_at_risk",
			Help: "1 while a replica set would lose its voting majority if one more site were lost (live, from its members' health checks).",
		}, []string{"replica_set"}),
		rsMajority: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "failover_replica_set_has_majority",
			Help: "1 while a replica set's healthy voting members hold a majority, 0 when they do not (no primary can be elected).",
		}, []string{"replica_set"}),
		eventsDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "failover_events_dropped_total",
			Help: "Events dropped before reaching the store because commits kept failing (e.g. a full disk) and the queue was full; kind is runtime or audit.",
		}, []string{"kind"}),
		noProber: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "failover_check_no_prober",
			Help: "1 while none of a check's probe_sites has a live failoverd, so nothing probes it and its state is unknown; 0 otherwise.",
		}, []string{"check"}),
		misaligned: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "failover_policy_primary_misaligned",
			Help: "1 while a policy serves no target in the site where its replica set is expected to have its primary (every write crosses sites), 0 otherwise; only policies with a replica_set.",
		}, []string{"policy"}),
	}
	// Both series from the start, so a rate() never starts from nothing.
	m.eventsDropped.WithLabelValues("runtime")
	m.eventsDropped.WithLabelValues("audit")
	if reg != nil {
		reg.MustRegister(m.checkUp, m.decisionChanges, m.decisionLatency, m.serving, m.burstEngaged, m.eventsDropped, m.rsAtRisk, m.rsMajority, m.misaligned, m.noProber)
	}
	return m
}

func (m *metrics) checkState(check, state string) {
	v := -1.0
	switch state {
	case api.StateHealthy:
		v = 1
	case api.StateUnhealthy:
		v = 0
	}
	m.checkUp.WithLabelValues(check).Set(v)
}

func (m *metrics) decision(policy string, change bool, latency time.Duration, serving int) {
	if change {
		m.decisionChanges.WithLabelValues(policy).Inc()
		m.decisionLatency.Observe(latency.Seconds())
	}
	m.serving.WithLabelValues(policy).Set(float64(serving))
}

func (m *metrics) replicaSet(name string, st api.ReplicaSetStatus) {
	m.rsAtRisk.WithLabelValues(name).Set(boolGauge(st.AtRisk))
	m.rsMajority.WithLabelValues(name).Set(boolGauge(st.HasMajority))
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (m *metrics) burst(toggle string, on bool) {
	v := 0.0
	if on {
		v = 1
	}
	m.burstEngaged.WithLabelValues(toggle).Set(v)
}

func (m *metrics) forget(kind api.Kind, name string) {
	switch kind {
	case api.KindHealthCheck:
		m.checkUp.DeleteLabelValues(name)
		m.noProber.DeleteLabelValues(name)
	case api.KindTrafficPolicy:
		m.serving.DeleteLabelValues(name)
		m.decisionChanges.DeleteLabelValues(name)
		m.misaligned.DeleteLabelValues(name)
	case api.KindBurstToggle:
		m.burstEngaged.DeleteLabelValues(name)
	case api.KindReplicaSet:
		m.rsAtRisk.DeleteLabelValues(name)
		m.rsMajority.DeleteLabelValues(name)
	}
}
