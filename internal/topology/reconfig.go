package topology

import (
	"fmt"
	"strings"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// VoterChanges lists, sorted, the members that gain a vote (added, or
// votes 0 → 1) and those that lose one (removed, or votes 1 → 0) from old
// to next.
func VoterChanges(old, next map[string]api.Member) (added, removed []string) {
	for _, n := range api.SortedKeys(next) {
		if IsVoter(next[n]) {
			if m, ok := old[n]; !ok || !IsVoter(m) {
				added = append(added, n)
			}
		}
	}
	for _, n := range api.SortedKeys(old) {
		if IsVoter(old[n]) {
			if m, ok := next[n]; !ok || !IsVoter(m) {
				removed = append(removed, n)
			}
		}
	}
	return added, removed
}

// CheckReconfig refuses an update of a replica set that adds or removes
// more than one voting member at once. MongoDB's replSetReconfig (4.4+)
// accepts at most one voter change per reconfiguration and refuses more
// unless forced, and a forced reconfiguration can roll back
// majority-committed writes. The error lists the safe sequence: one apply
// per voter, additions first so fault tolerance never drops on the way.
func CheckReconfig(old, next api.ReplicaSet) api.Problems {
	var p api.Problems
	if len(old.Members) == 0 {
		return p // nothing running yet: rs.initiate() takes any valid set
	}
	added, removed := VoterChanges(old.Members, next.Members)
	if len(added)+len(removed) <= 1 {
		return p
	}
	var steps []string
	for _, n := range added {
		steps = append(steps, fmt.Sprintf("add the vote of %q", n))
	}
	for _, n := range removed {
		steps = append(steps, fmt.Sprintf("remove the vote of %q", n))
	}
	for i := range steps {
		steps[i] = fmt.Sprintf("%d. %s", i+1, steps[i])
	}
	var what []string
	if len(added) > 0 {
		what = append(what, fmt.Sprintf("adds %d voting member(s) (%s)", len(added), quoteList(added)))
	}
	if len(removed) > 0 {
		what = append(what, fmt.Sprintf("removes %d (%s)", len(removed), quoteList(removed)))
	}
	p.Add("members", "this change %s, but MongoDB's replSetReconfig adds or removes at most one voting member per reconfiguration (more needs force, which can roll back majority-committed writes): apply it in %d steps, one apply each, waiting for each reconfiguration to commit: %s. (A new member can also join with votes = 0 and priority = 0 and get its vote in a later apply.)",
		strings.Join(what, " and "), len(steps), strings.Join(steps, "; ")).Read("members[*].votes", "members[*].arbiter")
	return p
}
