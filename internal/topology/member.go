package topology

import (
	"math"
	"sort"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// Limits MongoDB enforces on a replica-set configuration.
const (
	// MaxMembers is the most members a replica set may have.
	MaxMembers = 50
	// MaxVotingMembers is the most members that may vote.
	MaxVotingMembers = 7
	// MaxPriority is the highest member priority.
	MaxPriority = 1000
	// MaxSecondaryDelaySeconds is MongoDB's bound on secondaryDelaySecs
	// (366 days).
	MaxSecondaryDelaySeconds = 3600 * 24 * 366
)

// Majority is the number of votes an election needs out of voters voting
// members: a strict majority, floor(voters/2)+1.
func Majority(voters int) int {
	if voters < 0 {
		voters = 0
	}
	return voters/2 + 1
}

// FaultTolerance is how many voting members may be lost while the rest can
// still elect a primary: voters − majority. It is why an even number of
// voters buys nothing: 4 voters tolerate 1 failure, like 3.
func FaultTolerance(voters int) int {
	return max(0, voters-Majority(voters))
}

// votesOf reads a member's votes; nil (not normalized) means the default.
func votesOf(m api.Member) int { return api.Int(m.Votes, api.DefaultVotes) }

// priorityOf reads a member's priority; nil (not normalized) means the
// default for the kind of member.
func priorityOf(m api.Member) float64 {
	if m.Priority == nil {
		return m.DefaultPriority()
	}
	return *m.Priority
}

// IsVoter reports whether a member casts a vote in elections (votes = 1).
func IsVoter(m api.Member) bool { return votesOf(m) == 1 }

// IsElectable reports whether MongoDB could ever elect the member primary:
// it holds data (not an arbiter), votes, is not hidden, replicates without
// delay and has a priority above 0.
func IsElectable(m api.Member) bool {
	p := priorityOf(m)
	return !m.Arbiter && !m.Hidden && IsVoter(m) && m.SecondaryDelaySeconds == 0 &&
		p > 0 && !math.IsNaN(p) && !math.IsInf(p, 0)
}

// member is one member with its name and derived facts.
type member struct {
	name string
	api.Member
	voter     bool
	electable bool
	priority  float64
}

// sortedMembers lists the members in name order.
func sortedMembers(ms map[string]api.Member) []member {
	out := make([]member, 0, len(ms))
	for _, name := range api.SortedKeys(ms) {
		m := ms[name]
		out = append(out, member{
			name:      name,
			Member:    m,
			voter:     IsVoter(m),
			electable: IsElectable(m),
			priority:  priorityOf(m),
		})
	}
	return out
}

// pickPrimary returns the member MongoDB is expected to elect among the
// electable members for which ok returns true (nil ok: all of them).
//
// Tie-break rule: the highest priority wins; among members of equal
// priority the one whose name sorts first (byte-wise ascending) is named.
// MongoDB itself elects whichever equal-priority secondary calls an
// election first with the freshest oplog, which no configuration can
// predict, so the analysis names one representative deterministically
// and reports a warning when tied members sit in different sites.
func pickPrimary(ms []member, ok func(member) bool) (member, bool) {
	var best member
	found := false
	for _, m := range ms { // name order: the first of equals stays
		if !m.electable || (ok != nil && !ok(m)) {
			continue
		}
		if !found || m.priority > best.priority {
			best, found = m, true
		}
	}
	return best, found
}

// topSites returns, sorted, the distinct sites of the electable members
// that share the highest priority.
func topSites(ms []member) []string {
	best, ok := pickPrimary(ms, nil)
	if !ok {
		return nil
	}
	var sites []string
	seen := map[string]bool{}
	for _, m := range ms {
		if m.electable && m.priority == best.priority && !seen[m.Site] {
			seen[m.Site] = true
			sites = append(sites, m.Site)
		}
	}
	sort.Strings(sites)
	return sites
}
