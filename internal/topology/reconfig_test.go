package topology

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

func TestCheckReconfig(t *testing.T) {
	og := rs(orderGroove())
	tests := []struct {
		name string
		next map[string]api.Member
		want string // "" when accepted
	}{
		{"unchanged", orderGroove(), ""},
		{"one voter added", with(orderGroove(), map[string]api.Member{"oh-1": mem("ohio")}), ""},
		{"a non-voter added and a voter removed", func() map[string]api.Member {
			m := with(orderGroove(), map[string]api.Member{"reader": mem("chicago", votes(0), prio(0))})
			delete(m, "va-2")
			return m
		}(), ""},
		{"arbiter replaced by a data member (one out, one in)", func() map[string]api.Member {
			m := with(orderGroove(), map[string]api.Member{"dal-1": mem("dallas")})
			delete(m, "arb")
			return m
		}(), `this change adds 1 voting member(s) ("dal-1") and removes 1 ("arb"), but MongoDB's replSetReconfig adds or removes at most one voting member per reconfiguration (more needs force, which can roll back majority-committed writes): apply it in 2 steps, one apply each, waiting for each reconfiguration to commit: 1. add the vote of "dal-1"; 2. remove the vote of "arb".`},
		{"two voters added", with(orderGroove(), map[string]api.Member{"oh-1": mem("ohio"), "oh-2": mem("ohio")}),
			`adds 2 voting member(s) ("oh-1" and "oh-2")`},
		{"a vote taken away and one given", with(orderGroove(), map[string]api.Member{"va-2": mem("virginia", votes(0), prio(0)), "oh-1": mem("ohio")}),
			`1. add the vote of "oh-1"; 2. remove the vote of "va-2"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := CheckReconfig(og, rs(tc.next))
			switch {
			case tc.want == "" && len(p) != 0:
				t.Errorf("refused: %v", p)
			case tc.want != "" && (len(p.Errors()) != 1 || p[0].Field != "members" || !strings.Contains(p[0].Detail, tc.want)):
				t.Errorf("problems %v, want one on members containing %q", p, tc.want)
			}
		})
	}
}

// Property: following the steps one voter at a time always passes.
func TestCheckReconfigStepsPass(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 1))
	for i := range 2000 {
		old, next := randomMembers(r), randomMembers(r)
		added, removed := VoterChanges(old, next)
		cur := map[string]api.Member{}
		for k, v := range old {
			cur[k] = v
		}
		for _, n := range append(append([]string(nil), added...), removed...) {
			step := map[string]api.Member{}
			for k, v := range cur {
				step[k] = v
			}
			if m, ok := next[n]; ok && IsVoter(m) {
				step[n] = m
			} else {
				delete(step, n)
			}
			if p := CheckReconfig(api.ReplicaSet{Members: cur}, api.ReplicaSet{Members: step}); len(p) != 0 {
				t.Fatalf("case %d: step %q refused: %v", i, n, p)
			}
			cur = step
		}
		a2, r2 := VoterChanges(cur, next)
		if len(a2)+len(r2) != 0 {
			t.Fatalf("case %d: after the steps %v %v remain", i, a2, r2)
		}
	}
}

func FuzzCheckReconfig(f *testing.F) {
	f.Add([]byte{3, 0, 0, 0, 0, 4, 1, 0, 0, 0}, []byte{3, 0, 0, 0, 0, 7, 2, 1, 0, 0, 9, 9, 9, 9, 9})
	f.Add([]byte{}, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		old := replicaSetFromFuzz(a, "orders", "k", "h:1", true)
		next := replicaSetFromFuzz(b, "orders", "k", "h:1", true)
		added, removed := VoterChanges(old.Members, next.Members)
		p := CheckReconfig(old, next)
		if (len(added)+len(removed) > 1 && len(old.Members) > 0) != (len(p) == 1) {
			t.Fatalf("%d added, %d removed, problems %v", len(added), len(removed), p)
		}
		for _, n := range added {
			if !IsVoter(next.Members[n]) {
				t.Fatalf("added %q is not a voter", n)
			}
		}
		for _, n := range removed {
			if !IsVoter(old.Members[n]) {
				t.Fatalf("removed %q was not a voter", n)
			}
		}
	})
}
