package engine

import (
	"slices"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// checkUsers indexes the policies that use each health check, so a
// check's state change re-evaluates its own policies instead of scanning
// and sorting every policy: at 10,000 policies the scan took 4–10 ms of
// the engine lock per transition, and a site outage is thousands of
// transitions.
type checkUsers map[string]map[string]struct{}

// add indexes p's checks.
func (u *checkUsers) add(p api.TrafficPolicy) {
	for _, t := range p.Targets {
		u.addRefs(p.Name, t.AllHealthChecks())
	}
}

// remove forgets p's checks (p as it was indexed).
func (u checkUsers) remove(p api.TrafficPolicy) {
	for _, t := range p.Targets {
		u.removeRefs(p.Name, t.AllHealthChecks())
	}
}

// addRefs indexes user as a user of each of refs.
func (u *checkUsers) addRefs(user string, refs []string) {
	if *u == nil {
		*u = checkUsers{}
	}
	for _, c := range refs {
		users := (*u)[c]
		if users == nil {
			users = map[string]struct{}{}
			(*u)[c] = users
		}
		users[user] = struct{}{}
	}
}

// removeRefs forgets user as a user of each of refs.
func (u checkUsers) removeRefs(user string, refs []string) {
	for _, c := range refs {
		delete(u[c], user)
		if len(u[c]) == 0 {
			delete(u, c)
		}
	}
}

// of returns the users of check (policies, or for calcParents the
// calculated checks), by name.
func (u checkUsers) of(check string) []string {
	names := make([]string, 0, len(u[check]))
	for n := range u[check] {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
