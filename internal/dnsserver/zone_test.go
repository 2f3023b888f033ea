package dnsserver

import (
	"fmt"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/engine"
)

// chiSquare is Pearson's statistic of counts against expected shares.
func chiSquare(counts map[string]int, shares map[string]float64, n int) float64 {
	var x2 float64
	for k, p := range shares {
		e := p * float64(n)
		d := float64(counts[k]) - e
		x2 += d * d / e
	}
	return x2
}

// tally asks n times over UDP and counts which answer came back (the
// first record's data).
func tally(t *testing.T, ts *testServer, qname string, qtype uint16, n int) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for range n {
		r := ts.exchange(t, "udp", query(qname, qtype, 0))
		if len(r.Answer) == 0 {
			counts["(none)"]++
			continue
		}
		switch rr := r.Answer[0].(type) {
		case *dns.A:
			counts[rr.A.String()]++
		case *dns.AAAA:
			counts[rr.AAAA.String()]++
		case *dns.CNAME:
			counts[rr.Target]++
		}
	}
	return counts
}

// TestWeightedAnswersFollowTheWeights: each response is one target chosen
// with probability weight/sum over the targets able to answer the type;
// over 2000 queries the counts pass a chi-square test at
// p = 0.001. Seeded, so the test is deterministic; several seeds, so it is
// not tuned to one.
func TestWeightedAnswersFollowTheWeights(t *testing.T) {
	const n = 2000
	// Critical values of chi-square at p = 0.001 by degrees of freedom.
	critical := map[int]float64{1: 10.828, 2: 13.816}
	tests := []struct {
		name   string
		d      api.Decision
		qtype  uint16
		shares map[string]float64
	}{
		{
			name:   "1:3:6 and a weight-0 target that never answers",
			d:      weighted(decision("aa", 30, "a=192.0.2.1", "b=192.0.2.2", "c=192.0.2.3", "d=192.0.2.4"), 1, 3, 6, 0),
			qtype:  dns.TypeA,
			shares: map[string]float64{"192.0.2.1": 0.1, "192.0.2.2": 0.3, "192.0.2.3": 0.6},
		},
		{
			name:   "all weights 0: equal shares",
			d:      weighted(decision("aa", 30, "a=192.0.2.1", "b=192.0.2.2"), 0, 0),
			qtype:  dns.TypeA,
			shares: map[string]float64{"192.0.2.1": 0.5, "192.0.2.2": 0.5},
		},
		{
			name:   "A: only targets with IPv4 or a CNAME compete",
			d:      weighted(decision("aa", 30, "a=192.0.2.1", "b=2001:db8::2", "c=lb.example.net."), 1, 5, 2),
			qtype:  dns.TypeA,
			shares: map[string]float64{"192.0.2.1": 1.0 / 3, "lb.example.net.": 2.0 / 3},
		},
		{
			name:   "AAAA: only targets with IPv6 or a CNAME compete",
			d:      weighted(decision("aa", 30, "a=192.0.2.1", "b=2001:db8::2", "c=lb.example.net."), 5, 1, 2),
			qtype:  dns.TypeAAAA,
			shares: map[string]float64{"2001:db8::2": 1.0 / 3, "lb.example.net.": 2.0 / 3},
		},
		{
			name:   "a serving fallback among others is just another target",
			d:      weighted(decision("aa", 30, "fallback=198.51.100.1", "b=192.0.2.2"), 1, 1),
			qtype:  dns.TypeA,
			shares: map[string]float64{"198.51.100.1": 0.5, "192.0.2.2": 0.5},
		},
	}
	for _, tc := range tests {
		for _, seed := range []uint64{1, 2} {
			t.Run(fmt.Sprintf("%s/seed%d", tc.name, seed), func(t *testing.T) {
				t.Parallel()
				ts := newTestServer(t, func(o *Options) { o.Rand = seeded(seed) }, tc.d)
				counts := tally(t, ts, "aa.failover.internal.", tc.qtype, n)
				for k := range counts {
					if _, ok := tc.shares[k]; !ok {
						t.Fatalf("answered %s, which must never answer: %v", k, counts)
					}
				}
				x2 := chiSquare(counts, tc.shares, n)
				if x2 > critical[len(tc.shares)-1] {
					t.Fatalf("counts %v over %d queries: chi-square %.2f > %.3f, want shares %v", counts, n, x2, critical[len(tc.shares)-1], tc.shares)
				}
				t.Logf("counts %v, chi-square %.2f", counts, x2)
			})
		}
	}
}

// TestWeightedAnswersWithTheDefaultRandom: the production random source,
// unseeded: every share within 5 points of its weight over 4000 queries
// (more than 6 standard deviations).
func TestWeightedAnswersWithTheDefaultRandom(t *testing.T) {
	const n = 4000
	ts := newTestServer(t, nil, weighted(decision("aa", 30, "a=192.0.2.1", "b=192.0.2.2", "c=192.0.2.3"), 1, 3, 6))
	counts := tally(t, ts, "aa.failover.internal.", dns.TypeA, n)
	for k, p := range map[string]float64{"192.0.2.1": 0.1, "192.0.2.2": 0.3, "192.0.2.3": 0.6} {
		if got := float64(counts[k]) / n; math.Abs(got-p) > 0.05 {
			t.Errorf("%s answered %.3f of the time, want %.2f ± 0.05 (%v)", k, got, p, counts)
		}
	}
}

func TestChoicePick(t *testing.T) {
	ts := []target{{weight: 2}, {weight: 0}, {weight: 3}}
	c := makeChoice(ts, []int{0, 1, 2})
	// r in [0, 5): 0-1 → target 0, 2-4 → target 2, never target 1.
	for r, want := range []int{0, 0, 2, 2, 2} {
		if got := c.pick(func(n uint64) uint64 {
			if n != 5 {
				t.Fatalf("drew from [0, %d), want [0, 5)", n)
			}
			return uint64(r)
		}); got != want {
			t.Errorf("r=%d: picked %d, want %d", r, got, want)
		}
	}
	one := makeChoice(ts, []int{2})
	if got := one.pick(func(uint64) uint64 { t.Fatal("drew a random number for one candidate"); return 0 }); got != 2 {
		t.Errorf("one candidate: picked %d", got)
	}
	none := makeChoice(ts, nil)
	if got := none.pick(nil); got != -1 {
		t.Errorf("no candidate: picked %d", got)
	}
}

// TestSerial: the SOA serial is the newest decision's Unix time, moves
// forward by at least one whenever answers change, and stays when they do
// not (DESIGN §4.3; see nextSerial).
func TestSerial(t *testing.T) {
	o := &Options{Zone: testZone, NS: []string{"ns.dns." + testZone}, NegativeTTL: 30, SOATTL: 3600}
	o.Logger = quietLogger()
	t0 := time.Unix(1_800_000_000, 0)
	at := func(d api.Decision, when time.Time, gen uint64) api.Decision {
		d.Since, d.Generation = when, gen
		return d
	}
	var last *engine.Snapshot
	snap := func(ds ...api.Decision) *engine.Snapshot {
		last = successor(last, ds...)
		return last
	}
	web1 := at(decision("web", 5, "a=192.0.2.1"), t0, 1)
	web2 := at(decision("web", 5, "b=192.0.2.2"), t0.Add(90*time.Second), 2)
	web3 := at(decision("web", 5, "a=192.0.2.1"), t0.Add(90*time.Second+300*time.Millisecond), 3)
	api1 := at(decision("api", 5, "a=192.0.2.9"), t0.Add(-time.Hour), 1)

	steps := []struct {
		name string
		snap *engine.Snapshot
		want uint32
	}{
		{"empty zone", snap(), 1},
		{"first decisions: the newest decision's time", snap(web1, api1), uint32(t0.Unix())},
		{"same answers, new snapshot (a burst toggle moved): unchanged", snap(web1, api1), uint32(t0.Unix())},
		{"failover: its time", snap(web2, api1), uint32(t0.Unix() + 90)},
		{"failback within the same second: +1", snap(web3, api1), uint32(t0.Unix() + 91)},
		{"policy deleted: +1", snap(web3), uint32(t0.Unix() + 92)},
		{"nothing changed: unchanged", snap(web3), uint32(t0.Unix() + 92)},
	}
	var prev *zone
	for _, st := range steps {
		z := compile(o, st.snap, prev)
		if z.serial != st.want {
			t.Fatalf("%s: serial %d, want %d", st.name, z.serial, st.want)
		}
		prev = z
	}
	// A restart (no previous zone) on the same decisions: the same serial
	// as any other node computes from them.
	if z := compile(o, engine.NewSnapshot(testZone, web2, api1), nil); z.serial != uint32(t0.Unix()+90) {
		t.Fatalf("after a restart: serial %d, want %d", z.serial, t0.Unix()+90)
	}
}

// TestAnswersFollowTheSnapshot: a new snapshot is answered from the next
// query on, the SOA serial moves with it, and a snapshot with the same
// answers keeps the serial.
func TestAnswersFollowTheSnapshot(t *testing.T) {
	d := decision("web", 5, "a=192.0.2.1")
	ts := newTestServer(t, nil, d)
	serial := func() uint32 {
		r := ts.exchange(t, "udp", query("failover.internal.", dns.TypeSOA, 0))
		return r.Answer[0].(*dns.SOA).Serial
	}
	first := serial()
	if got := answerA(t, ts.Addr(), "web.failover.internal."); got != "192.0.2.1" {
		t.Fatalf("answer %q", got)
	}
	ts.set(d) // same decisions, new snapshot
	if s := serial(); s != first {
		t.Fatalf("serial %d → %d without an answer change", first, s)
	}
	d2 := decision("web", 5, "b=198.51.100.2")
	d2.Generation, d2.Since = 2, d.Since.Add(time.Minute)
	ts.set(d2)
	if got := answerA(t, ts.Addr(), "web.failover.internal."); got != "198.51.100.2" {
		t.Fatalf("after the change: answer %q", got)
	}
	if s := serial(); int32(s-first) <= 0 {
		t.Fatalf("serial %d → %d after an answer change, want it to increase", first, s)
	}
	ts.set(d2, decision("new", 5, "a=192.0.2.7"))
	if got := answerA(t, ts.Addr(), "new.failover.internal."); got != "192.0.2.7" {
		t.Fatalf("a new policy: answer %q", got)
	}
	ts.set(d2)
	if got := answerA(t, ts.Addr(), "new.failover.internal."); got != "NXDOMAIN" {
		t.Fatalf("a deleted policy: answer %q", got)
	}
}

// TestNameServerNameCollision: a policy named like an in-zone name server
// yields to it.
func TestNameServerNameCollision(t *testing.T) {
	ts := newTestServer(t, func(o *Options) {
		o.NS = []string{"ns1.failover.internal"}
		o.NSAddrs = nil
	}, decision("ns1", 5, "a=192.0.2.1"), decision("web", 5, "a=192.0.2.2"))
	r := ts.exchange(t, "udp", query("ns1.failover.internal.", dns.TypeA, 0))
	if len(r.Answer) != 0 || r.Rcode != dns.RcodeSuccess {
		t.Fatalf("ns1 (a name server without addresses) answered %v %s, want NODATA", r.Answer, dns.RcodeToString[r.Rcode])
	}
	r = ts.exchange(t, "udp", query("failover.internal.", dns.TypeNS, 0))
	if got := records(r.Answer); len(got) != 1 || got[0] != "failover.internal. 3600 NS ns1.failover.internal." {
		t.Fatalf("NS %v", got)
	}
}

// TestDecisionChangeCompilesOnlyThatPolicy: a new snapshot keeps every
// unchanged policy's compiled answer (the same node, not rebuilt), compiles
// the changed one on its first query, and answers it at once.
func TestDecisionChangeCompilesOnlyThatPolicy(t *testing.T) {
	s, err := New(Options{Zone: testZone, Snapshot: func() *engine.Snapshot { return nil }, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	o := &s.opts
	web, api1 := decision("web", 5, "a=192.0.2.1"), decision("api", 5, "a=192.0.2.9")
	first := engine.NewSnapshot(testZone, web, api1)
	z1 := compile(o, first, nil)
	key := func(name string) []byte { return wireName(name + "." + testZone) }
	webNode, apiNode := z1.lookup(key("web")), z1.lookup(key("api"))
	if webNode == nil || apiNode == nil || z1.lookup(key("web")) != webNode {
		t.Fatal("a policy compiles anew on every lookup")
	}
	web2 := decision("web", 5, "b=198.51.100.2")
	web2.Generation = 2
	z2 := compile(o, first.WithDecisions(web2), z1)
	if z2.lookup(key("api")) != apiNode {
		t.Error("an unchanged policy was compiled again after another's decision changed")
	}
	n := z2.lookup(key("web"))
	if n == webNode || len(n.targets) != 1 || n.targets[0].v4[0].String() != "198.51.100.2" {
		t.Errorf("the changed policy answers %+v", n.targets)
	}
	if z1.lookup(key("web")) != webNode {
		t.Error("the previous zone's answer changed under it")
	}
}

// BenchmarkDecisionChange is what one decision change costs the DNS server
// at 10,000 policies: the engine's new snapshot, the zone built for it, and
// the first query of the changed name (which compiles that policy).
func BenchmarkDecisionChange(b *testing.B) {
	var ds []api.Decision
	for i := range 10000 {
		ds = append(ds, decision(fmt.Sprintf("p%05d", i), 30, "a=192.0.2.1", "b=198.51.100.1"))
	}
	var snap atomic.Pointer[engine.Snapshot]
	snap.Store(engine.NewSnapshot(testZone, ds...))
	s, err := New(Options{Zone: testZone, Snapshot: snap.Load, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	queries := make([][]byte, len(ds))
	for i, d := range ds {
		queries[i] = packed(b, query(d.Policy+"."+testZone, dns.TypeA, 0))
	}
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		d := ds[i%len(ds)]
		d.Generation += uint64(i/len(ds)) + 1
		snap.Store(snap.Load().WithDecisions(d))
		if out, _ := s.handle(queries[i%len(ds)], false, buf); out == nil {
			b.Fatal("no answer")
		}
	}
}

// TestNoSnapshotYet: before the engine publishes anything, the zone
// answers its apex and NXDOMAIN for every policy name, without panicking.
func TestNoSnapshotYet(t *testing.T) {
	s, err := New(Options{Zone: testZone, Snapshot: func() *engine.Snapshot { return nil }, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		qname string
		qtype uint16
		rcode int
	}{
		{testZone, dns.TypeSOA, dns.RcodeSuccess},
		{"web." + testZone, dns.TypeA, dns.RcodeNameError},
	} {
		out, _ := s.handle(packed(t, query(tc.qname, tc.qtype, 0)), false, make([]byte, 0, 512))
		r := new(dns.Msg)
		if err := r.Unpack(out); err != nil || r.Rcode != tc.rcode {
			t.Errorf("%s %s: rcode %s (%v), want %s", tc.qname, dns.TypeToString[tc.qtype], dns.RcodeToString[r.Rcode], err, dns.RcodeToString[tc.rcode])
		}
	}
}
