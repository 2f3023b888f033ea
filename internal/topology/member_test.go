package topology

import (
	"fmt"
	"math"
	"testing"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// opt tweaks a test member.
type opt func(*api.Member)

func prio(p float64) opt    { return func(m *api.Member) { m.Priority = &p } }
func votes(v int) opt       { return func(m *api.Member) { m.Votes = &v } }
func delay(s int) opt       { return func(m *api.Member) { m.SecondaryDelaySeconds = s } }
func zone(z string) opt     { return func(m *api.Member) { m.Zone = z } }
func check(hc string) opt   { return func(m *api.Member) { m.HealthCheck = hc } }
func host(h string) opt     { return func(m *api.Member) { m.Host = h } }
func arbiter(m *api.Member) { m.Arbiter = true }
func hidden(m *api.Member)  { m.Hidden = true }
func tags(kv ...string) opt {
	return func(m *api.Member) {
		m.Tags = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m.Tags[kv[i]] = kv[i+1]
		}
	}
}

// mem is a member in site with host "<name>.example.org:27017" (the name
// is filled in by rs).
func mem(site string, opts ...opt) api.Member {
	m := api.Member{Site: site}
	for _, o := range opts {
		o(&m)
	}
	return m
}

// rs builds a normalized replica set named "orders"; members without a
// host get "<name>.example.org:27017".
func rs(members map[string]api.Member) api.ReplicaSet {
	r := api.ReplicaSet{Name: "orders", Members: map[string]api.Member{}}
	for name, m := range members {
		if m.Host == "" {
			m.Host = name + ".example.org:27017"
		}
		r.Members[name] = m
	}
	r.Normalize()
	return r
}

// orderGroove is the layout of the OrderGroove seed: equal data members in
// the active (chicago, priority 2) and passive (virginia, priority 1) data
// centers, an arbiter in a third (dallas).
func orderGroove() map[string]api.Member {
	return map[string]api.Member{
		"chi-1": mem("chicago", zone("chicago-a"), prio(2)),
		"chi-2": mem("chicago", zone("chicago-b"), prio(2)),
		"va-1":  mem("virginia", zone("virginia-a"), prio(1)),
		"va-2":  mem("virginia", zone("virginia-b"), prio(1)),
		"arb":   mem("dallas", arbiter),
	}
}

// with returns a copy of members with the given members added or replaced.
func with(members map[string]api.Member, extra map[string]api.Member) map[string]api.Member {
	out := map[string]api.Member{}
	for k, v := range members {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// spread places n data members round-robin over the given sites.
func spread(n int, sites ...string) map[string]api.Member {
	out := map[string]api.Member{}
	for i := range n {
		out[fmt.Sprintf("db-%d", i+1)] = mem(sites[i%len(sites)])
	}
	return out
}

// MongoDB's published fault-tolerance table (Replica Set Deployment
// Architectures: "Consider Fault Tolerance").
func TestMajorityAndFaultTolerance(t *testing.T) {
	tests := []struct {
		voters, majority, faultTolerance int
	}{
		{0, 1, 0},
		{1, 1, 0},
		{2, 2, 0},
		{3, 2, 1},
		{4, 3, 1},
		{5, 3, 2},
		{6, 4, 2},
		{7, 4, 3},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.voters), func(t *testing.T) {
			if got := Majority(tc.voters); got != tc.majority {
				t.Errorf("Majority(%d) = %d, want %d", tc.voters, got, tc.majority)
			}
			if got := FaultTolerance(tc.voters); got != tc.faultTolerance {
				t.Errorf("FaultTolerance(%d) = %d, want %d", tc.voters, got, tc.faultTolerance)
			}
			if tc.voters == 0 {
				return
			}
			// The same figures from a replica set of that many members.
			a := Analyze(rs(spread(tc.voters, "a", "b", "c")))
			if a.VotingMembers != tc.voters || a.Majority != tc.majority || a.FaultTolerance != tc.faultTolerance {
				t.Errorf("Analyze(%d members) = voters %d, majority %d, fault tolerance %d; want %d, %d, %d",
					tc.voters, a.VotingMembers, a.Majority, a.FaultTolerance, tc.voters, tc.majority, tc.faultTolerance)
			}
		})
	}
}

func TestIsElectable(t *testing.T) {
	tests := []struct {
		name string
		m    api.Member
		want bool
	}{
		{"default data member", mem("a"), true},
		{"priority 0", mem("a", prio(0)), false},
		{"arbiter", mem("a", arbiter), false},
		{"arbiter with priority", mem("a", arbiter, prio(1)), false},
		{"hidden", mem("a", hidden, prio(1)), false},
		{"delayed", mem("a", delay(60), prio(1)), false},
		{"non-voting", mem("a", votes(0), prio(1)), false},
		{"two votes", mem("a", votes(2)), false},
		{"NaN priority", mem("a", prio(math.NaN())), false},
		{"infinite priority", mem("a", prio(math.Inf(1))), false},
		{"high priority", mem("a", prio(1000)), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsElectable(tc.m); got != tc.want {
				t.Errorf("IsElectable = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPickPrimaryTieBreak(t *testing.T) {
	ms := sortedMembers(rs(map[string]api.Member{
		"b":  mem("x", prio(5)),
		"a":  mem("y", prio(5)),
		"c":  mem("z", prio(7), hidden, votes(0)), // never electable
		"aa": mem("w", prio(4)),
	}).Members)
	p, ok := pickPrimary(ms, nil)
	if !ok || p.name != "a" {
		t.Fatalf("pickPrimary = %q, %v; want \"a\" (priority 5, first by name)", p.name, ok)
	}
	p, ok = pickPrimary(ms, func(m member) bool { return m.name != "a" })
	if !ok || p.name != "b" {
		t.Fatalf("pickPrimary without a = %q, %v; want \"b\"", p.name, ok)
	}
	if got := topSites(ms); fmt.Sprint(got) != "[x y]" {
		t.Fatalf("topSites = %v, want [x y]", got)
	}
}
