package topology

import (
	"fmt"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

var sprintf = fmt.Sprintf

// MongoDB's write rules, in short (MongoDB ≥ 5.0, "Default MongoDB Read
// Concerns/Write Concerns" and "Write Concern" in the manual):
//
//   - A w:"majority" write is acknowledged by data-bearing voting members
//     only (arbiters hold no data). The number it needs, the write
//     majority, is the smaller of the voting majority and the number of
//     data-bearing voting members.
//   - The implicit default write concern — what a write without an
//     explicit write concern gets — is
//     if (#arbiters > 0) and (#data-bearing voters <= majority(#voters)) then w:1 else w:"majority".
//     So primary-secondary-arbiter (2 data + 1 arbiter) defaults to w:1,
//     while 4 data + 1 arbiter defaults to w:"majority" and needs 3
//     acknowledgements.
//   - Losing a site changes no configuration: the write majority and the
//     implicit default stay what they were. Writes with w:"majority" then
//     block (or time out with wtimeout) until enough data-bearing voters
//     return, and the majority commit point — what majority reads and
//     change streams see — stops advancing, although an election may
//     still succeed thanks to an arbiter's vote.
//   - A delayed member can acknowledge no earlier than its delay, so it
//     is not counted as one that keeps majority writes timely.

// writeFacts are the write-concern inputs of a set of members.
type writeFacts struct {
	voters     int // voting members
	arbiters   int // arbiters (they always vote, see ValidateReplicaSet)
	dataVoters int // data-bearing voting members
	ackers     int // data-bearing voting members that acknowledge without delay
}

func writeFactsOf(ms []member, keep func(member) bool) writeFacts {
	var f writeFacts
	for _, m := range ms {
		if keep != nil && !keep(m) {
			continue
		}
		if m.Arbiter {
			f.arbiters++
		}
		if !m.voter {
			continue
		}
		f.voters++
		if !m.Arbiter {
			f.dataVoters++
			if m.SecondaryDelaySeconds == 0 {
				f.ackers++
			}
		}
	}
	return f
}

// WriteMajority is the number of data-bearing voting members a
// w:"majority" write needs: min(majority(voters), dataVoters).
func WriteMajority(voters, dataVoters int) int {
	return min(Majority(voters), max(0, dataVoters))
}

// DefaultWriteConcern is MongoDB's implicit default write concern for a
// configuration with the given arbiters, data-bearing voting members and
// voting members: w:1 when there is an arbiter and the data-bearing voters
// are no more than the voting majority, w:"majority" otherwise.
func DefaultWriteConcern(arbiters, dataVoters, voters int) string {
	if arbiters > 0 && dataVoters <= Majority(voters) {
		return api.WriteConcernW1
	}
	return api.WriteConcernMajority
}

func (f writeFacts) defaultWriteConcern() string {
	if f.voters == 0 {
		return "" // nothing can be written
	}
	return DefaultWriteConcern(f.arbiters, f.dataVoters, f.voters)
}

// siteWrites fills the write-related fields of l, the loss of site.
func siteWrites(ms []member, site string, l *api.SiteLoss) {
	all := writeFactsOf(ms, nil)
	left := writeFactsOf(ms, func(m member) bool { return m.Site != site })
	need := WriteMajority(all.voters, all.dataVoters)
	l.DataVotersLeft = left.ackers
	l.WriteConcernBefore = all.defaultWriteConcern()
	l.WriteConcernAfter = left.defaultWriteConcern()
	l.MajorityWrites = l.Survives && need > 0 && left.ackers >= need
	l.CriticalMembers = nil
	if l.MajorityWrites && left.ackers == need {
		// No slack: every surviving acknowledger is needed.
		for _, m := range ms {
			if m.Site != site && m.voter && !m.Arbiter && m.SecondaryDelaySeconds == 0 {
				l.CriticalMembers = append(l.CriticalMembers, m.name)
			}
		}
	}
}

// writeLossFindings explains, for every site whose loss still allows an
// election but no longer lets w:"majority" writes be acknowledged, the
// arithmetic and the fixes. Each finding lacks its last clause (how to
// accept or enforce it), which the caller adds.
func writeLossFindings(ms []member, voters int) []string {
	all := writeFactsOf(ms, nil)
	need := WriteMajority(all.voters, all.dataVoters)
	var out []string
	for _, site := range memberSites(ms) {
		l := siteLoss(ms, site, voters)
		if !l.Survives || l.MajorityWrites {
			continue
		}
		effect := "writes without an explicit write concern (the implicit default here is w:\"majority\") block or fail at their wtimeout, and the majority commit point stops advancing until the site returns"
		if l.WriteConcernBefore == api.WriteConcernW1 {
			effect = "explicit w:\"majority\" writes block and the majority commit point stops advancing; default writes (the implicit default here is w:1) are still acknowledged, by the primary alone, so they can be rolled back"
		}
		out = append(out, sprintf("losing site %q leaves an election possible (%d of %d votes, %d needed) but not w:\"majority\" writes: they need %d acknowledgement(s) from data-bearing voting members (the smaller of the voting majority %d and the %d data-bearing voters) and only %d would be left, so %s; fix: make the arbiter a data-bearing member or put data-bearing voters in a third site, so that losing any one site leaves %d of them",
			site, l.VotesLeft, voters, Majority(voters), need, Majority(voters), all.dataVoters, l.DataVotersLeft, effect, need))
	}
	return out
}
