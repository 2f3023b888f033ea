package health

import (
	"slices"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// MaxChildChecks bounds a calculated check's children.
const MaxChildChecks = 64

// Calculate is a calculated check's state from its children's overall
// states (child returns "" for a child with no state yet, read as
// unknown). It is three-valued, so an unknown child never decides alone:
//
//   - all: healthy when every child is healthy, unhealthy as soon as one
//     is unhealthy, unknown otherwise;
//   - any: healthy as soon as one child is healthy, unhealthy when every
//     child is unhealthy, unknown otherwise;
//   - at_least N: healthy when N children are healthy, unhealthy when N
//     can no longer be reached even if every unknown child turned healthy,
//     unknown otherwise.
//
// Invert then swaps healthy and unhealthy; unknown stays unknown.
func Calculate(c api.HealthCheck, child func(name string) string) string {
	var healthy, unhealthy int
	for _, n := range c.ChildChecks {
		switch child(n) {
		case api.StateHealthy:
			healthy++
		case api.StateUnhealthy:
			unhealthy++
		}
	}
	total := len(c.ChildChecks)
	need := total // all
	switch c.HealthyWhen {
	case api.HealthyWhenAny:
		need = min(1, total)
	case api.HealthyWhenAtLeast:
		need = min(max(c.AtLeast, 0), total)
	}
	state := api.StateUnknown
	switch {
	case total == 0:
	case healthy >= need:
		state = api.StateHealthy
	case total-unhealthy < need:
		state = api.StateUnhealthy
	}
	return InvertState(c, state)
}

// InvertState applies c.Invert to a state.
func InvertState(c api.HealthCheck, state string) string {
	if !c.Invert {
		return state
	}
	switch state {
	case api.StateHealthy:
		return api.StateUnhealthy
	case api.StateUnhealthy:
		return api.StateHealthy
	}
	return state
}

// FindCycle returns a cycle of calculated checks reachable from start, as
// the path n → … → n, or nil. Every write is checked, so once start is
// written any cycle runs through it. children returns a check's child
// checks (nil for a probed or unknown check).
func FindCycle(start string, children func(name string) []string) []string {
	var path []string
	onPath := map[string]bool{}
	done := map[string]bool{}
	var visit func(n string) []string
	visit = func(n string) []string {
		if onPath[n] {
			i := slices.Index(path, n)
			return append(slices.Clone(path[i:]), n)
		}
		if done[n] {
			return nil
		}
		onPath[n] = true
		path = append(path, n)
		for _, c := range children(n) {
			if cyc := visit(c); cyc != nil {
				return cyc
			}
		}
		path = path[:len(path)-1]
		onPath[n] = false
		done[n] = true
		return nil
	}
	return visit(start)
}

// validateCalculated checks a calculated check's own fields; the children
// existing and the absence of cycles need the other checks (the server
// checks them on write).
func validateCalculated(p *api.Problems, c api.HealthCheck) {
	if c.Address != "" {
		p.Add("address", `a calculated check probes nothing, so it has no address: remove address, or set type = "http", "https" or "tcp" to probe it`).Read("type")
	}
	rejectHTTPOnly(p, c, "a calculated check probes nothing")
	n := len(*p)
	defer func() { (*p)[n:].Read("type") }()
	if len(c.ChildChecks) == 0 {
		p.Add("child_checks", `is required for a calculated check: list the checks it combines, e.g. child_checks = ["web-az1", "web-az2"]`)
	}
	if len(c.ChildChecks) > MaxChildChecks {
		p.Add("child_checks", "lists %d checks, more than %d: combine them in levels (a calculated check may be the child of another)", len(c.ChildChecks), MaxChildChecks)
	}
	seen := map[string]int{}
	for i, ch := range c.ChildChecks {
		f := api.Index("child_checks", i)
		api.CheckName(p, f, ch)
		if ch == c.Name && ch != "" {
			p.Add(f, "is the check itself: a calculated check cannot depend on its own state; list other checks").Read("name")
		}
		if j, dup := seen[ch]; dup {
			p.Add(f, "duplicates child_checks[%d] (%q): list each check once", j, ch)
			continue
		}
		seen[ch] = i
	}
	switch c.HealthyWhen {
	case api.HealthyWhenAll, api.HealthyWhenAny:
		if c.AtLeast != 0 {
			p.Add("at_least", `only applies with healthy_when = "at_least", but it is %q: remove at_least or set healthy_when = "at_least"`, c.HealthyWhen).Read("healthy_when")
		}
	case api.HealthyWhenAtLeast:
		if c.AtLeast < 1 || c.AtLeast > max(1, len(c.ChildChecks)) {
			p.Add("at_least", "must be between 1 and the number of child_checks (%d), got %d: how many children must be healthy for the check to be healthy", len(c.ChildChecks), c.AtLeast).Read("healthy_when", "child_checks")
		}
	default:
		p.Add("healthy_when", `%q is not a rule: use "all" (every child healthy), "any" (one is enough) or "at_least" (with at_least = N)`, c.HealthyWhen)
	}
}

// rejectCalculatedOnly refuses the calculated fields on a probed check.
func rejectCalculatedOnly(p *api.Problems, c api.HealthCheck) {
	const only = `applies only to type = "calculated" checks: remove it, or set type = "calculated" (without address) to combine other checks`
	if len(c.ChildChecks) > 0 {
		p.Add("child_checks", only).Read("type")
	}
	if c.HealthyWhen != "" {
		p.Add("healthy_when", only).Read("type")
	}
	if c.AtLeast != 0 {
		p.Add("at_least", only).Read("type")
	}
}
