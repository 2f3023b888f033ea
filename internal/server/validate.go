package server

import (
	"strings"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/burst"
	"github.com/hatopo/terraform-provider-failover/internal/health"
	"github.com/hatopo/terraform-provider-failover/internal/policy"
	"github.com/hatopo/terraform-provider-failover/internal/topology"
	"github.com/hatopo/terraform-provider-failover/internal/webhook"
)

// validate runs the same rules the provider runs at plan time (the domain
// packages), then what only the server can know: that referenced objects
// exist and that RTO budgets still hold with the stored health checks. It
// returns the blocking problems only; warnings surface in computed fields.
func (s *Server) validate(o api.Object) api.Problems {
	var p api.Problems
	switch x := o.(type) {
	case api.HealthCheck:
		p = health.Validate(x)
		if x.Type == api.CheckCalculated {
			s.validateCalculated(&p, x)
		}
		// Slowing a check down may break the RTO of a policy that uses it.
		for _, pol := range s.engine.PoliciesUsing(x.Name) {
			if pol.RTOSeconds == 0 {
				continue
			}
			for _, e := range topology.CheckRTO(s.engine.Timings(pol, &x), pol.FailoverDelaySeconds,
				api.Int(pol.TTLSeconds, api.DefaultTTLSeconds), pol.RTOSeconds).Errors() {
				p.Add("interval_seconds", "traffic policy %q would break its RTO with this check: %s", pol.Name, e.Detail)
			}
		}
	case api.TrafficPolicy:
		p = policy.Validate(x)
		for _, tn := range api.SortedKeys(x.Targets) {
			t, f := x.Targets[tn], api.MapKey("targets", tn)
			s.checkRefs(&p, f+".health_checks", t.HealthChecks)
			for _, en := range api.SortedKeys(t.Endpoints) {
				s.checkRefs(&p, api.MapKey(f+".endpoints", en)+".health_checks", t.Endpoints[en].HealthChecks)
			}
		}
		if x.BurstToggle != "" && api.ValidName(x.BurstToggle) {
			if _, ok := s.engine.Get(api.KindBurstToggle, x.BurstToggle); !ok {
				p.Add("burst_toggle", "no burst toggle named %q: create it first (failover_burst_toggle) or fix the name", x.BurstToggle)
			}
		}
		if x.ReplicaSet != "" && api.ValidName(x.ReplicaSet) {
			if _, ok := s.engine.Get(api.KindReplicaSet, x.ReplicaSet); !ok {
				p.Add("replica_set", "no replica set named %q: create it first (failover_replica_set) or fix the name", x.ReplicaSet)
			}
		}
		p = append(p, topology.CheckRTO(s.engine.Timings(x, nil), x.FailoverDelaySeconds,
			api.Int(x.TTLSeconds, api.DefaultTTLSeconds), x.RTOSeconds)...)
	case api.ReplicaSet:
		p = topology.ValidateReplicaSet(x)
		if cur, ok := s.engine.Get(api.KindReplicaSet, x.Name); ok {
			p = append(p, topology.CheckReconfig(cur.(api.ReplicaSet), x)...)
		}
		for _, mn := range api.SortedKeys(x.Members) {
			hc := x.Members[mn].HealthCheck
			if hc == "" {
				continue
			}
			if !api.ValidName(hc) {
				p.Add(api.MapKey("members", mn)+".health_check", "%q is not a valid health check name", hc)
			} else if _, ok := s.engine.Get(api.KindHealthCheck, hc); !ok {
				p.Add(api.MapKey("members", mn)+".health_check",
					"no health check named %q: create it first (failover_health_check) or fix the name", hc)
			}
		}
	case api.BurstToggle:
		p = burst.Validate(x)
	case api.Webhook:
		p = webhook.Validate(x)
	default:
		p.Add("", "unsupported object %T", o)
	}
	return dedupeName(p.Errors())
}

// dedupeName drops the domain packages' own "name" problems: decodeObject
// already reported the name once.
func dedupeName(p api.Problems) api.Problems {
	out := p[:0]
	for _, e := range p {
		if e.Field != "name" {
			out = append(out, e)
		}
	}
	return out
}

// checkRefs reports every health check in names (the list at field) that
// does not exist.
func (s *Server) checkRefs(p *api.Problems, field string, names []string) {
	for i, cn := range names {
		if !api.ValidName(cn) {
			continue // policy.Validate reported it
		}
		if _, ok := s.engine.Get(api.KindHealthCheck, cn); !ok {
			p.Add(api.Index(field, i), "no health check named %q: create it first (failover_health_check) or fix the name", cn)
		}
	}
}

// validateCalculated checks what only the stored checks tell about a
// calculated check: every child exists, and no child leads back to it
// (a cycle of calculated checks would never settle).
func (s *Server) validateCalculated(p *api.Problems, x api.HealthCheck) {
	s.checkRefs(p, "child_checks", x.ChildChecks)
	children := func(n string) []string {
		if n == x.Name {
			return x.ChildChecks
		}
		if o, ok := s.engine.Get(api.KindHealthCheck, n); ok {
			return o.(api.HealthCheck).ChildChecks
		}
		return nil
	}
	if cyc := health.FindCycle(x.Name, children); cyc != nil {
		p.Add("child_checks", "would make a cycle of calculated checks: %s, whose state would depend on itself: remove %q from one of their child_checks",
			strings.Join(cyc, " → "), cyc[1])
	}
}
