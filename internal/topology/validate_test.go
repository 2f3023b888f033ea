package topology

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

func TestValidateReplicaSetValid(t *testing.T) {
	tests := []struct {
		name    string
		members map[string]api.Member
	}{
		{"OrderGroove", orderGroove()},
		{"three sites 1/1/1", with(spread(3, "a", "b", "c"), map[string]api.Member{"db-1": mem("a", prio(2))})},
		{"ipv6 hosts", map[string]api.Member{
			"db-1": mem("a", host("[2001:db8::1]:27017"), prio(2)),
			"db-2": mem("b", host("[2001:db8::2]:27017")),
			"db-3": mem("c", host("192.0.2.3:27018")),
		}},
		{"all on localhost", map[string]api.Member{
			"db-1": mem("a", host("127.0.0.1:27017"), prio(2)),
			"db-2": mem("b", host("localhost:27018")),
			"db-3": mem("c", host("[::1]:27019")),
		}},
		{"hidden delayed backup and non-voting reader", with(orderGroove(), map[string]api.Member{
			"backup": mem("virginia", hidden, delay(3600), votes(0), zone("virginia-c")),
			"reader": mem("chicago", votes(0), tags("use", "reporting")),
		})},
		{"user tags agreeing with site and zone", with(orderGroove(), map[string]api.Member{
			"chi-1": mem("chicago", zone("chicago-a"), prio(2), tags("site", "chicago", "zone", "chicago-a", "rack", "r1")),
		})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// OrderGroove's write findings are TestSiteLossWrites'.
			if p := ValidateReplicaSet(rs(tc.members)); len(p.Errors()) != 0 || len(withoutWriteLossFindings(p.Warnings())) != 0 {
				t.Errorf("ValidateReplicaSet = %v, want no problems", p)
			}
		})
	}
}

// Every error rule, with the exact field paths of the errors it raises.
func TestValidateReplicaSetErrors(t *testing.T) {
	many := map[string]api.Member{}
	for i := range 46 {
		many[fmt.Sprintf("ro-%02d", i)] = mem([]string{"chicago", "virginia"}[i%2], votes(0))
	}
	nineVoters := with(orderGroove(), map[string]api.Member{
		"chi-3": mem("chicago", prio(2)), "chi-4": mem("chicago", prio(2)),
		"va-3": mem("virginia"), "va-4": mem("virginia"),
	})
	texas := func(opts ...opt) map[string]api.Member {
		return with(orderGroove(), map[string]api.Member{"tx": mem("texas", opts...)})
	}
	tests := []struct {
		name   string
		mutate func(*api.ReplicaSet)
		fields []string // error fields, in the order reported
		detail string   // contained in the first error
	}{
		{"invalid name", func(r *api.ReplicaSet) { r.Name = "Orders_DB" },
			[]string{"name"}, `"Orders_DB" is not a valid name`},
		{"missing name", func(r *api.ReplicaSet) { r.Name = "" },
			[]string{"name"}, "is required"},
		{"unknown engine", func(r *api.ReplicaSet) { r.Engine = "postgres" },
			[]string{"engine"}, `"postgres" is not a supported engine: set engine = "mongodb"`},
		{"no members", func(r *api.ReplicaSet) { r.Members = nil },
			[]string{"members"}, "declare at least one member"},
		{"more than 50 members", func(r *api.ReplicaSet) { r.Members = with(r.Members, many) },
			[]string{"members"}, "51 members, but MongoDB allows at most 50"},
		{"more than 7 voters", func(r *api.ReplicaSet) { r.Members = nineVoters },
			[]string{"members"}, "9 voting members, but MongoDB allows at most 7 voters: set votes = 0 and priority = 0 on 2 member(s)"},
		{"votes 2", func(r *api.ReplicaSet) { r.Members["arb"] = mem("dallas", arbiter, votes(2)) },
			// the arbiter no longer votes: losing either data site is fatal
			[]string{`members["arb"].votes`, `members`, `members`}, "is 2, but MongoDB gives a member 0 or 1 vote"},
		{"votes -1", func(r *api.ReplicaSet) { r.Members["tx"] = mem("texas", votes(-1), prio(0)) },
			[]string{`members["tx"].votes`}, "is -1"},
		{"arbiter without a vote", func(r *api.ReplicaSet) { r.Members["arb"] = mem("dallas", arbiter, votes(0)) },
			[]string{`members["arb"].votes`, `members`, `members`}, `member "arb" is an arbiter, so it must vote`},
		{"priority above 1000", func(r *api.ReplicaSet) { r.Members["chi-1"] = mem("chicago", prio(1001)) },
			[]string{`members["chi-1"].priority`}, "is 1001, outside MongoDB's range 0–1000"},
		{"negative priority", func(r *api.ReplicaSet) { r.Members["va-1"] = mem("virginia", prio(-1)) },
			[]string{`members["va-1"].priority`}, "is -1, outside"},
		{"NaN priority", func(r *api.ReplicaSet) { r.Members["va-1"] = mem("virginia", prio(math.NaN())) },
			[]string{`members["va-1"].priority`}, "is NaN, outside"},
		{"arbiter with priority", func(r *api.ReplicaSet) { r.Members["arb"] = mem("dallas", arbiter, prio(1)) },
			[]string{`members["arb"].priority`}, `member "arb" is an arbiter, so its priority must be 0 (MongoDB never elects an arbiter): set priority = 0 or arbiter = false`},
		{"hidden with priority", func(r *api.ReplicaSet) { r.Members = texas(hidden, prio(1)) },
			[]string{`members["tx"].priority`}, `member "tx" is hidden, so its priority must be 0`},
		{"delayed with priority", func(r *api.ReplicaSet) { r.Members = texas(hidden, delay(3600), prio(1)) },
			[]string{`members["tx"].priority`, `members["tx"].priority`}, `member "tx" is hidden`},
		{"non-voting with priority", func(r *api.ReplicaSet) { r.Members = texas(votes(0), prio(1)) },
			[]string{`members["tx"].priority`}, `member "tx" does not vote (votes = 0), so its priority must be 0`},
		{"delayed but not hidden", func(r *api.ReplicaSet) { r.Members = texas(delay(3600), votes(0)) },
			[]string{`members["tx"].hidden`}, `member "tx" is delayed (secondary_delay_seconds = 3600), so it must be hidden`},
		{"negative delay", func(r *api.ReplicaSet) { r.Members = texas(hidden, delay(-5), votes(0)) },
			[]string{`members["tx"].secondary_delay_seconds`}, "is -5, but a delay cannot be negative"},
		{"delay over 366 days", func(r *api.ReplicaSet) { r.Members = texas(hidden, delay(MaxSecondaryDelaySeconds+1), votes(0)) },
			[]string{`members["tx"].secondary_delay_seconds`}, "over MongoDB's maximum of 31622400"},
		{"hidden arbiter", func(r *api.ReplicaSet) { r.Members["arb"] = mem("dallas", arbiter, hidden) },
			[]string{`members["arb"].hidden`}, "holds no data to hide"},
		{"duplicate host, other case", func(r *api.ReplicaSet) {
			r.Members["va-2"] = mem("virginia", host("CHI-1.example.org:27017"))
		}, []string{`members["va-2"].host`}, `"CHI-1.example.org:27017" is also the host of member "chi-1"`},
		{"host without port", func(r *api.ReplicaSet) { r.Members["va-2"] = mem("virginia", host("va-2.example.org")) },
			[]string{`members["va-2"].host`}, `"va-2.example.org" is not host:port`},
		{"host with bad port", func(r *api.ReplicaSet) { r.Members["va-2"] = mem("virginia", host("va-2.example.org:70000")) },
			[]string{`members["va-2"].host`}, "has no valid port"},
		{"host with a scheme", func(r *api.ReplicaSet) { r.Members["va-2"] = mem("virginia", host("mongodb://va-2:27017")) },
			[]string{`members["va-2"].host`}, "is not host:port"},
		{"missing host", func(r *api.ReplicaSet) { r.Members["va-2"] = mem("virginia", host(" ")) },
			[]string{`members["va-2"].host`}, "is not host:port"},
		{"localhost mixed with remote hosts", func(r *api.ReplicaSet) { r.Members["va-2"] = mem("virginia", host("127.0.0.1:27017")) },
			[]string{`members["va-2"].host`}, `member "va-2" is on localhost but "arb", "chi-1", "chi-2" and "va-1" are not`},
		{"invalid member key", func(r *api.ReplicaSet) {
			r.Members["Chi_3"] = mem("chicago", votes(0), host("chi-3.example.org:27017"))
		}, []string{`members["Chi_3"]`}, `"Chi_3" is not a valid name`},
		{"invalid site", func(r *api.ReplicaSet) { r.Members["chi-1"] = mem("Chicago", prio(2)) },
			[]string{`members["chi-1"].site`}, `"Chicago" is not a valid name`},
		{"missing site", func(r *api.ReplicaSet) { r.Members = texas(votes(0)); r.Members["tx"] = mem("", votes(0)) },
			[]string{`members["tx"].site`}, "is required"},
		{"invalid health check name", func(r *api.ReplicaSet) { r.Members["va-1"] = mem("virginia", check("DB 1")) },
			[]string{`members["va-1"].health_check`}, `"DB 1" is not a valid name`},
		{"tags on an arbiter", func(r *api.ReplicaSet) { r.Members["arb"] = mem("dallas", arbiter, tags("role", "tiebreak")) },
			[]string{`members["arb"].tags`}, "MongoDB rejects tags on arbiters"},
		{"site tag contradicting site", func(r *api.ReplicaSet) {
			r.Members["va-1"] = mem("virginia", tags("site", "chicago"))
		}, []string{`members["va-1"].tags["site"]`}, `is "chicago" but the member's site is "virginia"`},
		{"reserved tag name", func(r *api.ReplicaSet) { r.Members["va-1"] = mem("virginia", tags("$voter", "x")) },
			[]string{`members["va-1"].tags["$voter"]`}, "MongoDB reserves names starting with '$'"},
		{"no electable member", func(r *api.ReplicaSet) {
			for _, k := range []string{"chi-1", "chi-2", "va-1", "va-2"} {
				m := r.Members[k]
				m.Priority = new(0.0)
				r.Members[k] = m
			}
		}, []string{"members"}, "no member can become primary"},
		{"arbiter in a data site", func(r *api.ReplicaSet) { r.Members["arb"] = mem("chicago", arbiter) },
			[]string{`members["arb"].site`, "members"}, `arbiter "arb" is in site "chicago" with data-bearing member(s) "chi-1" and "chi-2", so losing that site takes the tie-breaking vote with it: move the arbiter to a third site`},
		{"two data centers 2+1", func(r *api.ReplicaSet) {
			r.Members = map[string]api.Member{
				"e-1": mem("east", host("e-1.example.org:27017")), "e-2": mem("east", host("e-2.example.org:27017")),
				"w-1": mem("west", host("w-1.example.org:27017")),
			}
			r.Normalize()
		}, []string{"members"}, `losing site "east" removes 2 of 3 votes; 1 left, 2 needed: add a voting member (for example an arbiter) in a third site`},
		{"one site", func(r *api.ReplicaSet) {
			r.Members = map[string]api.Member{"a": mem("dc1", host("a.example.org:27017")), "b": mem("dc1", host("b.example.org:27017")), "c": mem("dc1", host("c.example.org:27017"))}
			r.Normalize()
		}, []string{"members"}, `losing site "dc1" removes 3 of 3 votes; 0 left, 2 needed: spread the members over three sites`},
		{"three sites, one holding most votes", func(r *api.ReplicaSet) {
			r.Members["chi-3"] = mem("chicago", prio(2), host("chi-3.example.org:27017"))
			r.Members["chi-4"] = mem("chicago", prio(2), host("chi-4.example.org:27017"))
			r.Normalize()
		}, []string{"members"}, `losing site "chicago" removes 4 of 7 votes; 3 left, 4 needed: move voting members out of site "chicago" or add voting members in other sites, so that no single site holds half or more of the votes`},
		{"majority survives but nobody electable", func(r *api.ReplicaSet) {
			r.Members = map[string]api.Member{
				"e-1": mem("east", host("e-1.example.org:27017")), "e-2": mem("east", host("e-2.example.org:27017")),
				"a-1": mem("west", arbiter, host("a-1.example.org:27017")), "a-2": mem("south", arbiter, host("a-2.example.org:27017")),
				"a-3": mem("north", arbiter, host("a-3.example.org:27017")),
			}
			r.Normalize()
		}, []string{"members"}, `losing site "east" leaves 3 of 5 votes, enough for a majority of 3, but no member that can become primary`},
		{"every problem at once", func(r *api.ReplicaSet) {
			r.Name = "Bad Name"
			r.Engine = "postgres"
			r.Members["arb"] = mem("chicago", arbiter, prio(1))
			r.Members["va-2"] = mem("virginia", host("chi-1.example.org:27017"))
		}, []string{"name", "engine", `members["arb"].priority`, `members["va-2"].host`, `members["arb"].site`, "members"}, `"Bad Name" is not a valid name`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rs(orderGroove())
			tc.mutate(&r)
			for n, m := range r.Members {
				if m.Host == "" {
					m.Host = n + ".example.org:27017"
					r.Members[n] = m
				}
			}
			r.Normalize()
			p := ValidateReplicaSet(r)
			errs := p.Errors()
			var fields []string
			for _, e := range errs {
				fields = append(fields, e.Field)
			}
			if !reflect.DeepEqual(fields, tc.fields) {
				t.Fatalf("error fields = %q, want %q\nproblems: %v", fields, tc.fields, p)
			}
			if !strings.Contains(errs[0].Detail, tc.detail) {
				t.Errorf("first error = %q, want it to contain %q", errs[0].Detail, tc.detail)
			}
			for _, e := range errs {
				if !strings.Contains(e.Detail, ":") {
					t.Errorf("error %q does not say how to fix it", e)
				}
			}
		})
	}
}

func TestValidateReplicaSetWarnings(t *testing.T) {
	tests := []struct {
		name    string
		members map[string]api.Member
		want    []string
	}{
		{"even voter count", spread(4, "a", "b", "c", "d"),
			[]string{"4 voting members is an even number", `the highest priority (1) is shared by electable members in sites "a", "b", "c" and "d"`}},
		{"more than one arbiter", map[string]api.Member{
			"db-1": mem("a", prio(2)), "db-2": mem("b"), "db-3": mem("c"),
			"arb-1": mem("d", arbiter), "arb-2": mem("e", arbiter),
		}, []string{"2 arbiters: MongoDB recommends at most one arbiter", "arbiter-heavy layout: only 3 data-bearing voting member(s) against a majority of 3"}},
		{"primary-secondary-arbiter", map[string]api.Member{
			"db-1": mem("a", prio(2)), "db-2": mem("b"), "arb": mem("c", arbiter),
		}, []string{`a primary-secondary-arbiter (PSA) layout: only 2 data-bearing voting member(s) against a majority of 2, so writes with write concern "majority" stall while any one of them is down`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := ValidateReplicaSet(rs(tc.members))
			if errs := p.Errors(); len(errs) != 0 {
				t.Fatalf("errors: %v", errs)
			}
			ws := withoutWriteLossFindings(p.Warnings())
			if len(ws) != len(tc.want) {
				t.Fatalf("warnings = %v, want %d", ws, len(tc.want))
			}
			for i, w := range ws {
				if w.Field != "members" || !strings.Contains(w.Detail, tc.want[i]) {
					t.Errorf("warning %d = %s, want on members containing %q", i, w, tc.want[i])
				}
			}
		})
	}
}

// memberFromBytes decodes one member from 5 bytes.
func memberFromBytes(b []byte, hostOverride string) (string, api.Member) {
	names := []string{"a", "b", "c", "db-1", "db-2", "Bad_Name", "", "arb"}
	sites := []string{"east", "west", "south", "", "North", "east"}
	hosts := []string{"a.example.org:27017", "b.example.org:27017", "A.EXAMPLE.ORG:27017", "c.example.org", "127.0.0.1:27017", "[2001:db8::1]:27017", "d.example.org:0", ""}
	prios := []float64{0, 0.5, 1, 2, 1000, 1001, -1, math.NaN()}
	name := names[int(b[0])%len(names)] + fmt.Sprint(b[0]/8%4)
	m := api.Member{
		Site:    sites[int(b[1])%len(sites)],
		Host:    hosts[int(b[1]/8)%len(hosts)],
		Arbiter: b[2]&1 != 0,
		Hidden:  b[2]&2 != 0,
		Zone:    []string{"", "z1", "z2"}[int(b[2]>>6)%3],
	}
	if b[2]&4 != 0 {
		m.SecondaryDelaySeconds = int(int8(b[4]))
	}
	if b[2]&8 != 0 {
		m.Tags = map[string]string{"site": "east", "rack": "r1"}
	}
	if b[2]&16 != 0 {
		m.Host = hostOverride
	}
	if b[2]&32 != 0 {
		m.HealthCheck = "hc-" + name
	}
	if v := int(b[3]) % 8; v < 6 { // else: leave nil for Normalize
		m.Votes = new([]int{1, 1, 1, 0, 2, -1}[v])
	}
	if p := int(b[3]/8) % 10; p < len(prios) {
		m.Priority = new(prios[p])
	}
	return name, m
}

// replicaSetFromFuzz builds a normalized replica set from fuzz input.
func replicaSetFromFuzz(data []byte, name, key, host string, require bool) api.ReplicaSet {
	r := api.ReplicaSet{Name: name, RequireSiteFaultTolerance: new(require), Members: map[string]api.Member{}}
	if len(data) > 0 && data[0]%7 == 0 {
		r.Engine = "postgres"
	}
	if len(data)%2 == 1 {
		r.RequireMajorityWritesAfterSiteLoss = new(require)
	}
	for len(data) >= 5 {
		n, m := memberFromBytes(data[:5], host)
		if data[0]%16 == 15 {
			n = key // an arbitrary member key
		}
		r.Members[n] = m
		data = data[5:]
	}
	r.Normalize()
	return r
}

func FuzzValidateReplicaSet(f *testing.F) {
	f.Add([]byte{}, "orders", "db-9", "db-9.example.org:27017", true)
	f.Add([]byte{3, 0, 0, 0, 0, 4, 1, 0, 0, 0, 7, 2, 1, 0, 0}, "orders", "x", "x:1", true)
	f.Add([]byte{3, 8, 0, 8, 0, 4, 17, 0, 0, 0, 7, 2, 1, 0, 0, 12, 9, 0, 0, 0, 11, 25, 0, 0, 0}, "orders", "x", "x:1", true)
	f.Add([]byte{15, 0, 12, 3, 200, 1, 1, 63, 4, 7, 2, 2, 1, 0, 0}, "Bad Name", "\xff\"\\", "[::1", false)
	f.Add([]byte("ordergroove replica set with an arbiter in dallas!"), "orders", "k", "", true)
	f.Fuzz(func(t *testing.T, data []byte, name, key, host string, require bool) {
		set := replicaSetFromFuzz(data, name, key, host, require)
		p := ValidateReplicaSet(set)
		a := Analyze(set)
		checkAnalysisInvariants(t, set, a)
		checkProblemInvariants(t, set, p, a)
		if p2 := ValidateReplicaSet(set); !reflect.DeepEqual(p, p2) {
			t.Fatalf("ValidateReplicaSet is not deterministic:\n%v\n%v", p, p2)
		}
		if len(set.Members) == 0 && !slices.ContainsFunc(p, func(e api.FieldError) bool { return e.Field == "members" }) {
			t.Fatalf("no members but no error on members: %v", p)
		}

		ids := AssignMemberIDs(nil, set.Members)
		cfg := RenderConfig(set, ids, 1)
		checkConfigInvariants(t, set, cfg)

		up := map[string]bool{}
		for i, n := range api.SortedKeys(set.Members) {
			up[n] = i < len(data) && data[i]&1 == 0
		}
		st := ReplicaStatus(set, up)
		checkStatusInvariants(t, set, up, st)
		_ = AlignmentWarning("web", "east", set)
	})
}
