package cluster

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

var (
	isLeaderDesc = prometheus.NewDesc("failover_cluster_is_leader",
		"1 while this node is the leader (evaluates policies and writes decisions), 0 otherwise.", nil, nil)
	leaderDesc = prometheus.NewDesc("failover_cluster_leader",
		"1 for the site whose node leads, 0 for every other member site, as this node sees it.", []string{"site"}, nil)
	membersDesc = prometheus.NewDesc("failover_cluster_members",
		"Sites whose failoverd is alive (fresh), as this node sees them.", nil, nil)
	freshDesc = prometheus.NewDesc("failover_site_vote_fresh",
		"1 while a site's failoverd is alive, so its observations vote; 0 once it is gone.", []string{"site"}, nil)
	ageDesc = prometheus.NewDesc("failover_site_vote_age_seconds",
		"Time since a site's failoverd was last seen alive: 0 while it is, growing once it is gone.", []string{"site"}, nil)
	raftMovesDesc = prometheus.NewDesc("failover_cluster_raft_leader_moves_total",
		"Times this node, leading, moved etcd's raft leadership off its own site's etcd member (result ok), or tried and failed (result error), so that losing one site never loses both leaders.", []string{"result"}, nil)
	contactDesc = prometheus.NewDesc("failover_store_in_contact",
		"1 while this node reaches the store's majority; 0 while it is cut off (it then fails static and refuses writes).", nil, nil)
)

// collector exports a Node's status at scrape time, so the metrics can
// never disagree with /v1/cluster.
type collector struct {
	node Node
	now  func() time.Time
}

// RegisterMetrics exports n's role, leader, members, site freshness and
// store contact.
func RegisterMetrics(reg prometheus.Registerer, n Node) {
	if reg != nil {
		reg.MustRegister(collector{node: n, now: time.Now})
	}
}

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{isLeaderDesc, leaderDesc, membersDesc, freshDesc, ageDesc, contactDesc, raftMovesDesc} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	st := c.node.Status()
	now := c.now()
	ch <- prometheus.MustNewConstMetric(isLeaderDesc, prometheus.GaugeValue, boolValue(st.Role == api.RoleLeader))
	ch <- prometheus.MustNewConstMetric(contactDesc, prometheus.GaugeValue, boolValue(st.Store.InContact))
	fresh := 0
	for _, m := range st.Members {
		leads := st.Leader != nil && st.Leader.Site == m.Site
		ch <- prometheus.MustNewConstMetric(leaderDesc, prometheus.GaugeValue, boolValue(leads), m.Site)
		ch <- prometheus.MustNewConstMetric(freshDesc, prometheus.GaugeValue, boolValue(m.Fresh), m.Site)
		age := 0.0
		if !m.Fresh && m.LastSeen != nil {
			age = now.Sub(*m.LastSeen).Seconds()
		}
		ch <- prometheus.MustNewConstMetric(ageDesc, prometheus.GaugeValue, age, m.Site)
		if m.Fresh {
			fresh++
		}
	}
	ch <- prometheus.MustNewConstMetric(membersDesc, prometheus.GaugeValue, float64(fresh))
	if e, ok := c.node.(*Etcd); ok {
		ch <- prometheus.MustNewConstMetric(raftMovesDesc, prometheus.CounterValue, float64(e.moves.Load()), "ok")
		ch <- prometheus.MustNewConstMetric(raftMovesDesc, prometheus.CounterValue, float64(e.moveFailures.Load()), "error")
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
