package topology

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// Layouts from MongoDB's "Replica Sets Distributed Across Two or More Data
// Centers" and from the OrderGroove seed.
func TestAnalyzeLayouts(t *testing.T) {
	tests := []struct {
		name      string
		members   map[string]api.Member
		want      api.ReplicaAnalysis
		survives  bool // every single-site loss leaves a primary
		warnings  []string
		siteError string // ValidateReplicaSet's error on "members", "" for none
	}{
		{
			name:    "three members in three data centers 1/1/1",
			members: map[string]api.Member{"db-1": mem("dc1", prio(2)), "db-2": mem("dc2"), "db-3": mem("dc3")},
			want: api.ReplicaAnalysis{VotingMembers: 3, Majority: 2, FaultTolerance: 1, PreferredPrimarySite: "dc1",
				SiteLoss: map[string]api.SiteLoss{
					"dc1": {Survives: true, NewPrimary: "db-2", VotesLost: 1, VotesLeft: 2},
					"dc2": {Survives: true, NewPrimary: "db-1", VotesLost: 1, VotesLeft: 2},
					"dc3": {Survives: true, NewPrimary: "db-1", VotesLost: 1, VotesLeft: 2},
				}},
			survives: true,
		},
		{
			name: "five members in three data centers 2/2/1",
			members: map[string]api.Member{
				"db-1": mem("dc1", prio(3)), "db-2": mem("dc1", prio(3)),
				"db-3": mem("dc2", prio(2)), "db-4": mem("dc2", prio(2)),
				"db-5": mem("dc3"),
			},
			want: api.ReplicaAnalysis{VotingMembers: 5, Majority: 3, FaultTolerance: 2, PreferredPrimarySite: "dc1",
				SiteLoss: map[string]api.SiteLoss{
					"dc1": {Survives: true, NewPrimary: "db-3", VotesLost: 2, VotesLeft: 3},
					"dc2": {Survives: true, NewPrimary: "db-1", VotesLost: 2, VotesLeft: 3},
					"dc3": {Survives: true, NewPrimary: "db-1", VotesLost: 1, VotesLeft: 4},
				}},
			survives: true,
		},
		{
			name:    "three members in two data centers 2+1",
			members: map[string]api.Member{"db-1": mem("east", prio(2)), "db-2": mem("east"), "db-3": mem("west")},
			want: api.ReplicaAnalysis{VotingMembers: 3, Majority: 2, FaultTolerance: 1, PreferredPrimarySite: "east",
				SiteLoss: map[string]api.SiteLoss{
					"east": {Survives: false, VotesLost: 2, VotesLeft: 1},
					"west": {Survives: true, NewPrimary: "db-1", VotesLost: 1, VotesLeft: 2},
				}},
			siteError: `losing site "east" removes 2 of 3 votes; 1 left, 2 needed: add a voting member (for example an arbiter) in a third site`,
		},
		{
			name: "five members in two data centers 3+2",
			members: map[string]api.Member{
				"db-1": mem("east", prio(2)), "db-2": mem("east", prio(2)), "db-3": mem("east", prio(2)),
				"db-4": mem("west"), "db-5": mem("west"),
			},
			want: api.ReplicaAnalysis{VotingMembers: 5, Majority: 3, FaultTolerance: 2, PreferredPrimarySite: "east",
				SiteLoss: map[string]api.SiteLoss{
					"east": {Survives: false, VotesLost: 3, VotesLeft: 2},
					"west": {Survives: true, NewPrimary: "db-1", VotesLost: 2, VotesLeft: 3},
				}},
			siteError: `losing site "east" removes 3 of 5 votes; 2 left, 3 needed: add a voting member (for example an arbiter) in a third site`,
		},
		{
			name:    "OrderGroove: 2 chicago + 2 virginia + arbiter in dallas",
			members: orderGroove(),
			want: api.ReplicaAnalysis{VotingMembers: 5, Majority: 3, FaultTolerance: 2, PreferredPrimarySite: "chicago",
				SiteLoss: map[string]api.SiteLoss{
					"chicago":  {Survives: true, NewPrimary: "va-1", VotesLost: 2, VotesLeft: 3},
					"virginia": {Survives: true, NewPrimary: "chi-1", VotesLost: 2, VotesLeft: 3},
					"dallas":   {Survives: true, NewPrimary: "chi-1", VotesLost: 1, VotesLeft: 4},
				}},
			survives: true,
		},
		{
			name: "primary-secondary-arbiter over three sites",
			members: map[string]api.Member{
				"db-1": mem("east", prio(2)), "db-2": mem("west"), "arb": mem("south", arbiter),
			},
			want: api.ReplicaAnalysis{VotingMembers: 3, Majority: 2, FaultTolerance: 1, PreferredPrimarySite: "east",
				SiteLoss: map[string]api.SiteLoss{
					"east":  {Survives: true, NewPrimary: "db-2", VotesLost: 1, VotesLeft: 2},
					"west":  {Survives: true, NewPrimary: "db-1", VotesLost: 1, VotesLeft: 2},
					"south": {Survives: true, NewPrimary: "db-1", VotesLost: 1, VotesLeft: 2},
				}},
			survives: true,
			warnings: []string{`primary-secondary-arbiter (PSA) layout: only 2 data-bearing voting member(s) against a majority of 2, so writes with write concern "majority" stall`},
		},
		{
			name: "even voters and two arbiters",
			members: map[string]api.Member{
				"db-1": mem("a", prio(2)), "db-2": mem("b"), "db-3": mem("c"),
				"arb-1": mem("d", arbiter), "arb-2": mem("e", arbiter), "db-4": mem("f"),
			},
			want: api.ReplicaAnalysis{VotingMembers: 6, Majority: 4, FaultTolerance: 2, PreferredPrimarySite: "a",
				SiteLoss: map[string]api.SiteLoss{
					"a": {Survives: true, NewPrimary: "db-2", VotesLost: 1, VotesLeft: 5},
					"b": {Survives: true, NewPrimary: "db-1", VotesLost: 1, VotesLeft: 5},
					"c": {Survives: true, NewPrimary: "db-1", VotesLost: 1, VotesLeft: 5},
					"d": {Survives: true, NewPrimary: "db-1", VotesLost: 1, VotesLeft: 5},
					"e": {Survives: true, NewPrimary: "db-1", VotesLost: 1, VotesLeft: 5},
					"f": {Survives: true, NewPrimary: "db-1", VotesLost: 1, VotesLeft: 5},
				}},
			survives: true,
			warnings: []string{
				"6 voting members is an even number: the majority is 4, so it tolerates 2 lost voter(s), no more than 5 voters would",
				"2 arbiters: MongoDB recommends at most one arbiter",
				`arbiter-heavy layout: only 4 data-bearing voting member(s) against a majority of 4`,
			},
		},
		{
			name:    "equal top priority in two sites",
			members: map[string]api.Member{"db-1": mem("a"), "db-2": mem("b"), "db-3": mem("c", prio(0.5))},
			want: api.ReplicaAnalysis{VotingMembers: 3, Majority: 2, FaultTolerance: 1, PreferredPrimarySite: "a",
				SiteLoss: map[string]api.SiteLoss{
					"a": {Survives: true, NewPrimary: "db-2", VotesLost: 1, VotesLeft: 2},
					"b": {Survives: true, NewPrimary: "db-1", VotesLost: 1, VotesLeft: 2},
					"c": {Survives: true, NewPrimary: "db-1", VotesLost: 1, VotesLeft: 2},
				}},
			survives: true,
			warnings: []string{`the highest priority (1) is shared by electable members in sites "a" and "b", so MongoDB may elect the primary in any of them`},
		},
		{
			name: "non-voting and hidden members count no votes",
			members: map[string]api.Member{
				"db-1": mem("a", prio(2)), "db-2": mem("b"), "arb": mem("c", arbiter),
				"db-3": mem("b", votes(0)), "backup": mem("d", hidden, delay(3600)),
			},
			want: api.ReplicaAnalysis{VotingMembers: 4, Majority: 3, FaultTolerance: 1, PreferredPrimarySite: "a",
				SiteLoss: map[string]api.SiteLoss{
					"a": {Survives: true, NewPrimary: "db-2", VotesLost: 1, VotesLeft: 3},
					"b": {Survives: true, NewPrimary: "db-1", VotesLost: 1, VotesLeft: 3},
					"c": {Survives: true, NewPrimary: "db-1", VotesLost: 1, VotesLeft: 3},
					"d": {Survives: true, NewPrimary: "db-1", VotesLost: 1, VotesLeft: 3},
				}},
			survives: true,
			warnings: []string{
				"4 voting members is an even number",
				"arbiter-heavy layout: only 3 data-bearing voting member(s) against a majority of 3",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rs(tc.members)
			got := Analyze(r)
			// The write side of the analysis has its own table
			// (TestSiteLossWrites); this one is about elections.
			warnings := withoutWriteLossFindings(got.Warnings)
			got = electionsOnly(got)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Analyze =\n%+v\nwant\n%+v", got, tc.want)
			}
			if len(warnings) != len(tc.warnings) {
				t.Errorf("warnings = %q, want %d matching %q", warnings, len(tc.warnings), tc.warnings)
			} else {
				for i, w := range tc.warnings {
					if !strings.Contains(warnings[i], w) {
						t.Errorf("warning %d = %q, want it to contain %q", i, warnings[i], w)
					}
				}
			}
			survives := true
			for _, l := range got.SiteLoss {
				survives = survives && l.Survives
			}
			if survives != tc.survives {
				t.Errorf("every site loss survives = %v, want %v", survives, tc.survives)
			}
			p := ValidateReplicaSet(r)
			var siteErrors []string
			for _, e := range p.Errors() {
				if e.Field != "members" {
					t.Errorf("unexpected error %s", e)
					continue
				}
				siteErrors = append(siteErrors, e.Detail)
			}
			want := []string(nil)
			if tc.siteError != "" {
				want = []string{tc.siteError}
			}
			if !reflect.DeepEqual(siteErrors, want) {
				t.Errorf("site-loss errors = %q, want %q", siteErrors, want)
			}
			if n := len(withoutWriteLossFindings(p.Warnings())); n != len(tc.warnings) {
				t.Errorf("ValidateReplicaSet warnings = %v, want %d", p.Warnings(), len(tc.warnings))
			}
			// Without require_site_fault_tolerance the layout is valid.
			off := false
			r.RequireSiteFaultTolerance = &off
			if errs := ValidateReplicaSet(r).Errors(); len(errs) != 0 {
				t.Errorf("with require_site_fault_tolerance = false: errors %v", errs)
			}
		})
	}
}

func TestAnalyzeDegenerate(t *testing.T) {
	// Must not panic, and stays consistent, on input Validate rejects.
	tests := []struct {
		name string
		rs   api.ReplicaSet
		want api.ReplicaAnalysis
	}{
		{"zero value", api.ReplicaSet{},
			api.ReplicaAnalysis{Majority: 1, SiteLoss: map[string]api.SiteLoss{}}},
		{"not normalized", api.ReplicaSet{Members: map[string]api.Member{"a": {Site: "x"}, "b": {Site: "y", Arbiter: true}}},
			api.ReplicaAnalysis{VotingMembers: 2, Majority: 2, PreferredPrimarySite: "x", SiteLoss: map[string]api.SiteLoss{
				"x": {VotesLost: 1, VotesLeft: 1, WriteConcernBefore: "1", WriteConcernAfter: "1"},
				"y": {VotesLost: 1, VotesLeft: 1, DataVotersLeft: 1, WriteConcernBefore: "1", WriteConcernAfter: "majority"},
			}, DefaultWriteConcern: "1", WriteMajority: 1, Warnings: []string{
				"2 voting members is an even number: the majority is 2, so it tolerates 0 lost voter(s), no more than 1 voters would; add a voting member (for example an arbiter in a third site) or set votes = 0 and priority = 0 on one member",
				`an arbiter-heavy layout: only 1 data-bearing voting member(s) against a majority of 2, so writes with write concern "majority" stall while any one of them is down; replace an arbiter with a data-bearing member, or accept w:1 writes during an outage`,
			}}},
		{"no voters", rs(map[string]api.Member{"a": mem("x", votes(0))}),
			api.ReplicaAnalysis{Majority: 1, SiteLoss: map[string]api.SiteLoss{"x": {}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Analyze(tc.rs); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Analyze =\n%#v\nwant\n%#v", got, tc.want)
			}
		})
	}
}

// randomMembers draws a member set that is mostly plausible and sometimes
// invalid, from a fixed-seed generator.
func randomMembers(r *rand.Rand) map[string]api.Member {
	sites := []string{"chicago", "virginia", "dallas", "onprem", "aws"}
	n := r.IntN(10)
	out := map[string]api.Member{}
	for i := range n {
		h := i
		if r.IntN(10) == 0 { // sometimes a duplicate host
			h = r.IntN(n)
		}
		m := api.Member{
			Host: fmt.Sprintf("db-%d.example.org:27017", h),
			Site: sites[r.IntN(len(sites))],
			Zone: fmt.Sprintf("z%d", r.IntN(3)),
		}
		switch r.IntN(8) {
		case 0:
			m.Arbiter = true
		case 1:
			m.Hidden = true
		case 2:
			m.Hidden = true
			m.SecondaryDelaySeconds = 3600
		}
		switch r.IntN(12) {
		case 0, 1:
			v := 0
			m.Votes = &v
		case 2:
			v := r.IntN(4) - 1
			m.Votes = &v
		}
		if r.IntN(2) == 0 {
			p := float64(r.IntN(5)) / 2
			m.Priority = &p
		}
		out[fmt.Sprintf("m%d", i)] = m
	}
	r0 := api.ReplicaSet{Name: "orders", Members: out}
	r0.Normalize()
	return r0.Members
}

// rebuild copies members into a fresh map in a shuffled insertion order.
func rebuild(r *rand.Rand, members map[string]api.Member) map[string]api.Member {
	keys := api.SortedKeys(members)
	r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	out := make(map[string]api.Member, len(keys))
	for _, k := range keys {
		out[k] = members[k]
	}
	return out
}

func TestAnalyzeProperties(t *testing.T) {
	valid := 0
	for seed := uint64(1); seed <= 4; seed++ {
		r := rand.New(rand.NewPCG(seed, 42))
		for i := range 1000 {
			members := randomMembers(r)
			set := api.ReplicaSet{Name: "orders", Members: members, RequireSiteFaultTolerance: new(r.IntN(2) == 0),
				RequireMajorityWritesAfterSiteLoss: new(r.IntN(3) == 0)}
			a := Analyze(set)
			checkAnalysisInvariants(t, set, a)
			p := ValidateReplicaSet(set)
			checkProblemInvariants(t, set, p, a)
			if len(p.Errors()) == 0 {
				valid++
			}

			again := set
			again.Members = rebuild(r, members)
			if a2 := Analyze(again); !reflect.DeepEqual(a, a2) {
				t.Fatalf("seed %d case %d: Analyze depends on map order:\n%+v\n%+v", seed, i, a, a2)
			}
			if p2 := ValidateReplicaSet(again); !reflect.DeepEqual(p, p2) {
				t.Fatalf("seed %d case %d: ValidateReplicaSet depends on map order:\n%v\n%v", seed, i, p, p2)
			}
		}
	}
	if valid < 50 {
		t.Fatalf("only %d of 4000 random sets were valid: the generator no longer exercises the valid-set invariants", valid)
	}
}

// checkAnalysisInvariants asserts what must hold for any analysis.
func checkAnalysisInvariants(t *testing.T, set api.ReplicaSet, a api.ReplicaAnalysis) {
	t.Helper()
	voters := 0
	for _, m := range set.Members {
		if IsVoter(m) {
			voters++
		}
	}
	if a.VotingMembers != voters || a.Majority != voters/2+1 || a.FaultTolerance != max(0, voters-a.Majority) {
		t.Fatalf("%v: voters %d, majority %d, fault tolerance %d", set.Members, a.VotingMembers, a.Majority, a.FaultTolerance)
	}
	ms := sortedMembers(set.Members)
	wantSite := ""
	if p, ok := pickPrimary(ms, nil); ok {
		wantSite = p.Site
	}
	if a.PreferredPrimarySite != wantSite {
		t.Fatalf("%v: preferred primary site %q, want %q", set.Members, a.PreferredPrimarySite, wantSite)
	}
	if len(a.SiteLoss) != len(memberSites(ms)) {
		t.Fatalf("%v: site_loss has %d sites, want %d", set.Members, len(a.SiteLoss), len(memberSites(ms)))
	}
	checkWriteInvariants(t, set, a)
	for site, l := range a.SiteLoss {
		if l.VotesLost+l.VotesLeft != a.VotingMembers || l.VotesLost < 0 {
			t.Fatalf("site %q: lost %d + left %d != %d voters", site, l.VotesLost, l.VotesLeft, a.VotingMembers)
		}
		if !l.Survives {
			if l.NewPrimary != "" {
				t.Fatalf("site %q does not survive but names new primary %q", site, l.NewPrimary)
			}
			continue
		}
		// survives ⇒ votes left ≥ majority, and the new primary is an
		// electable member outside the lost site with the top priority.
		if l.VotesLeft < a.Majority {
			t.Fatalf("site %q survives with %d votes left, majority %d", site, l.VotesLeft, a.Majority)
		}
		np, ok := set.Members[l.NewPrimary]
		if !ok || !IsElectable(np) || np.Site == site {
			t.Fatalf("site %q: new primary %q is not an electable member outside the site", site, l.NewPrimary)
		}
		for name, m := range set.Members {
			if m.Site != site && IsElectable(m) && (*m.Priority > *np.Priority || (*m.Priority == *np.Priority && name < l.NewPrimary)) {
				t.Fatalf("site %q: new primary %q, but %q ranks before it", site, l.NewPrimary, name)
			}
		}
	}
}

// checkProblemInvariants asserts how validation relates to the analysis.
func checkProblemInvariants(t *testing.T, set api.ReplicaSet, p api.Problems, a api.ReplicaAnalysis) {
	t.Helper()
	for _, e := range p {
		if e.Severity != api.SeverityError && e.Severity != api.SeverityWarning {
			t.Fatalf("problem %v has severity %q", e, e.Severity)
		}
		if e.Detail == "" {
			t.Fatalf("problem on %q has no detail", e.Field)
		}
		if _, err := api.ParsePath(e.Field); err != nil {
			t.Fatalf("problem field does not parse: %v", err)
		}
	}
	if len(p.Warnings()) != len(a.Warnings) && len(set.Members) > 0 {
		t.Fatalf("validation warnings %v, analysis warnings %q", p.Warnings(), a.Warnings)
	}
	if len(p.Errors()) > 0 {
		return
	}
	// A valid set has a primary site and, when required, survives the
	// loss of any one site.
	if a.PreferredPrimarySite == "" {
		t.Fatalf("%v: valid but no preferred primary site", set.Members)
	}
	if api.Bool(set.RequireSiteFaultTolerance, true) {
		for site, l := range a.SiteLoss {
			if !l.Survives {
				t.Fatalf("%v: valid with require_site_fault_tolerance, but losing %q is fatal", set.Members, site)
			}
		}
	}
	if api.Bool(set.RequireMajorityWritesAfterSiteLoss, false) {
		for site, l := range a.SiteLoss {
			if l.Survives && !l.MajorityWrites {
				t.Fatalf("%v: valid with require_majority_writes_after_site_loss, but losing %q stalls majority writes", set.Members, site)
			}
		}
	}
	if a.VotingMembers > MaxVotingMembers || len(set.Members) > MaxMembers {
		t.Fatalf("valid with %d voters, %d members", a.VotingMembers, len(set.Members))
	}
}
