package topology

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// withoutWriteLossFindings drops the per-site write findings, which
// TestSiteLossWrites covers, from a list of warning details.
func withoutWriteLossFindings[T string | api.FieldError](ws []T) []T {
	var out []T
	for _, w := range ws {
		detail := any(w)
		if fe, ok := detail.(api.FieldError); ok {
			detail = fe.Detail
		}
		if !strings.Contains(detail.(string), `but not w:"majority" writes`) {
			out = append(out, w)
		}
	}
	return out
}

// electionsOnly clears the write side of an analysis.
func electionsOnly(a api.ReplicaAnalysis) api.ReplicaAnalysis {
	a.Warnings = nil
	a.DefaultWriteConcern, a.WriteMajority = "", 0
	losses := map[string]api.SiteLoss{}
	for site, l := range a.SiteLoss {
		losses[site] = api.SiteLoss{Survives: l.Survives, NewPrimary: l.NewPrimary, VotesLost: l.VotesLost, VotesLeft: l.VotesLeft}
	}
	a.SiteLoss = losses
	return a
}

// The examples of MongoDB's "Default MongoDB Read Concerns/Write
// Concerns" page and the layouts of issue 14.
func TestSiteLossWrites(t *testing.T) {
	const w1, wm = api.WriteConcernW1, api.WriteConcernMajority
	tests := []struct {
		name          string
		members       map[string]api.Member
		defaultWC     string
		writeMajority int
		losses        map[string]api.SiteLoss // the write fields only, plus Survives
		findings      []string                // sites with a write-loss finding
	}{
		{
			name:          "2 data + 1 arbiter (PSA): implicit default w:1",
			members:       map[string]api.Member{"db-1": mem("east", prio(2)), "db-2": mem("west"), "arb": mem("south", arbiter)},
			defaultWC:     w1,
			writeMajority: 2,
			losses: map[string]api.SiteLoss{
				// Survivors reconfigured: 1 data + 1 arbiter, 1 <= majority(2) → w:1.
				"east":  {Survives: true, DataVotersLeft: 1, WriteConcernBefore: w1, WriteConcernAfter: w1},
				"west":  {Survives: true, DataVotersLeft: 1, WriteConcernBefore: w1, WriteConcernAfter: w1},
				"south": {Survives: true, MajorityWrites: true, DataVotersLeft: 2, WriteConcernBefore: w1, WriteConcernAfter: wm, CriticalMembers: []string{"db-1", "db-2"}},
			},
			findings: []string{"east", "west"},
		},
		{
			name:          "OrderGroove, 4 data + 1 arbiter: majority, and a 2-member site loss stalls writes",
			members:       orderGroove(),
			defaultWC:     wm,
			writeMajority: 3,
			losses: map[string]api.SiteLoss{
				"chicago":  {Survives: true, DataVotersLeft: 2, WriteConcernBefore: wm, WriteConcernAfter: w1},
				"virginia": {Survives: true, DataVotersLeft: 2, WriteConcernBefore: wm, WriteConcernAfter: w1},
				"dallas":   {Survives: true, MajorityWrites: true, DataVotersLeft: 4, WriteConcernBefore: wm, WriteConcernAfter: wm},
			},
			findings: []string{"chicago", "virginia"},
		},
		{
			name: "2 + 2 + 1 data members: survives for writes too",
			members: map[string]api.Member{
				"db-1": mem("dc1", prio(3)), "db-2": mem("dc1", prio(3)),
				"db-3": mem("dc2", prio(2)), "db-4": mem("dc2", prio(2)),
				"db-5": mem("dc3"),
			},
			defaultWC:     wm,
			writeMajority: 3,
			losses: map[string]api.SiteLoss{
				"dc1": {Survives: true, MajorityWrites: true, DataVotersLeft: 3, WriteConcernBefore: wm, WriteConcernAfter: wm, CriticalMembers: []string{"db-3", "db-4", "db-5"}},
				"dc2": {Survives: true, MajorityWrites: true, DataVotersLeft: 3, WriteConcernBefore: wm, WriteConcernAfter: wm, CriticalMembers: []string{"db-1", "db-2", "db-5"}},
				"dc3": {Survives: true, MajorityWrites: true, DataVotersLeft: 4, WriteConcernBefore: wm, WriteConcernAfter: wm},
			},
		},
		{
			name: "OrderGroove with the arbiter made a data member",
			members: with(orderGroove(), map[string]api.Member{
				"arb": mem("dallas"),
			}),
			defaultWC:     wm,
			writeMajority: 3,
			losses: map[string]api.SiteLoss{
				"chicago":  {Survives: true, MajorityWrites: true, DataVotersLeft: 3, WriteConcernBefore: wm, WriteConcernAfter: wm, CriticalMembers: []string{"arb", "va-1", "va-2"}},
				"virginia": {Survives: true, MajorityWrites: true, DataVotersLeft: 3, WriteConcernBefore: wm, WriteConcernAfter: wm, CriticalMembers: []string{"arb", "chi-1", "chi-2"}},
				"dallas":   {Survives: true, MajorityWrites: true, DataVotersLeft: 4, WriteConcernBefore: wm, WriteConcernAfter: wm},
			},
		},
		{
			name: "a delayed hidden voter does not acknowledge in time",
			members: map[string]api.Member{
				"db-1": mem("a", prio(2)), "db-2": mem("b"), "backup": mem("c", hidden, delay(3600), prio(0)),
			},
			defaultWC:     wm,
			writeMajority: 2,
			losses: map[string]api.SiteLoss{
				"a": {Survives: true, DataVotersLeft: 1, WriteConcernBefore: wm, WriteConcernAfter: wm},
				"b": {Survives: true, DataVotersLeft: 1, WriteConcernBefore: wm, WriteConcernAfter: wm},
				"c": {Survives: true, MajorityWrites: true, DataVotersLeft: 2, WriteConcernBefore: wm, WriteConcernAfter: wm, CriticalMembers: []string{"db-1", "db-2"}},
			},
			findings: []string{"a", "b"},
		},
		{
			name:          "a site loss that loses the election loses writes too, without a write finding",
			members:       map[string]api.Member{"db-1": mem("east", prio(2)), "db-2": mem("east"), "db-3": mem("west")},
			defaultWC:     wm,
			writeMajority: 2,
			losses: map[string]api.SiteLoss{
				"east": {DataVotersLeft: 1, WriteConcernBefore: wm, WriteConcernAfter: wm},
				"west": {Survives: true, MajorityWrites: true, DataVotersLeft: 2, WriteConcernBefore: wm, WriteConcernAfter: wm, CriticalMembers: []string{"db-1", "db-2"}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := rs(tc.members)
			a := Analyze(set)
			if a.DefaultWriteConcern != tc.defaultWC || a.WriteMajority != tc.writeMajority {
				t.Errorf("default write concern %q, write majority %d; want %q, %d", a.DefaultWriteConcern, a.WriteMajority, tc.defaultWC, tc.writeMajority)
			}
			got := map[string]api.SiteLoss{}
			for site, l := range a.SiteLoss {
				l.NewPrimary, l.VotesLost, l.VotesLeft = "", 0, 0
				got[site] = l
			}
			if !reflect.DeepEqual(got, tc.losses) {
				t.Errorf("site loss =\n%+v\nwant\n%+v", got, tc.losses)
			}

			// Default: a warning per finding, no error from it.
			p := ValidateReplicaSet(set)
			var warned []string
			for _, w := range p.Warnings() {
				if strings.Contains(w.Detail, `but not w:"majority" writes`) {
					warned = append(warned, w.Detail)
					if !strings.Contains(w.Detail, "make the arbiter a data-bearing member or put data-bearing voters in a third site") ||
						!strings.Contains(w.Detail, "require_majority_writes_after_site_loss = true") {
						t.Errorf("finding lacks the fixes: %s", w.Detail)
					}
				}
			}
			checkFindingSites(t, "warnings", warned, tc.findings)
			if got := withoutWriteLossFindings(a.Warnings); len(a.Warnings)-len(got) != len(tc.findings) {
				t.Errorf("analysis warnings %q, want %d write findings", a.Warnings, len(tc.findings))
			}

			// Required: the same findings are errors and no longer warnings.
			on := true
			set.RequireMajorityWritesAfterSiteLoss = &on
			p = ValidateReplicaSet(set)
			var failed []string
			for _, e := range p.Errors() {
				if strings.Contains(e.Detail, `but not w:"majority" writes`) {
					if e.Field != "members" {
						t.Errorf("write finding on %q, want members", e.Field)
					}
					failed = append(failed, e.Detail)
				}
			}
			checkFindingSites(t, "errors", failed, tc.findings)
			if n := len(p.Warnings()) - len(withoutWriteLossFindings(p.Warnings())); n != 0 {
				t.Errorf("required: %d write findings still warned", n)
			}
		})
	}
}

func checkFindingSites(t *testing.T, what string, details, sites []string) {
	t.Helper()
	if len(details) != len(sites) {
		t.Fatalf("%s = %q, want one for each of %q", what, details, sites)
	}
	for i, site := range sites {
		if !strings.HasPrefix(details[i], "losing site \""+site+"\"") {
			t.Errorf("%s[%d] = %q, want it about site %q", what, i, details[i], site)
		}
	}
}

// The OrderGroove finding spells the arithmetic out.
func TestSiteLossWritesMessage(t *testing.T) {
	p := ValidateReplicaSet(rs(orderGroove()))
	want := `losing site "chicago" leaves an election possible (3 of 5 votes, 3 needed) but not w:"majority" writes: they need 3 acknowledgement(s) from data-bearing voting members (the smaller of the voting majority 3 and the 4 data-bearing voters) and only 2 would be left, so writes without an explicit write concern (the implicit default here is w:"majority") block or fail at their wtimeout, and the majority commit point stops advancing until the site returns; fix: make the arbiter a data-bearing member or put data-bearing voters in a third site, so that losing any one site leaves 3 of them; or set require_majority_writes_after_site_loss = true to make this an error`
	for _, w := range p.Warnings() {
		if w.Detail == want {
			if !slices.Contains(w.Reads, "require_majority_writes_after_site_loss") || !slices.Contains(w.Reads, "members[*].arbiter") {
				t.Errorf("reads %q, want the set-wide inputs", w.Reads)
			}
			return
		}
	}
	t.Fatalf("warnings %v, want %q", p.Warnings(), want)
}

// checkWriteInvariants recomputes the write side of an analysis from the
// members, independently of writes.go's helpers.
func checkWriteInvariants(t *testing.T, set api.ReplicaSet, a api.ReplicaAnalysis) {
	t.Helper()
	count := func(lost string) (voters, arbiters, data, ackers int) {
		for _, m := range set.Members {
			if m.Site == lost {
				continue
			}
			if m.Arbiter {
				arbiters++
			}
			if !IsVoter(m) {
				continue
			}
			voters++
			if !m.Arbiter {
				data++
				if m.SecondaryDelaySeconds == 0 {
					ackers++
				}
			}
		}
		return
	}
	formula := func(voters, arbiters, data int) string {
		switch {
		case voters == 0:
			return ""
		case arbiters > 0 && data <= voters/2+1:
			return api.WriteConcernW1
		}
		return api.WriteConcernMajority
	}
	voters, arbiters, data, _ := count("\x00none")
	if want := formula(voters, arbiters, data); a.DefaultWriteConcern != want {
		t.Fatalf("%v: default write concern %q, want %q", set.Members, a.DefaultWriteConcern, want)
	}
	need := min(voters/2+1, data)
	if a.WriteMajority != need {
		t.Fatalf("%v: write majority %d, want %d", set.Members, a.WriteMajority, need)
	}
	for site, l := range a.SiteLoss {
		v, ar, d, ack := count(site)
		if l.WriteConcernBefore != a.DefaultWriteConcern || l.WriteConcernAfter != formula(v, ar, d) || l.DataVotersLeft != ack {
			t.Fatalf("%v: site %q: before %q, after %q, data voters left %d", set.Members, site, l.WriteConcernBefore, l.WriteConcernAfter, l.DataVotersLeft)
		}
		if want := l.Survives && need > 0 && ack >= need; l.MajorityWrites != want {
			t.Fatalf("%v: site %q: majority writes %v, want %v", set.Members, site, l.MajorityWrites, want)
		}
		if arbiters == 0 && l.Survives && ack == v && l.MajorityWrites != (need > 0) {
			// Without arbiters or delayed voters, surviving an election
			// is surviving for writes.
			t.Fatalf("%v: site %q survives, no arbiter, but majority writes %v", set.Members, site, l.MajorityWrites)
		}
		// Critical members: exactly the surviving acknowledgers, when
		// none can be spared.
		if len(l.CriticalMembers) > 0 && (!l.MajorityWrites || len(l.CriticalMembers) != need || ack != need) {
			t.Fatalf("%v: site %q: critical members %q with %d left and %d needed", set.Members, site, l.CriticalMembers, ack, need)
		}
		if l.MajorityWrites && ack == need && len(l.CriticalMembers) != need {
			t.Fatalf("%v: site %q: no slack but critical members %q", set.Members, site, l.CriticalMembers)
		}
		for _, name := range l.CriticalMembers {
			m := set.Members[name]
			if m.Site == site || m.Arbiter || !IsVoter(m) {
				t.Fatalf("%v: site %q: critical member %q is not a surviving data-bearing voter", set.Members, site, name)
			}
		}
	}
}
