package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// members builds a member map: "site:n" pairs of data members plus extra.
func dataMembers(perSite map[string]int) obj {
	m := obj{}
	for site, n := range perSite {
		for i := 1; i <= n; i++ {
			name := fmt.Sprintf("%s-%d", site, i)
			m[name] = obj{"host": name + ".example.org:27017", "site": site}
		}
	}
	return m
}

// TestReplicaSetRulesOverAPI walks every replica-set rule failoverd
// enforces on write (the same internal/topology code the provider runs at
// plan time): each is a 400 naming the member attribute at fault.
func TestReplicaSetRulesOverAPI(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name   string
		rs     func() obj
		field  string
		detail string
	}{
		{"more than 50 members", func() obj {
			m := dataMembers(map[string]int{"dc1": 3, "dc2": 3, "dc3": 1})
			for i := 0; i < 44; i++ {
				m[fmt.Sprintf("nv-%02d", i)] = obj{"host": fmt.Sprintf("nv-%02d.example.org:27017", i), "site": "dc1", "votes": 0}
			}
			return obj{"members": m}
		}, "members", "50"},
		{"more than 7 voters", func() obj {
			return obj{"members": dataMembers(map[string]int{"dc1": 3, "dc2": 3, "dc3": 2})}
		}, "members", "7"},
		{"votes not 0 or 1", func() obj {
			m := dataMembers(map[string]int{"dc1": 1, "dc2": 1, "dc3": 1})
			m["dc1-1"].(obj)["votes"] = 2
			return obj{"members": m}
		}, `members["dc1-1"].votes`, ""},
		{"priority above 1000", func() obj {
			m := dataMembers(map[string]int{"dc1": 1, "dc2": 1, "dc3": 1})
			m["dc1-1"].(obj)["priority"] = 1001
			return obj{"members": m}
		}, `members["dc1-1"].priority`, "1000"},
		{"arbiter with priority", func() obj {
			m := dataMembers(map[string]int{"dc1": 1, "dc2": 1})
			m["arb"] = obj{"host": "arb.example.net:27017", "site": "dc3", "arbiter": true, "priority": 1}
			return obj{"members": m}
		}, `members["arb"].priority`, "arbiter"},
		{"hidden member with priority", func() obj {
			m := dataMembers(map[string]int{"dc1": 1, "dc2": 1, "dc3": 1})
			m["dc1-1"].(obj)["hidden"] = true
			m["dc1-1"].(obj)["priority"] = 1
			return obj{"members": m}
		}, `members["dc1-1"].priority`, "hidden"},
		{"non-voting member with priority", func() obj {
			m := dataMembers(map[string]int{"dc1": 1, "dc2": 1, "dc3": 1})
			m["extra"] = obj{"host": "extra.example.org:27017", "site": "dc1", "votes": 0, "priority": 1}
			return obj{"members": m}
		}, `members["extra"].priority`, ""},
		{"delayed member not hidden", func() obj {
			m := dataMembers(map[string]int{"dc1": 1, "dc2": 1, "dc3": 1})
			m["lag"] = obj{"host": "lag.example.org:27017", "site": "dc1", "votes": 0, "secondary_delay_seconds": 3600}
			return obj{"members": m}
		}, `members["lag"].hidden`, ""},
		{"duplicate hosts", func() obj {
			m := dataMembers(map[string]int{"dc1": 1, "dc2": 1, "dc3": 1})
			m["dc2-1"].(obj)["host"] = "dc1-1.example.org:27017"
			return obj{"members": m}
		}, `members["dc2-1"].host`, "dc1-1"},
		{"no electable member", func() obj {
			m := dataMembers(map[string]int{"dc1": 1, "dc2": 1, "dc3": 1})
			for _, v := range m {
				v.(obj)["priority"] = 0
			}
			return obj{"members": m, "require_site_fault_tolerance": false}
		}, "members", "can become primary"},
		{"arbiter in a data site", func() obj {
			m := dataMembers(map[string]int{"dc1": 2, "dc2": 2})
			m["arb"] = obj{"host": "arb.example.net:27017", "site": "dc2", "arbiter": true}
			return obj{"members": m, "require_site_fault_tolerance": false}
		}, `members["arb"].site`, ""},
		{"site loss leaves no majority", func() obj {
			return obj{"members": dataMembers(map[string]int{"east": 2, "west": 1})}
		}, "members", `losing site "east" removes 2 of 3 votes; 1 left, 2 needed`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := tt.rs()
			rs["name"] = fmt.Sprintf("rule-%d", i)
			p := h.do(t, http.MethodPost, "/v1/replica-sets", adminToken, rs).problem(t, http.StatusBadRequest)
			if tt.detail != "" {
				wantDetail(t, p, tt.field, tt.detail)
			} else if _, ok := errorOn(p, tt.field); !ok {
				t.Fatalf("no error on %s: %s", tt.field, describe(p))
			}
			h.do(t, http.MethodGet, objPath(api.KindReplicaSet, rs["name"].(string)), adminToken, nil).want(t, http.StatusNotFound)
		})
	}
}

// TestReplicaSetAnalysis checks the computed analysis on the OrderGroove
// layout (equal data members in two data centers, an arbiter in a third)
// and MongoDB's published fault-tolerance figures.
func TestReplicaSetAnalysis(t *testing.T) {
	h := newHarness(t)
	og := obj{"name": "orders", "members": obj{
		"chi-1": obj{"host": "chi-1.example.org:27017", "site": "chicago", "zone": "a", "priority": 2},
		"chi-2": obj{"host": "chi-2.example.org:27017", "site": "chicago", "zone": "b", "priority": 2},
		"va-1":  obj{"host": "va-1.example.org:27017", "site": "virginia", "zone": "a", "priority": 1},
		"va-2":  obj{"host": "va-2.example.org:27017", "site": "virginia", "zone": "b", "priority": 1},
		"arb":   obj{"host": "arb.example.net:27017", "site": "ohio", "arbiter": true},
	}}
	var rs api.ReplicaSet
	h.create(t, api.KindReplicaSet, og).decode(t, &rs)
	a := rs.Analysis
	if a == nil || a.VotingMembers != 5 || a.Majority != 3 || a.FaultTolerance != 2 || a.PreferredPrimarySite != "chicago" {
		t.Fatalf("analysis %+v", a)
	}
	for site, want := range map[string]bool{"chicago": true, "virginia": true, "ohio": true} {
		if got := a.SiteLoss[site]; got.Survives != want {
			t.Errorf("site_loss[%s] = %+v", site, got)
		}
	}
	if np := a.SiteLoss["chicago"].NewPrimary; np != "va-1" && np != "va-2" {
		t.Errorf("losing chicago elects %q, want a virginia member", np)
	}
	// Elections survive a data site's loss, w:"majority" writes do not:
	// 2 data-bearing voters left, 3 needed (issue 14). One warning each.
	if a.DefaultWriteConcern != api.WriteConcernMajority || a.WriteMajority != 3 {
		t.Errorf("default write concern %q, write majority %d; want majority, 3", a.DefaultWriteConcern, a.WriteMajority)
	}
	for site, want := range map[string]bool{"chicago": false, "virginia": false, "ohio": true} {
		if got := a.SiteLoss[site]; got.MajorityWrites != want {
			t.Errorf("site_loss[%s].majority_writes = %v, want %v", site, got.MajorityWrites, want)
		}
	}
	if len(a.Warnings) != 2 || !strings.HasPrefix(a.Warnings[0], `losing site "chicago" leaves an election possible`) {
		t.Errorf("OrderGroove layout warnings: %v", a.Warnings)
	}
	// Required: the same layout is refused, naming the arithmetic.
	strict := obj{"name": "orders-strict", "members": og["members"], "require_majority_writes_after_site_loss": true}
	resp := h.do(t, http.MethodPost, "/v1/"+string(api.KindReplicaSet), adminToken, strict)
	if resp.Status != http.StatusBadRequest || !strings.Contains(string(resp.Body), `only 2 would be left`) {
		t.Errorf("strict OrderGroove: %d %s", resp.Status, resp.Body)
	}
	// GET answers the same analysis.
	var got api.ReplicaSet
	h.get(t, api.KindReplicaSet, "orders").decode(t, &got)
	if got.Analysis == nil || got.Analysis.Majority != 3 {
		t.Fatalf("GET analysis %+v", got.Analysis)
	}

	for voters, ft := range map[int]int{3: 1, 4: 1, 5: 2, 6: 2, 7: 3} {
		m := obj{}
		for i := 0; i < voters; i++ {
			m[fmt.Sprintf("m%d", i)] = obj{"host": fmt.Sprintf("m%d.example.org:27017", i), "site": fmt.Sprintf("s%d", i)}
		}
		var r api.ReplicaSet
		h.create(t, api.KindReplicaSet, obj{"name": fmt.Sprintf("ft-%d", voters), "members": m}).decode(t, &r)
		if r.Analysis.FaultTolerance != ft {
			t.Errorf("%d voters: fault tolerance %d, want %d (MongoDB's table)", voters, r.Analysis.FaultTolerance, ft)
		}
		warnsEven := false
		for _, w := range r.Analysis.Warnings {
			warnsEven = warnsEven || strings.Contains(w, "even")
		}
		if even := voters%2 == 0; even != warnsEven {
			t.Errorf("%d voters: warnings %v (an even voter count, and only that, must warn about evenness)", voters, r.Analysis.Warnings)
		}
	}
}

// TestPolicyReplicaSetAlignment: a policy linked to a replica set warns
// when traffic prefers a site other than the database primary's.
func TestPolicyReplicaSetAlignment(t *testing.T) {
	h := newHarness(t)
	h.create(t, api.KindHealthCheck, checkFixture("web-dc1", "127.0.0.1:443"))
	h.create(t, api.KindHealthCheck, checkFixture("web-dc2", "127.0.0.1:443"))
	h.create(t, api.KindReplicaSet, replicaSetFixture("db")) // primary prefers dc1
	aligned := policyFixture("aligned", "web-dc1", "web-dc2")
	aligned["replica_set"] = "db"
	var p api.TrafficPolicy
	h.create(t, api.KindTrafficPolicy, aligned).decode(t, &p)
	if len(p.Warnings) != 0 {
		t.Fatalf("aligned policy warned: %v", p.Warnings)
	}
	crossed := policyFixture("crossed", "web-dc2", "web-dc1")
	sub(crossed, "targets", "primary")["site"] = "dc2"
	sub(crossed, "targets", "secondary")["site"] = "dc1"
	crossed["replica_set"] = "db"
	h.create(t, api.KindTrafficPolicy, crossed).decode(t, &p)
	if len(p.Warnings) != 1 {
		t.Fatalf("policy preferring dc2 while the primary prefers dc1: warnings %v", p.Warnings)
	}
	// A replica set in use by a policy cannot be deleted from under it.
	h.do(t, http.MethodDelete, objPath(api.KindReplicaSet, "db"), adminToken, nil).problem(t, http.StatusConflict)
}

// A replica-set update that changes more than one voter is refused with
// the safe sequence; one voter at a time goes through (issue 14).
func TestReplicaSetReconfigOneVoterAtATime(t *testing.T) {
	h := newHarness(t)
	member := func(host, site string) obj { return obj{"host": host, "site": site} }
	members := obj{
		"a": member("a.example.org:27017", "s1"), "b": member("b.example.org:27017", "s2"), "c": member("c.example.org:27017", "s3"),
	}
	h.create(t, api.KindReplicaSet, obj{"name": "orders", "members": members})
	two := obj{}
	for k, v := range members {
		two[k] = v
	}
	two["d"], two["e"] = member("d.example.org:27017", "s4"), member("e.example.org:27017", "s5")
	resp := h.do(t, http.MethodPut, objPath(api.KindReplicaSet, "orders"), adminToken, obj{"name": "orders", "members": two})
	if resp.Status != http.StatusBadRequest || !strings.Contains(string(resp.Body), `apply it in 2 steps`) || !strings.Contains(string(resp.Body), `1. add the vote of \"d\"; 2. add the vote of \"e\"`) {
		t.Fatalf("two voters at once: %d %s", resp.Status, resp.Body)
	}
	delete(two, "e")
	h.do(t, http.MethodPut, objPath(api.KindReplicaSet, "orders"), adminToken, obj{"name": "orders", "members": two}).want(t, http.StatusOK)
}
