package topology

import (
	"fmt"
	"slices"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// ReplicaStatus is the live view of a replica set from its members'
// health: up[name] is true when the member's health check is healthy; a
// member without a health_check counts as up (nothing says otherwise).
//
// The set has a majority when the voting members up hold a majority of
// all configured votes — the condition for MongoDB to elect, or keep, a
// primary. ExpectedPrimary is the highest-priority electable member that
// is up (ties: name ascending), set only with a majority. AtRisk is true
// when the set cannot have a primary now (no majority, or no electable
// member up), or when losing any one site that still has members up would
// take the majority or the last electable member up with it.
//
// Members maps every member to "healthy" or "unhealthy". ReplicaSet and
// Since are left zero for the caller.
func ReplicaStatus(rs api.ReplicaSet, up map[string]bool) api.ReplicaSetStatus {
	ms := sortedMembers(rs.Members)
	isUp := func(m member) bool { return m.HealthCheck == "" || up[m.name] }
	st := api.ReplicaSetStatus{Members: make(map[string]string, len(ms))}
	voters := 0
	for _, m := range ms {
		if m.voter {
			voters++
		}
		if !isUp(m) {
			st.Members[m.name] = api.StateUnhealthy
			continue
		}
		st.Members[m.name] = api.StateHealthy
		st.MembersUp++
		if m.voter {
			st.VotesUp++
		}
	}
	majority := Majority(voters)
	st.HasMajority = voters > 0 && st.VotesUp >= majority
	if !st.HasMajority {
		st.AtRisk = true
		return st
	}
	p, ok := pickPrimary(ms, isUp)
	if !ok {
		st.AtRisk = true
		return st
	}
	st.ExpectedPrimary = p.name
	for _, site := range memberSites(ms) {
		left := 0
		hasUp := false
		for _, m := range ms {
			if !isUp(m) {
				continue
			}
			if m.Site == site {
				hasUp = true
			} else if m.voter {
				left++
			}
		}
		if !hasUp {
			continue
		}
		_, electable := pickPrimary(ms, func(m member) bool { return isUp(m) && m.Site != site })
		if left < majority || !electable {
			st.AtRisk = true
			break
		}
	}
	return st
}

// AlignmentWarning returns "" or a warning when a traffic policy's
// preferred site (the site of its priority-1 target) is not where the
// replica set elects its primary: every write would then cross sites, and
// losing the link between them takes the service down although both
// sites are healthy. Equal top priorities in several sites also warn,
// since MongoDB may elect the primary in any of them.
func AlignmentWarning(policyName, policySite string, rs api.ReplicaSet) string {
	ms := sortedMembers(rs.Members)
	sites := topSites(ms)
	if policySite == "" || len(sites) == 0 {
		return ""
	}
	best, _ := pickPrimary(ms, nil)
	switch {
	case len(sites) == 1 && sites[0] == policySite:
		return ""
	case slices.Contains(sites, policySite):
		return fmt.Sprintf("traffic policy %q prefers site %q, but replica set %q gives the same highest priority (%s) to members in sites %s, so MongoDB may elect its primary outside %q: raise the priority of the members in site %q",
			policyName, policySite, rs.Name, formatNumber(best.priority), quoteList(sites), policySite, policySite)
	case len(sites) == 1:
		return fmt.Sprintf("traffic policy %q prefers site %q, but replica set %q elects its primary in site %q (member %q has the highest priority, %s), so every write would cross sites: raise the priority of the members in site %q, or make the policy's priority-1 target one in site %q",
			policyName, policySite, rs.Name, best.Site, best.name, formatNumber(best.priority), policySite, best.Site)
	default:
		return fmt.Sprintf("traffic policy %q prefers site %q, but replica set %q elects its primary in one of sites %s (highest priority %s), so every write would cross sites: raise the priority of the members in site %q",
			policyName, policySite, rs.Name, quoteList(sites), formatNumber(best.priority), policySite)
	}
}
