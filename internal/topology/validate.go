package topology

import (
	"math"
	"net"
	"strconv"
	"strings"
	"unicode"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// ValidateReplicaSet returns every error and warning for a normalized
// replica set, each on its attribute path in the provider's notation
// (`members["db-3"].priority`). The rules mirror the checks mongod applies
// to a replSetReconfig document, so a plan that passes here is one MongoDB
// accepts, plus the topology rules of DESIGN §5:
//
//   - at most 50 members and at most 7 voters (MongoDB's limits);
//   - votes is 0 or 1; priority is within 0–1000;
//   - arbiters, hidden, delayed and non-voting members have priority 0,
//     because MongoDB must never elect them (an arbiter has no data, a
//     hidden member is invisible to clients, a delayed member is behind,
//     and a non-voting member cannot take part in the election it would
//     win); arbiters vote and carry no tags;
//   - a delayed member is hidden, so no client ever reads its stale data;
//   - hosts are host:port and unique (case-insensitively): two members on
//     one mongod would be one failure domain counted twice;
//   - at least one member is electable, or the set never has a primary;
//   - an arbiter does not share a site with data-bearing members: its vote
//     exists to break the tie between the data sites, and it cannot do
//     that from inside one of them;
//   - with require_site_fault_tolerance (the default), losing any single
//     site still leaves a voting majority and an electable member. These
//     errors are on field "members": the fix is to add or move members,
//     not to change one member's attributes.
//
// Warnings (Analyze's) never block a write: an even voter count, more than
// one arbiter, a primary-secondary-arbiter layout, equal top priorities
// in different sites.
func ValidateReplicaSet(rs api.ReplicaSet) api.Problems {
	var p api.Problems
	api.CheckName(&p, "name", rs.Name)
	if rs.Engine != "" && rs.Engine != api.EngineMongoDB {
		p.Add("engine", "%q is not a supported engine: set engine = %q (the only engine today) or omit it", rs.Engine, api.EngineMongoDB)
	}
	ms := sortedMembers(rs.Members)
	if len(ms) == 0 {
		p.Add("members", "is required: declare at least one member, e.g. members = { db-1 = { host = \"db-1.example.org:27017\", site = \"dc1\" } }")
		return p
	}
	defer func() {
		// Every problem on "members" as a whole reads the set-wide inputs.
		for i := range p {
			if p[i].Field == "members" {
				p[i].Read(setWideReads...)
			}
		}
	}()
	if len(ms) > MaxMembers {
		p.Add("members", "%d members, but MongoDB allows at most %d in a replica set: remove %d member(s) or split the data over several replica sets (shards)", len(ms), MaxMembers, len(ms)-MaxMembers)
	}
	voters := 0
	for _, m := range ms {
		if m.voter {
			voters++
		}
	}
	if voters > MaxVotingMembers {
		p.Add("members", "%d voting members, but MongoDB allows at most %d voters: set votes = 0 and priority = 0 on %d member(s)", voters, MaxVotingMembers, voters-MaxVotingMembers)
	}

	for _, m := range ms {
		validateMember(&p, m)
	}
	checkHosts(&p, ms)
	checkArbiterSites(&p, ms)

	electable := false
	for _, m := range ms {
		electable = electable || m.electable
	}
	if !electable {
		p.Add("members", "no member can become primary, so the replica set could never accept writes: give at least one data-bearing, voting member that is neither hidden nor delayed a priority above 0")
	} else if api.Bool(rs.RequireSiteFaultTolerance, true) {
		checkSiteLoss(&p, ms, voters)
	}

	requireWrites := api.Bool(rs.RequireMajorityWritesAfterSiteLoss, api.DefaultRequireMajorityWritesAfterSiteLoss)
	if requireWrites {
		for _, detail := range writeLossFindings(ms, voters) {
			p.Add("members", "%s; or set require_majority_writes_after_site_loss = false to accept it", detail)
		}
	}
	for _, w := range analysisWarnings(ms, voters, requireWrites) {
		p.Warn(w.Field, "%s", w.Detail).Read(setWideReads...)
	}
	return p
}

// setWideReads are the inputs of the rules that judge the members as a
// whole (voter limits, electability, site loss and Analyze's warnings).
var setWideReads = []string{"members[*].site", "members[*].votes", "members[*].priority", "members[*].arbiter",
	"members[*].hidden", "members[*].secondary_delay_seconds", "require_site_fault_tolerance",
	"require_majority_writes_after_site_loss"}

// validateMember checks one member's own attributes.
func validateMember(p *api.Problems, m member) {
	base := api.MapKey("members", m.name)
	api.CheckName(p, base, m.name)
	if reason := checkHostPort(m.Host); reason != "" {
		p.Add(base+".host", "%s", reason)
	}
	api.CheckName(p, base+".site", m.Site)
	if m.HealthCheck != "" {
		api.CheckName(p, base+".health_check", m.HealthCheck)
	}

	votes := votesOf(m.Member)
	if votes != 0 && votes != 1 {
		p.Add(base+".votes", "is %d, but MongoDB gives a member 0 or 1 vote: set votes = 1 (voting) or votes = 0 (non-voting, then also priority = 0)", votes)
	}
	if m.Arbiter && votes == 0 {
		p.Add(base+".votes", "member %q is an arbiter, so it must vote (an arbiter exists only to vote): set votes = 1 or remove the member", m.name).Read(base + ".arbiter")
	}

	prio := m.priority
	if !(prio >= 0 && prio <= MaxPriority) {
		p.Add(base+".priority", "is %s, outside MongoDB's range 0–%d: set a priority from 0 (never primary) to %d (most preferred)", formatNumber(prio), MaxPriority, MaxPriority)
	}
	n := len(*p)
	defer func() {
		// The priority rules read the member's role; an omitted priority
		// defaults from it (api.Member.DefaultPriority).
		(*p)[n:].Read(base+".arbiter", base+".hidden", base+".secondary_delay_seconds", base+".votes", base+".priority")
	}()
	if prio > 0 || math.IsNaN(prio) {
		if m.Arbiter {
			p.Add(base+".priority", "member %q is an arbiter, so its priority must be 0 (MongoDB never elects an arbiter): set priority = 0 or arbiter = false", m.name)
		}
		if m.Hidden {
			p.Add(base+".priority", "member %q is hidden, so its priority must be 0 (MongoDB never elects a hidden member: clients cannot see it): set priority = 0 or hidden = false", m.name)
		}
		if m.SecondaryDelaySeconds > 0 {
			p.Add(base+".priority", "member %q is delayed (secondary_delay_seconds = %d), so its priority must be 0 (MongoDB never elects a member that is deliberately behind): set priority = 0 or secondary_delay_seconds = 0", m.name, m.SecondaryDelaySeconds)
		}
		if votes == 0 {
			p.Add(base+".priority", "member %q does not vote (votes = 0), so its priority must be 0 (MongoDB requires priority 0 on non-voting members): set priority = 0 or votes = 1", m.name)
		}
	}

	switch d := m.SecondaryDelaySeconds; {
	case d < 0:
		p.Add(base+".secondary_delay_seconds", "is %d, but a delay cannot be negative: set 0 for a member that replicates without delay, or the number of seconds it should lag behind", d)
	case d > MaxSecondaryDelaySeconds:
		p.Add(base+".secondary_delay_seconds", "is %d, over MongoDB's maximum of %d (366 days): set a shorter delay", d, MaxSecondaryDelaySeconds)
	case d > 0 && !m.Hidden:
		p.Add(base+".hidden", "member %q is delayed (secondary_delay_seconds = %d), so it must be hidden, or clients would read data %d seconds old: set hidden = true or secondary_delay_seconds = 0", m.name, d, d)
	}
	if m.Arbiter && m.Hidden {
		p.Add(base+".hidden", "member %q is an arbiter, which holds no data to hide: set hidden = false", m.name)
	}
	if m.Arbiter && m.SecondaryDelaySeconds > 0 {
		p.Add(base+".secondary_delay_seconds", "member %q is an arbiter, which replicates no data to delay: set secondary_delay_seconds = 0", m.name)
	}
	checkTags(p, base, m)
}

// checkTags enforces MongoDB's tag rules. failoverd adds the member's site
// and zone as tags "site" and "zone" (see RenderConfig), so a user tag of
// that name must agree with them; MongoDB rejects any tag on an arbiter.
func checkTags(p *api.Problems, base string, m member) {
	if len(m.Tags) == 0 {
		return
	}
	if m.Arbiter {
		p.Add(base+".tags", "member %q is an arbiter and MongoDB rejects tags on arbiters: remove tags", m.name)
		return
	}
	for _, k := range api.SortedKeys(m.Tags) {
		v := m.Tags[k]
		switch {
		case k == "" || strings.HasPrefix(k, "$"):
			p.Add(api.MapKey(base+".tags", k), "%q is not a usable tag name (MongoDB reserves names starting with '$'): rename the tag", k)
		case k == "site" && v != m.Site:
			p.Add(api.MapKey(base+".tags", k), "is %q but the member's site is %q, and the tag is set from site: remove the tag", v, m.Site).Read(base + ".site")
		case k == "zone" && v != m.Zone:
			p.Add(api.MapKey(base+".tags", k), "is %q but the member's zone is %q, and the tag is set from zone: remove the tag or set zone = %q", v, m.Zone, v).Read(base + ".zone")
		}
	}
}

// checkHostPort returns why host is not a usable "host:port", or "".
func checkHostPort(host string) string {
	const example = `set host = "db-1.example.org:27017" (MongoDB's default port is 27017)`
	if host == "" {
		return "is required: " + example
	}
	h, port, err := net.SplitHostPort(host)
	bad := err != nil || h == "" || strings.ContainsFunc(h, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == '/' || r == '@' || r == ',' || r == '?' || r == '#'
	})
	if bad {
		return strconv.Quote(host) + " is not host:port: " + example
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || strings.HasPrefix(port, "+") {
		return strconv.Quote(host) + " has no valid port (1–65535): " + example
	}
	return ""
}

// isLocalhost reports whether a host:port names the local machine.
func isLocalhost(host string) bool {
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		return false
	}
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// checkHosts reports duplicate hosts, case-insensitively (host names are),
// on the later member in name order, and a mix of localhost and remote
// hosts, which mongod rejects: either all members are local or none is.
func checkHosts(p *api.Problems, ms []member) {
	seen := map[string]string{} // lower-case host → first member
	var local, remote []string
	for _, m := range ms {
		if m.Host == "" {
			continue
		}
		key := strings.ToLower(m.Host)
		if first, dup := seen[key]; dup {
			p.Add(api.MapKey("members", m.name)+".host", "%q is also the host of member %q: every member needs its own mongod, so give member %q a different host:port or remove one of them", m.Host, first, m.name).Read("members[*].host")
		} else {
			seen[key] = m.name
		}
		if checkHostPort(m.Host) != "" {
			continue
		}
		if isLocalhost(m.Host) {
			local = append(local, m.name)
		} else {
			remote = append(remote, m.name)
		}
	}
	if len(local) > 0 && len(remote) > 0 {
		for _, name := range local {
			p.Add(api.MapKey("members", name)+".host", "member %q is on localhost but %s are not, and MongoDB requires either all members or none on localhost: use a host name the other members can reach", name, quoteList(remote)).Read("members[*].host")
		}
	}
}

// checkArbiterSites reports arbiters placed in a site that holds
// data-bearing members.
func checkArbiterSites(p *api.Problems, ms []member) {
	data := map[string][]string{}
	for _, m := range ms {
		if !m.Arbiter {
			data[m.Site] = append(data[m.Site], m.name)
		}
	}
	for _, m := range ms {
		if m.Arbiter && len(data[m.Site]) > 0 {
			p.Add(api.MapKey("members", m.name)+".site", "arbiter %q is in site %q with data-bearing member(s) %s, so losing that site takes the tie-breaking vote with it: move the arbiter to a third site", m.name, m.Site, quoteList(data[m.Site])).
				Read("members[*].site", "members[*].arbiter")
		}
	}
}

// checkSiteLoss reports, on field "members", every site whose loss leaves
// the replica set without a primary.
func checkSiteLoss(p *api.Problems, ms []member, voters int) {
	sites := memberSites(ms)
	votingSites := map[string]bool{}
	for _, m := range ms {
		if m.voter {
			votingSites[m.Site] = true
		}
	}
	majority := Majority(voters)
	for _, site := range sites {
		l := siteLoss(ms, site, voters)
		if l.Survives {
			continue
		}
		if l.VotesLeft < majority {
			fix := "add a voting member (for example an arbiter) in a third site"
			switch {
			case len(votingSites) <= 1:
				fix = "spread the members over three sites (for example two data sites and an arbiter in a third), or set require_site_fault_tolerance = false to accept losing the replica set with its site"
			case len(votingSites) > 2:
				fix = "move voting members out of site " + strconv.Quote(site) + " or add voting members in other sites, so that no single site holds half or more of the votes"
			}
			p.Add("members", "losing site %q removes %d of %d votes; %d left, %d needed: %s", site, l.VotesLost, voters, l.VotesLeft, majority, fix)
			continue
		}
		p.Add("members", "losing site %q leaves %d of %d votes, enough for a majority of %d, but no member that can become primary: add an electable data-bearing member (priority above 0) outside site %q", site, l.VotesLeft, voters, majority, site)
	}
}
