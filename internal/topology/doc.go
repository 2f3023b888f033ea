// Package topology is the pure domain logic of replica-set topologies and
// failover budgets: MongoDB's quorum and election rules, the simulation of
// losing one site, the replSetReconfig document, and the recovery-time
// arithmetic of traffic policies.
//
// It does no I/O and holds no state, so failoverd (on every write) and the
// Terraform provider (at plan time) call the very same functions: a rule
// checked in one place can never disagree with the other. Every result is
// independent of Go's map iteration order: members are always visited in
// name order (api.SortedKeys).
//
// # MongoDB's election rules, in short
//
// A replica set has one primary. A member becomes primary only when it wins
// an election, and an election needs the votes of a strict majority of the
// voting members (floor(voters/2)+1) — of all configured voters, not of the
// ones still reachable. That is why a partition or the loss of a site that
// holds half or more of the votes leaves the survivors read-only: they can
// never assemble a majority. An arbiter holds no data and can never become
// primary; it exists only to add a vote, which is how two data centers of
// equal size plus an arbiter in a third tolerate the loss of any one of
// them (the OrderGroove layout). Only electable members can become primary:
// data-bearing, voting, not hidden, not delayed, priority above 0. Among the
// electable members that can see a majority, the one with the highest
// priority wins (a lower-priority primary steps down for a reachable,
// caught-up higher-priority member), so priorities are how a topology keeps
// its primary next to the traffic.
package topology
