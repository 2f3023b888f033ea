package dnsserver

import (
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// Why a packet got no answer (failover_dns_dropped_total{reason}).
const (
	dropMalformed = "malformed" // shorter than a header
	dropResponse  = "response"  // QR set: never answer an answer
	dropOversized = "oversized" // larger than MaxQuerySize
	dropTCPLimit  = "tcp_limit" // a TCP connection closed to admit a new one (MaxTCPConns, MaxTCPConnsPerSource)
)

// Query types and rcodes get their own label value; everything else is
// "other", so a scan of random types cannot blow up the series count.
var (
	qtypeLabels = []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeCNAME, dns.TypeSOA, dns.TypeNS, dns.TypeANY, dns.TypeTXT,
		dns.TypeMX, dns.TypeSRV, dns.TypePTR, dns.TypeHTTPS, dns.TypeSVCB, dns.TypeCAA, dns.TypeDS, dns.TypeDNSKEY,
		dns.TypeAXFR, dns.TypeIXFR}
	rcodeLabels = []int{dns.RcodeSuccess, dns.RcodeFormatError, dns.RcodeServerFailure, dns.RcodeNameError,
		dns.RcodeNotImplemented, dns.RcodeRefused, dns.RcodeBadVers}
)

type metrics struct {
	queries   *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	dropped   *prometheus.CounterVec
	truncated prometheus.Counter
	// cells caches the counter of each (qtype, rcode) pair: a label
	// lookup per query costs more than the rest of a fast answer.
	cells [][]atomic.Pointer[prometheus.Counter]
	udp   prometheus.Observer
	tcp   prometheus.Observer
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "failover_dns_queries_total",
			Help: "DNS queries answered, by query type and response code.",
		}, []string{"qtype", "rcode"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "failover_dns_request_duration_seconds",
			Help:    "Time from reading a DNS query to writing its answer.",
			Buckets: []float64{.00001, .000025, .00005, .0001, .00025, .0005, .001, .0025, .005, .01, .05},
		}, []string{"transport"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "failover_dns_dropped_total",
			Help: "DNS packets or connections dropped without an answer, by reason.",
		}, []string{"reason"}),
		truncated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "failover_dns_truncated_total",
			Help: "UDP answers too large for the client, sent empty with TC set (the client retries over TCP).",
		}),
	}
	m.cells = make([][]atomic.Pointer[prometheus.Counter], len(qtypeLabels)+1)
	for i := range m.cells {
		m.cells[i] = make([]atomic.Pointer[prometheus.Counter], len(rcodeLabels)+1)
	}
	m.udp = m.duration.WithLabelValues("udp")
	m.tcp = m.duration.WithLabelValues("tcp")
	for _, r := range []string{dropMalformed, dropResponse, dropOversized, dropTCPLimit} {
		m.dropped.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.queries, m.duration, m.dropped, m.truncated)
	}
	return m
}

func (m *metrics) observe(res outcome, tcp bool, start time.Time) {
	m.observeTook(res, tcp, time.Since(start))
}

// observeTook is observe with the duration measured: a batch of UDP
// answers reads the clock once.
func (m *metrics) observeTook(res outcome, tcp bool, took time.Duration) {
	if res.drop != "" {
		m.dropped.WithLabelValues(res.drop).Inc()
		return
	}
	qi, ri := len(qtypeLabels), len(rcodeLabels)
	for i, t := range qtypeLabels {
		if t == res.qtype {
			qi = i
			break
		}
	}
	for i, r := range rcodeLabels {
		if r == res.rcode {
			ri = i
			break
		}
	}
	cell := &m.cells[qi][ri]
	c := cell.Load()
	if c == nil {
		qt, rc := "other", "other"
		if qi < len(qtypeLabels) {
			qt = dns.TypeToString[qtypeLabels[qi]]
		}
		if ri < len(rcodeLabels) {
			rc = dns.RcodeToString[rcodeLabels[ri]]
		}
		counter := m.queries.WithLabelValues(qt, rc)
		c = &counter
		cell.Store(c)
	}
	(*c).Inc()
	if res.truncated {
		m.truncated.Inc()
	}
	if tcp {
		m.tcp.Observe(took.Seconds())
	} else {
		m.udp.Observe(took.Seconds())
	}
}
