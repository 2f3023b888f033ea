package dnsserver

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/engine"
)

// handlerFixture is a Server that is not listening, over a zone with every
// answer shape, for calling the handler directly.
func handlerFixture(t testing.TB) *Server {
	t.Helper()
	snap := engine.NewSnapshot(testZone, []api.Decision{
		decision("web", 5, "dc1=192.0.2.10,2001:db8::10"),
		weighted(decision("aa", 30, "a=192.0.2.1,192.0.2.11,192.0.2.21", "b=2001:db8::2,2001:db8::12", "c=lb.example.net.", "d=192.0.2.4"), 1, 3, 2, 0),
		decision("alias", 60, "dc1=lb.example.net."),
		decision("closed", 20),
		decision("fallback", 10, "fallback=198.51.100.1"),
		decision("chase", 7, "dc1=web.failover.internal."),
		decision("mid", 30, "dc1="+addrs("192.0.2", 40)),
		decision("big", 30, "dc1="+addrs("198.51.100", 100)),
	}...)
	s, err := New(Options{Zone: testZone, Snapshot: func() *engine.Snapshot { return snap },
		NSAddrs: []netip.Addr{netip.MustParseAddr("192.0.2.53")}, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// differential answers q with the fast path and, when it takes it, with
// the reference path from the same random draws, and reports any
// difference in meaning. It returns whether the fast path answered.
func differential(t *testing.T, s *Server, q []byte, tcp bool) bool {
	t.Helper()
	z := s.current()
	s.rnd = seeded(42)
	fast, fres, ok := s.fast(z, q, tcp, make([]byte, 0, 512))
	if !ok {
		return false
	}
	s.rnd = seeded(42)
	ref, rres := s.reference(z, q, tcp, make([]byte, 0, 512))
	if fres != rres {
		t.Fatalf("query %x: fast path outcome %+v, reference %+v", q, fres, rres)
	}
	fm, rm := new(dns.Msg), new(dns.Msg)
	if err := fm.Unpack(fast); err != nil {
		t.Fatalf("query %x: fast answer %x does not parse: %v", q, fast, err)
	}
	if err := rm.Unpack(ref); err != nil {
		t.Fatalf("query %x: reference answer does not parse: %v", q, err)
	}
	if a, b := canonical(fm), canonical(rm); a != b {
		t.Fatalf("query %x:\nfast path:\n%s\nreference:\n%s", q, a, b)
	}
	return true
}

// canonical renders a message for comparison: DNS names compare without
// regard to case.
func canonical(m *dns.Msg) string {
	var b strings.Builder
	h := m.MsgHdr
	b.WriteString(strings.ToLower(h.String()))
	for _, q := range m.Question {
		b.WriteString(strings.ToLower(q.String()) + "\n")
	}
	for _, sec := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range sec {
			b.WriteString(strings.ToLower(rr.String()) + "\n")
		}
		b.WriteString("--\n")
	}
	return b.String()
}

// TestFastPathAnswersLikeTheReference: on every query shape the wire fast
// path takes, its answer means exactly what the dns.Msg reference path's
// does — same header, records, TTLs, rotation and weighted choice.
func TestFastPathAnswersLikeTheReference(t *testing.T) {
	s := handlerFixture(t)
	names := []string{"web", "WEB", "wEb", "aa", "Aa", "alias", "closed", "fallback", "chase", "mid", "big", "nope", "x.web", "ns.dns", "dns", ""}
	var taken, total int
	for _, name := range names {
		for _, zone := range []string{"failover.internal.", "FAILOVER.Internal.", "example.org.", "internal.", "xfailover.internal."} {
			qname := zone
			if name != "" {
				qname = name + "." + zone
			}
			for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeCNAME, dns.TypeMX, dns.TypeSOA, dns.TypeANY, dns.TypeAXFR} {
				for _, edns := range []struct {
					size uint16
					do   bool
					opts []dns.EDNS0
				}{
					{}, {size: 512}, {size: 1232, do: true}, {size: 4096}, {size: 100},
					{size: 1232, opts: []dns.EDNS0{&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"}}},
					{size: 1232, opts: []dns.EDNS0{&dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, Address: netip.MustParseAddr("192.0.2.0").AsSlice()}}},
				} {
					for _, tcp := range []bool{false, true} {
						m := query(qname, qtype, 0)
						m.Id = uint16(total)
						m.RecursionDesired = total%2 == 0
						m.CheckingDisabled = total%3 == 0
						if edns.size > 0 {
							m.SetEdns0(edns.size, edns.do)
							m.IsEdns0().Option = edns.opts
						}
						total++
						if differential(t, s, packed(t, m), tcp) {
							taken++
						}
					}
				}
			}
		}
	}
	t.Logf("fast path took %d of %d query shapes", taken, total)
	if taken < total/5 {
		t.Fatalf("fast path took only %d of %d query shapes", taken, total)
	}
}

// FuzzServeDNS: any bytes as a query — never a panic; an answer, when
// there is one, is a well-formed response to that query that fits the
// transport; and where the fast path answers, it agrees with the
// reference path. `go test -fuzz FuzzServeDNS ./internal/dnsserver/`.
func FuzzServeDNS(f *testing.F) {
	seeds := []*dns.Msg{
		query("web.failover.internal.", dns.TypeA, 0),
		query("AA.failover.internal.", dns.TypeAAAA, 1232),
		query("alias.failover.internal.", dns.TypeA, 4096),
		query("mid.failover.internal.", dns.TypeA, 0),
		query("failover.internal.", dns.TypeSOA, 0),
		query("failover.internal.", dns.TypeNS, 1232),
		query("nope.failover.internal.", dns.TypeA, 0),
		query("example.org.", dns.TypeA, 0),
		query("chase.failover.internal.", dns.TypeANY, 0),
	}
	cookie := query("web.failover.internal.", dns.TypeA, 1232)
	cookie.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"}}
	seeds = append(seeds, cookie)
	for _, m := range seeds {
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Add([]byte{}, false)
	f.Add([]byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1}, false)
	f.Add(bytes.Repeat([]byte{0xff}, 64), true)
	s := handlerFixture(f)
	f.Fuzz(func(t *testing.T, q []byte, tcp bool) {
		out, res := s.handle(q, tcp, make([]byte, 0, 512))
		if out == nil {
			if res.drop == "" && len(q) <= s.opts.MaxQuerySize && len(q) >= headerLen && q[2]&0x80 == 0 {
				t.Fatalf("query %x: no answer and no drop reason", q)
			}
			return
		}
		limit := dns.MaxMsgSize
		if !tcp {
			limit = int(s.opts.MaxUDPSize)
		}
		if len(out) < headerLen || len(out) > limit || out[2]&bitQR == 0 || !bytes.Equal(out[:2], q[:2]) {
			t.Fatalf("query %x: answer %x is not a response with its id within %d bytes", q, out, limit)
		}
		if err := new(dns.Msg).Unpack(out); err != nil {
			t.Fatalf("query %x: answer %x does not parse: %v", q, out, err)
		}
		differential(t, s, q, tcp)
	})
}

// TestFuzzCorpusShapes keeps a few hand-made hostile packets in the plain
// test run: pointers, long names, counts that lie.
func TestFuzzCorpusShapes(t *testing.T) {
	s := handlerFixture(t)
	long := strings.Repeat("a.", 126) + "failover.internal."
	valid := packed(t, query("web.failover.internal.", dns.TypeA, 0))
	lie := slices.Clone(valid)
	binary.BigEndian.PutUint16(lie[6:], 500) // 500 answers follow, none do
	for _, q := range [][]byte{
		lie,
		append(slices.Clone(valid[:12]), 0xC0, 12, 0, 1, 0, 1),           // pointer to itself
		append(slices.Clone(valid[:12]), 0xC0, 14, 0xC0, 12, 0, 1, 0, 1), // pointer loop
		append(slices.Clone(valid[:12]), 0x40, 0, 0, 1, 0, 1),            // reserved label type
		append([]byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}, []byte(long)...),
		append(slices.Clone(valid), 0, 0, 41, 0, 0, 0, 0, 0, 0, 0, 0), // OPT beyond ARCOUNT
	} {
		for _, tcp := range []bool{false, true} {
			s.handle(q, tcp, make([]byte, 0, 512))
			differential(t, s, q, tcp)
		}
	}
}

// BenchmarkServeDNS is the per-query cost of the handler (no sockets):
// the profile to look at when P3 (dnsperf qps) falls short.
// go test -run - -bench ServeDNS -cpuprofile cpu.out ./internal/dnsserver/
func BenchmarkServeDNS(b *testing.B) {
	s := handlerFixture(b)
	for _, bc := range []struct {
		name string
		m    *dns.Msg
	}{
		{"A", query("web.failover.internal.", dns.TypeA, 0)},
		{"A-edns", query("web.failover.internal.", dns.TypeA, 1232)},
		{"A-weighted", query("aa.failover.internal.", dns.TypeA, 0)},
		{"NXDOMAIN", query("nope.failover.internal.", dns.TypeA, 0)},
		{"SOA-reference", query("failover.internal.", dns.TypeSOA, 0)},
		{"A-chase-reference", query("chase.failover.internal.", dns.TypeA, 0)},
	} {
		q := packed(b, bc.m)
		b.Run(bc.name, func(b *testing.B) {
			buf := make([]byte, 0, 4096)
			b.ReportAllocs()
			for b.Loop() {
				if out, _ := s.handle(q, false, buf); out == nil {
					b.Fatal("no answer")
				}
			}
		})
	}
	b.Run("A-parallel", func(b *testing.B) {
		q := packed(b, query("web.failover.internal.", dns.TypeA, 0))
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			buf := make([]byte, 0, 4096)
			for pb.Next() {
				s.handle(q, false, buf)
			}
		})
	})
}
