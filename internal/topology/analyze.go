package topology

import (
	"fmt"
	"strings"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// Analyze computes the quorum analysis of a replica set: voting members,
// majority, fault tolerance, the site MongoDB is expected to elect its
// primary in, what losing each site would do, and the warnings of DESIGN
// §5. It assumes ValidateReplicaSet found no errors, but never panics on
// any input; members with nil Votes or Priority get their defaults.
//
// Site loss: for every site that holds at least one member, the site's
// voting members are removed. The set survives when the remaining votes
// still reach the majority of the configured voters (MongoDB never shrinks
// the majority to the members it can see) and at least one electable
// member remains to be elected. NewPrimary is then the highest-priority
// electable member left; it is empty when the set does not survive, since
// no primary can be elected. MajorityWrites and the write-concern fields
// apply MongoDB's write rules (see writes.go): surviving an election does
// not mean w:"majority" writes can still be acknowledged.
//
// PreferredPrimarySite is the site of the highest-priority electable
// member, or "" when no member is electable.
//
// Tie-break rule, for NewPrimary and PreferredPrimarySite alike: among
// electable members of equal priority, the one whose name sorts first
// (byte-wise ascending) is named. MongoDB elects whichever of them calls
// an election first with the freshest oplog, which no configuration can
// predict, so the analysis names one representative deterministically and
// warns when equal top priorities span several sites.
func Analyze(rs api.ReplicaSet) api.ReplicaAnalysis {
	ms := sortedMembers(rs.Members)
	voters := 0
	for _, m := range ms {
		if m.voter {
			voters++
		}
	}
	a := api.ReplicaAnalysis{
		VotingMembers:  voters,
		Majority:       Majority(voters),
		FaultTolerance: FaultTolerance(voters),
		SiteLoss:       map[string]api.SiteLoss{},
	}
	if p, ok := pickPrimary(ms, nil); ok {
		a.PreferredPrimarySite = p.Site
	}
	wf := writeFactsOf(ms, nil)
	a.DefaultWriteConcern = wf.defaultWriteConcern()
	a.WriteMajority = WriteMajority(wf.voters, wf.dataVoters)
	for _, site := range memberSites(ms) {
		a.SiteLoss[site] = siteLoss(ms, site, voters)
	}
	for _, w := range analysisWarnings(ms, voters, api.Bool(rs.RequireMajorityWritesAfterSiteLoss, api.DefaultRequireMajorityWritesAfterSiteLoss)) {
		a.Warnings = append(a.Warnings, w.Detail)
	}
	return a
}

// memberSites lists, sorted, the distinct sites that hold a member.
func memberSites(ms []member) []string {
	set := map[string]bool{}
	for _, m := range ms {
		set[m.Site] = true
	}
	return api.SortedKeys(set)
}

// siteLoss simulates losing every member of site.
func siteLoss(ms []member, site string, voters int) api.SiteLoss {
	lost := 0
	for _, m := range ms {
		if m.voter && m.Site == site {
			lost++
		}
	}
	l := api.SiteLoss{VotesLost: lost, VotesLeft: voters - lost}
	p, ok := pickPrimary(ms, func(m member) bool { return m.Site != site })
	if ok && l.VotesLeft >= Majority(voters) {
		l.Survives = true
		l.NewPrimary = p.name
	}
	siteWrites(ms, site, &l)
	return l
}

// analysisWarnings are the non-blocking findings, each on field "members".
// They need at least one voter: a set without one is already an error.
// requireWrites: the site losses that keep elections but lose majority
// writes are errors (ValidateReplicaSet), so they are not warned here too.
func analysisWarnings(ms []member, voters int, requireWrites bool) api.Problems {
	var p api.Problems
	if voters == 0 {
		return p
	}
	if !requireWrites {
		for _, detail := range writeLossFindings(ms, voters) {
			p.Warn("members", "%s; or set require_majority_writes_after_site_loss = true to make this an error", detail)
		}
	}
	var arbiters, votingArbiters, dataVoters int
	for _, m := range ms {
		switch {
		case m.Arbiter:
			arbiters++
			if m.voter {
				votingArbiters++
			}
		case m.voter:
			dataVoters++
		}
	}
	majority := Majority(voters)

	// An even number of voters adds a member but no fault tolerance: 4
	// voters need 3 for a majority and so tolerate 1 loss, like 3; and a
	// clean split into two halves leaves neither side a majority.
	if voters%2 == 0 {
		p.Warn("members", "%d voting members is an even number: the majority is %d, so it tolerates %d lost voter(s), no more than %d voters would; add a voting member (for example an arbiter in a third site) or set votes = 0 and priority = 0 on one member", voters, majority, FaultTolerance(voters), voters-1)
	}
	// MongoDB recommends at most one arbiter: arbiters hold no data, so
	// every arbiter that replaces a data-bearing voter weakens durability
	// and majority writes while adding nothing an odd vote count needs.
	if arbiters > 1 {
		p.Warn("members", "%d arbiters: MongoDB recommends at most one arbiter per replica set; replace the others with data-bearing members or remove them", arbiters)
	}
	// Primary-secondary-arbiter: writes with write concern "majority" are
	// acknowledged by data-bearing voters only (w:majority is the smaller
	// of the voting majority and the number of data-bearing voters). When
	// the data-bearing voters are no more than the majority, losing any
	// one of them stalls majority writes (and grows cache pressure under
	// majority read concern) although an election still succeeds.
	if votingArbiters > 0 && dataVoters > 0 && dataVoters <= majority {
		kind := "an arbiter-heavy layout"
		if dataVoters == 2 && votingArbiters == 1 && voters == 3 {
			kind = "a primary-secondary-arbiter (PSA) layout"
		}
		p.Warn("members", "%s: only %d data-bearing voting member(s) against a majority of %d, so writes with write concern \"majority\" stall while any one of them is down; replace an arbiter with a data-bearing member, or accept w:1 writes during an outage", kind, dataVoters, majority)
	}
	// Equal top priorities in different sites: MongoDB may elect the
	// primary in any of them, so it need not be where the traffic goes.
	if sites := topSites(ms); len(sites) > 1 {
		best, _ := pickPrimary(ms, nil)
		p.Warn("members", "the highest priority (%s) is shared by electable members in sites %s, so MongoDB may elect the primary in any of them: give the members of the site that takes the traffic a higher priority", formatNumber(best.priority), quoteList(sites))
	}
	return p
}

// quoteList renders ["a","b","c"] as `"a", "b" and "c"`.
func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	if len(q) <= 1 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}
