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
	if *u == nil {
		*u = checkUsers{}
	}
	for _, t := range p.Targets {
		for _, c := range t.AllHealthChecks() {
			users := (*u)[c]
			if users == nil {
				users = map[string]struct{}{}
				(*u)[c] = users
			}
			users[p.Name] = struct{}{}
		}
	}
}

// remove forgets p's checks (p as it was indexed).
func (u checkUsers) remove(p api.TrafficPolicy) {
	for _, t := range p.Targets {
		for _, c := range t.AllHealthChecks() {
			delete(u[c], p.Name)
			if len(u[c]) == 0 {
				delete(u, c)
			}
		}
	}
}

// of returns the policies that use check, by name.
func (u checkUsers) of(check string) []string {
	names := make([]string, 0, len(u[check]))
	for n := range u[check] {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
