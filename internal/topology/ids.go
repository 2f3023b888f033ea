package topology

import "github.com/hatopo/terraform-provider-failover/internal/api"

// AssignMemberIDs returns the replSetConfig _id of every member. MongoDB
// identifies a member by its _id across reconfigurations, so an _id must
// stay with its member for as long as the member exists: each member
// present in prev keeps its id, whatever the order or content of the
// declaration. New members, taken in name order, get the smallest ids not
// in use; ids of members no longer present are free for reuse.
//
// Ids in prev that MongoDB could not accept (negative) or that two
// members claim (a corrupted record) are not kept: the claim of the member
// whose name sorts first wins and the other is treated as new.
func AssignMemberIDs(prev map[string]int, members map[string]api.Member) map[string]int {
	ids := make(map[string]int, len(members))
	used := map[int]bool{}
	names := api.SortedKeys(members)
	var fresh []string
	for _, name := range names {
		id, ok := prev[name]
		if ok && id >= 0 && !used[id] {
			ids[name] = id
			used[id] = true
			continue
		}
		fresh = append(fresh, name)
	}
	next := 0
	for _, name := range fresh {
		for used[next] {
			next++
		}
		ids[name] = next
		used[next] = true
	}
	return ids
}
