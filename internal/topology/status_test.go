package topology

import (
	"reflect"
	"strings"
	"testing"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

func TestReplicaStatus(t *testing.T) {
	// OrderGroove with a health check on every member.
	members := map[string]api.Member{}
	for n, m := range orderGroove() {
		m.HealthCheck = "mongo-" + n
		members[n] = m
	}
	set := rs(members)
	allUp := map[string]bool{"chi-1": true, "chi-2": true, "va-1": true, "va-2": true, "arb": true}
	down := func(names ...string) map[string]bool {
		up := map[string]bool{}
		for k, v := range allUp {
			up[k] = v
		}
		for _, n := range names {
			delete(up, n)
		}
		return up
	}
	tests := []struct {
		name string
		up   map[string]bool
		want api.ReplicaSetStatus // Members checked separately
	}{
		{"all up", allUp, api.ReplicaSetStatus{MembersUp: 5, VotesUp: 5, HasMajority: true, ExpectedPrimary: "chi-1"}},
		{"one primary-site member down: losing virginia now would be fatal", down("chi-1"),
			api.ReplicaSetStatus{MembersUp: 4, VotesUp: 4, HasMajority: true, ExpectedPrimary: "chi-2", AtRisk: true}},
		{"a member down in every data site", down("chi-1", "va-2"),
			api.ReplicaSetStatus{MembersUp: 3, VotesUp: 3, HasMajority: true, ExpectedPrimary: "chi-2", AtRisk: true}},
		{"chicago down: virginia takes over, one more site loss is fatal", down("chi-1", "chi-2"),
			api.ReplicaSetStatus{MembersUp: 3, VotesUp: 3, HasMajority: true, ExpectedPrimary: "va-1", AtRisk: true}},
		{"arbiter down: losing either data site would be fatal", down("arb"),
			api.ReplicaSetStatus{MembersUp: 4, VotesUp: 4, HasMajority: true, ExpectedPrimary: "chi-1", AtRisk: true}},
		{"chicago and arbiter down: no majority", down("chi-1", "chi-2", "arb"),
			api.ReplicaSetStatus{MembersUp: 2, VotesUp: 2, AtRisk: true}},
		{"everything unknown counts as down", nil, api.ReplicaSetStatus{AtRisk: true}},
		{"majority of votes but only the arbiter and no electable up", map[string]bool{"arb": true},
			api.ReplicaSetStatus{MembersUp: 1, VotesUp: 1, AtRisk: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ReplicaStatus(set, tc.up)
			checkStatusInvariants(t, set, tc.up, got)
			got.Members = nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ReplicaStatus = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestReplicaStatusMembersWithoutHealthCheckAreUp(t *testing.T) {
	set := rs(map[string]api.Member{
		"db-1": mem("a", prio(2), check("hc-1")),
		"db-2": mem("b"),
		"db-3": mem("c"),
	})
	got := ReplicaStatus(set, map[string]bool{"db-1": false})
	want := map[string]string{"db-1": "unhealthy", "db-2": "healthy", "db-3": "healthy"}
	for n, s := range want {
		if got.Members[n] != s {
			t.Errorf("member %q = %q, want %q", n, got.Members[n], s)
		}
	}
	if got.ExpectedPrimary != "db-2" || !got.HasMajority || !got.AtRisk || got.VotesUp != 2 {
		t.Errorf("status = %+v, want primary db-2 with a majority, at risk", got)
	}
}

// checkStatusInvariants asserts what holds for any status.
func checkStatusInvariants(t *testing.T, set api.ReplicaSet, up map[string]bool, st api.ReplicaSetStatus) {
	t.Helper()
	if len(st.Members) != len(set.Members) {
		t.Fatalf("members %v for %d members", st.Members, len(set.Members))
	}
	voters, membersUp, votesUp := 0, 0, 0
	for n, m := range set.Members {
		isUp := m.HealthCheck == "" || up[n]
		want := map[bool]string{true: api.StateHealthy, false: api.StateUnhealthy}[isUp]
		if st.Members[n] != want {
			t.Fatalf("member %q = %q, want %q", n, st.Members[n], want)
		}
		if IsVoter(m) {
			voters++
		}
		if isUp {
			membersUp++
			if IsVoter(m) {
				votesUp++
			}
		}
	}
	if st.MembersUp != membersUp || st.VotesUp != votesUp {
		t.Fatalf("members up %d, votes up %d; want %d, %d", st.MembersUp, st.VotesUp, membersUp, votesUp)
	}
	if st.HasMajority != (voters > 0 && votesUp >= Majority(voters)) {
		t.Fatalf("has majority %v with %d of %d votes up", st.HasMajority, votesUp, voters)
	}
	if !st.HasMajority && (!st.AtRisk || st.ExpectedPrimary != "") {
		t.Fatalf("no majority but at risk %v, expected primary %q", st.AtRisk, st.ExpectedPrimary)
	}
	if p := st.ExpectedPrimary; p != "" {
		m := set.Members[p]
		if !IsElectable(m) || st.Members[p] != api.StateHealthy {
			t.Fatalf("expected primary %q is not an electable member up", p)
		}
	}
	if st.ReplicaSet != "" || !st.Since.IsZero() {
		t.Fatalf("ReplicaSet/Since set: %+v", st)
	}
}

func TestAlignmentWarning(t *testing.T) {
	og := rs(orderGroove())
	tied := rs(map[string]api.Member{"db-1": mem("a"), "db-2": mem("b"), "db-3": mem("c", arbiter)})
	tests := []struct {
		name string
		site string
		set  api.ReplicaSet
		want string // substring; "" for no warning
	}{
		{"aligned", "chicago", og, ""},
		{"policy prefers the passive site", "virginia", og,
			`traffic policy "web" prefers site "virginia", but replica set "orders" elects its primary in site "chicago" (member "chi-1" has the highest priority, 2), so every write would cross sites`},
		{"policy site without data", "aws", og, `elects its primary in site "chicago"`},
		{"tie including the policy site", "a", tied,
			`gives the same highest priority (1) to members in sites "a" and "b", so MongoDB may elect its primary outside "a"`},
		{"tie excluding the policy site", "c", tied, `elects its primary in one of sites "a" and "b"`},
		{"no policy site", "", og, ""},
		{"no electable member", "chicago", rs(map[string]api.Member{"a": mem("x", prio(0))}), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := AlignmentWarning("web", tc.site, tc.set)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("AlignmentWarning = %q, want %q", got, tc.want)
			}
		})
	}
}
