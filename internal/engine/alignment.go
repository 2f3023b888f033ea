package engine

import (
	"fmt"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/topology"
)

// expectedPrimarySiteLocked is the site where a replica set is expected
// to have its primary now: the live status's expected primary (from the
// members' health checks), or the configured preferred site before any
// status exists. "" when none can be elected.
func (e *Engine) expectedPrimarySiteLocked(name string) string {
	rs, ok := e.replicaSets[name]
	if !ok {
		return ""
	}
	if st, ok := e.rsStatus[name]; ok {
		if !st.HasMajority || st.ExpectedPrimary == "" {
			return ""
		}
		return rs.Members[st.ExpectedPrimary].Site
	}
	return topology.Analyze(rs).PreferredPrimarySite
}

// checkAlignmentLocked compares what a policy serves with its replica
// set's expected primary site. The write-time warning only judges the
// configuration; this is the runtime truth after a failover, a failback
// or a database election: while the policy serves no target in that site,
// every write crosses sites. A change is an event (on the leader, which
// owns events about decisions) and the gauge
// failover_policy_primary_misaligned follows on every node.
func (e *Engine) checkAlignmentLocked(name string, now time.Time) {
	p, ok := e.policies[name]
	if !ok || p.ReplicaSet == "" {
		return
	}
	rt := e.runtime[name]
	want := e.expectedPrimarySiteLocked(p.ReplicaSet)
	var served []string
	aligned := true
	if rt != nil && len(rt.Decision.Serving) > 0 && want != "" {
		aligned = false
		for i, s := range rt.Decision.Serving {
			t, ok := p.Targets[s.Target]
			if !ok || (p.Mode == api.ModeActivePassive && i > 0) {
				continue // burst targets do not carry the writes' traffic
			}
			served = append(served, t.Site)
			aligned = aligned || t.Site == want
		}
	}
	v := 0.0
	if !aligned {
		v = 1
	}
	e.metrics.misaligned.WithLabelValues(name).Set(v)
	prev, was := e.misaligned[name]
	switch {
	case !aligned && (!was || prev != want):
		e.misaligned[name] = want
		if e.leading {
			msg := fmt.Sprintf("policy %s serves site(s) %v, but replica set %s is expected to have its primary in site %s: every write crosses sites until traffic or the primary moves", name, served, p.ReplicaSet, want)
			e.emitLocked(api.Event{Time: now, Type: api.EventAlignment, Object: objectRef(api.KindTrafficPolicy, name), Message: msg,
				Data: mustJSON(map[string]any{"misaligned": true, "serving_sites": served, "expected_primary_site": want})})
			e.log.Warn("policy serves away from the database primary", "policy", name, "serving_sites", served, "replica_set", p.ReplicaSet, "expected_primary_site", want)
		}
	case aligned && was:
		delete(e.misaligned, name)
		if e.leading {
			e.emitLocked(api.Event{Time: now, Type: api.EventAlignment, Object: objectRef(api.KindTrafficPolicy, name),
				Message: fmt.Sprintf("policy %s serves the site of replica set %s's expected primary again", name, p.ReplicaSet),
				Data:    mustJSON(map[string]any{"misaligned": false})})
		}
	}
}
