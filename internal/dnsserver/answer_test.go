package dnsserver

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestAnswers: the answer to every kind of question, over UDP and TCP,
// with and without EDNS0 (DESIGN §4.3 and the semantics in the package
// doc). Owners are compared lower case; DNS names are case-insensitive
// and the question's spelling is echoed.
func TestAnswers(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.NSAddrs = []netip.Addr{netip.MustParseAddr("127.0.0.1")} },
		decision("web", 5, "dc1=192.0.2.10,2001:db8::10"),
		decision("v4only", 30, "dc1=192.0.2.20"),
		decision("v6only", 30, "dc1=2001:db8::20"),
		decision("alias", 60, "dc1=lb.example.net."),
		decision("closed", 20),
		decision("closed-long", 300),
		decision("fallback", 10, "fallback=198.51.100.1"),
		decision("chase", 7, "dc1=web.failover.internal."),
		decision("dangling", 7, "dc1=nope.failover.internal."),
		decision("loop-a", 7, "dc1=loop-b.failover.internal."),
		decision("loop-b", 7, "dc1=loop-a.failover.internal."),
	)
	soa := func(ttl string) string {
		return "failover.internal. " + ttl + " SOA ns.dns.failover.internal. hostmaster.failover.internal. 1700000000 3600 600 86400 30"
	}
	const nxdomain, refused, formerr, notimp = dns.RcodeNameError, dns.RcodeRefused, dns.RcodeFormatError, dns.RcodeNotImplemented
	tests := []struct {
		name      string
		qname     string
		qtype     uint16
		rcode     int
		notAuth   bool // no AA bit
		answer    []string
		authority []string
		extra     []string
	}{
		{name: "A", qname: "web.failover.internal.", qtype: dns.TypeA,
			answer: []string{"web.failover.internal. 5 A 192.0.2.10"}},
		{name: "AAAA of a mixed target", qname: "web.failover.internal.", qtype: dns.TypeAAAA,
			answer: []string{"web.failover.internal. 5 AAAA 2001:db8::10"}},
		{name: "upper case name", qname: "WEB.Failover.INTERNAL.", qtype: dns.TypeA,
			answer: []string{"web.failover.internal. 5 A 192.0.2.10"}},
		{name: "ANY: every record of the target", qname: "web.failover.internal.", qtype: dns.TypeANY,
			answer: []string{"web.failover.internal. 5 A 192.0.2.10", "web.failover.internal. 5 AAAA 2001:db8::10"}},
		{name: "AAAA with only IPv4: NODATA at min(ttl, minimum)", qname: "v4only.failover.internal.", qtype: dns.TypeAAAA,
			authority: []string{soa("30")}},
		{name: "A with only IPv6: NODATA", qname: "v6only.failover.internal.", qtype: dns.TypeA,
			authority: []string{soa("30")}},
		{name: "CNAME target answers A with the CNAME, not chased", qname: "alias.failover.internal.", qtype: dns.TypeA,
			answer: []string{"alias.failover.internal. 60 CNAME lb.example.net."}},
		{name: "CNAME target answers AAAA with the CNAME", qname: "alias.failover.internal.", qtype: dns.TypeAAAA,
			answer: []string{"alias.failover.internal. 60 CNAME lb.example.net."}},
		{name: "CNAME query", qname: "alias.failover.internal.", qtype: dns.TypeCNAME,
			answer: []string{"alias.failover.internal. 60 CNAME lb.example.net."}},
		{name: "CNAME is the answer for any type at an alias", qname: "alias.failover.internal.", qtype: dns.TypeMX,
			answer: []string{"alias.failover.internal. 60 CNAME lb.example.net."}},
		{name: "CNAME query at an address policy: NODATA", qname: "web.failover.internal.", qtype: dns.TypeCNAME,
			authority: []string{soa("5")}},
		{name: "in-zone CNAME is chased", qname: "chase.failover.internal.", qtype: dns.TypeA,
			answer: []string{"chase.failover.internal. 7 CNAME web.failover.internal.", "web.failover.internal. 5 A 192.0.2.10"}},
		{name: "in-zone CNAME to nothing: NXDOMAIN after the CNAME", qname: "dangling.failover.internal.", qtype: dns.TypeA, rcode: nxdomain,
			answer:    []string{"dangling.failover.internal. 7 CNAME nope.failover.internal."},
			authority: []string{soa("30")}},
		{name: "CNAME loop ends", qname: "loop-a.failover.internal.", qtype: dns.TypeA,
			answer: cnameLoop(maxChase + 1)},
		{name: "fail_closed: NODATA, negative TTL = policy ttl", qname: "closed.failover.internal.", qtype: dns.TypeA,
			authority: []string{soa("20")}},
		{name: "fail_closed with ttl above the minimum: negative TTL = minimum", qname: "closed-long.failover.internal.", qtype: dns.TypeAAAA,
			authority: []string{soa("30")}},
		{name: "fallback is a serving target", qname: "fallback.failover.internal.", qtype: dns.TypeA,
			answer: []string{"fallback.failover.internal. 10 A 198.51.100.1"}},
		{name: "other type at a policy: NODATA", qname: "web.failover.internal.", qtype: dns.TypeTXT,
			authority: []string{soa("5")}},
		{name: "MX at a policy: NODATA", qname: "web.failover.internal.", qtype: dns.TypeMX,
			authority: []string{soa("5")}},
		{name: "unknown name: NXDOMAIN", qname: "nope.failover.internal.", qtype: dns.TypeA, rcode: nxdomain,
			authority: []string{soa("30")}},
		{name: "below a policy: NXDOMAIN", qname: "x.web.failover.internal.", qtype: dns.TypeA, rcode: nxdomain,
			authority: []string{soa("30")}},
		{name: "unknown name, upper case", qname: "NOPE.FAILOVER.INTERNAL.", qtype: dns.TypeAAAA, rcode: nxdomain,
			authority: []string{soa("30")}},
		{name: "SOA at the apex", qname: "failover.internal.", qtype: dns.TypeSOA,
			answer: []string{soa("3600")}},
		{name: "SOA at the apex, upper case", qname: "FAILOVER.internal.", qtype: dns.TypeSOA,
			answer: []string{soa("3600")}},
		{name: "NS at the apex with glue", qname: "failover.internal.", qtype: dns.TypeNS,
			answer: []string{"failover.internal. 3600 NS ns.dns.failover.internal."},
			extra:  []string{"ns.dns.failover.internal. 3600 A 127.0.0.1"}},
		{name: "A at the apex: NODATA", qname: "failover.internal.", qtype: dns.TypeA,
			authority: []string{soa("30")}},
		{name: "name server address", qname: "ns.dns.failover.internal.", qtype: dns.TypeA,
			answer: []string{"ns.dns.failover.internal. 3600 A 127.0.0.1"}},
		{name: "name server, no IPv6: NODATA", qname: "ns.dns.failover.internal.", qtype: dns.TypeAAAA,
			authority: []string{soa("30")}},
		{name: "empty non-terminal above the name server: NODATA", qname: "dns.failover.internal.", qtype: dns.TypeA,
			authority: []string{soa("30")}},
		{name: "outside the zone: REFUSED", qname: "example.org.", qtype: dns.TypeA, rcode: refused, notAuth: true},
		{name: "parent of the zone: REFUSED", qname: "internal.", qtype: dns.TypeSOA, rcode: refused, notAuth: true},
		{name: "suffix that is not a label: REFUSED", qname: "xfailover.internal.", qtype: dns.TypeA, rcode: refused, notAuth: true},
		{name: "root: REFUSED", qname: ".", qtype: dns.TypeNS, rcode: refused, notAuth: true},
		{name: "zone transfer: REFUSED", qname: "failover.internal.", qtype: dns.TypeAXFR, rcode: refused, notAuth: true},
	}
	for _, tc := range tests {
		for _, network := range []string{"udp", "tcp"} {
			for _, edns := range []uint16{0, 1232} {
				t.Run(tc.name+"/"+network+"/edns"+strconv.Itoa(int(edns)), func(t *testing.T) {
					m := query(tc.qname, tc.qtype, edns)
					m.RecursionDesired = true
					r := ts.exchange(t, network, m)
					if r.Rcode != tc.rcode {
						t.Errorf("rcode %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[tc.rcode])
					}
					if r.Authoritative == tc.notAuth {
						t.Errorf("AA %t, want %t", r.Authoritative, !tc.notAuth)
					}
					if !r.Response || !r.RecursionDesired || r.RecursionAvailable || r.Truncated {
						t.Errorf("flags QR %t RD %t RA %t TC %t, want QR, RD echoed, no RA, no TC", r.Response, r.RecursionDesired, r.RecursionAvailable, r.Truncated)
					}
					if len(r.Question) != 1 || r.Question[0].Name != tc.qname || r.Question[0].Qtype != tc.qtype {
						t.Errorf("question %v, want %s echoed as sent", r.Question, tc.qname)
					}
					if got := records(r.Answer); !slices.Equal(got, tc.answer) {
						t.Errorf("answer:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.answer, "\n  "))
					}
					if got := records(r.Ns); !slices.Equal(got, tc.authority) {
						t.Errorf("authority:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.authority, "\n  "))
					}
					if got := records(r.Extra); !slices.Equal(got, tc.extra) {
						t.Errorf("additional %q, want %q", got, tc.extra)
					}
					opt := r.IsEdns0()
					switch {
					case edns == 0 && opt != nil:
						t.Errorf("OPT in the answer to a query without one")
					case edns > 0 && opt == nil:
						t.Errorf("no OPT in the answer to a query with one")
					case edns > 0 && (opt.UDPSize() != 1232 || opt.Version() != 0):
						t.Errorf("OPT offers %d bytes, version %d; want 1232, 0", opt.UDPSize(), opt.Version())
					}
				})
			}
		}
	}
}

func cnameLoop(n int) []string {
	var out []string
	a, b := "loop-a", "loop-b"
	for range n {
		out = append(out, a+".failover.internal. 7 CNAME "+b+".failover.internal.")
		a, b = b, a
	}
	return out
}

// TestMalformedQueries: what is not a plain query gets the right error,
// never an answer, never a crash.
func TestMalformedQueries(t *testing.T) {
	ts := newTestServer(t, nil, decision("web", 5, "dc1=192.0.2.10"))
	tests := []struct {
		name  string
		msg   func() *dns.Msg
		rcode int
	}{
		{"no question", func() *dns.Msg { m := new(dns.Msg); m.Id = 7; return m }, dns.RcodeFormatError},
		{"two questions", func() *dns.Msg {
			m := query("web.failover.internal.", dns.TypeA, 0)
			m.Question = append(m.Question, m.Question[0])
			return m
		}, dns.RcodeFormatError},
		{"two OPT records", func() *dns.Msg {
			m := query("web.failover.internal.", dns.TypeA, 1232)
			m.Extra = append(m.Extra, m.Extra[0])
			return m
		}, dns.RcodeFormatError},
		{"EDNS version 1: BADVERS", func() *dns.Msg {
			m := query("web.failover.internal.", dns.TypeA, 1232)
			m.IsEdns0().SetVersion(1)
			return m
		}, dns.RcodeBadVers},
		{"UPDATE: NOTIMP", func() *dns.Msg {
			m := query("failover.internal.", dns.TypeSOA, 0)
			m.Opcode = dns.OpcodeUpdate
			return m
		}, dns.RcodeNotImplemented},
		{"NOTIFY: NOTIMP", func() *dns.Msg {
			m := query("failover.internal.", dns.TypeSOA, 0)
			m.Opcode = dns.OpcodeNotify
			return m
		}, dns.RcodeNotImplemented},
		{"CHAOS class: REFUSED", func() *dns.Msg {
			m := query("version.bind.", dns.TypeTXT, 0)
			m.Question[0].Qclass = dns.ClassCHAOS
			return m
		}, dns.RcodeRefused},
		{"CHAOS class in the zone: REFUSED", func() *dns.Msg {
			m := query("web.failover.internal.", dns.TypeA, 0)
			m.Question[0].Qclass = dns.ClassCHAOS
			return m
		}, dns.RcodeRefused},
	}
	for _, tc := range tests {
		for _, network := range []string{"udp", "tcp"} {
			t.Run(tc.name+"/"+network, func(t *testing.T) {
				m := tc.msg()
				r := ts.exchange(t, network, m)
				if r.Rcode != tc.rcode {
					t.Fatalf("rcode %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[tc.rcode])
				}
				if len(r.Answer) != 0 {
					t.Fatalf("answers %v to a bad query", r.Answer)
				}
			})
		}
	}
}
