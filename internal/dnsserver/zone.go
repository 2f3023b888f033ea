package dnsserver

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/engine"
)

// zone is what the server answers from for one engine.Snapshot: the
// apex, the name servers and the names between them, built when a query
// first sees the snapshot, and the snapshot's policies, each compiled into
// ready-to-answer record data and weighted choices the first time it is
// asked for and kept on its snapshot entry until its decision changes
// (engine.PolicyAnswer.Derived). A decision change therefore costs the
// server one policy's compile, never the whole zone's, and is answered
// from the first query after the engine publishes it. Immutable once
// built; the server swaps in a new one for every new snapshot.
type zone struct {
	// from is the snapshot the zone was built for (nil: none yet), snap
	// the one it answers from (empty for nil).
	from, snap *engine.Snapshot
	opts       *Options
	origin     string // canonical: lower case, trailing dot
	// originWire is the origin in lower-case wire format.
	originWire []byte
	serial     uint32
	// answers is snap.AnswerVersion: the answers changed between two
	// zones exactly when these differ.
	answers uint64
	// static are the names that are not policies, keyed by lower-case
	// wire form: the apex, the name servers, empty non-terminals.
	static map[string]*node
	// nsPolicyNames: a name server has a policy's form (one label below
	// the origin), so policy lookups must look for it first.
	nsPolicyNames bool
	// shadowed are the policies named like an in-zone name server.
	shadowed []string

	soa *dns.SOA // as answered at the apex (TTL = Options.SOATTL)
	ns  []dns.RR
	// glue is the in-zone name servers' address records, for the
	// additional section of an NS answer.
	glue []dns.RR
	// soaRdata is the SOA's RDATA in wire format (names uncompressed).
	soaRdata []byte
	// negTTL is the TTL of the SOA in negative answers for names that are
	// not policies: min(SOA TTL, SOA MINIMUM), RFC 2308 §5.
	negTTL uint32
}

type nodeKind uint8

const (
	kindPolicy nodeKind = iota
	kindApex
	kindNSHost
	kindEmpty // an empty non-terminal, e.g. dns.<zone> above ns.dns.<zone>
)

// node is one name in the zone.
type node struct {
	kind nodeKind
	name string // canonical presentation form
	// Policy answers.
	ttl     uint32
	targets []target
	// choices by query class: A, AAAA, CNAME-only, any.
	choose [numChoices]choice
	// negTTL is the SOA TTL in this name's negative answers.
	negTTL uint32
	// slow: a serving target's CNAME points into the zone, so answers
	// chase it; the wire fast path leaves such names to the reference path.
	slow bool
	// Name server host addresses (kindNSHost).
	hostV4, hostV6 []netip.Addr
}

// target is one serving target, ready to answer.
type target struct {
	name   string
	weight uint64
	v4, v6 []netip.Addr
	cname  string // canonical, "" when the target answers addresses
	// cnameWire is cname in uncompressed wire format.
	cnameWire []byte
	inZone    bool // cname is at or below the origin
}

const (
	choiceA = iota
	choiceAAAA
	choiceCNAME
	choiceAny
	numChoices
)

// choice is a weighted choice among the targets able to answer one class
// of query: idx are indexes into node.targets, cum the running sums of
// their weights. When every candidate weighs 0 they count as equal.
type choice struct {
	idx []int
	cum []uint64
}

// pick returns the target that answers, or -1 when none can. It draws at
// most one random number, and none when there is only one candidate.
func (c *choice) pick(rnd func(uint64) uint64) int {
	switch len(c.idx) {
	case 0:
		return -1
	case 1:
		return c.idx[0]
	}
	r := rnd(c.cum[len(c.cum)-1])
	i, _ := slices.BinarySearchFunc(c.cum, r, func(sum, r uint64) int {
		if sum <= r {
			return -1
		}
		return 1
	})
	return c.idx[i]
}

// rotation is where a target's records of one family start in this
// answer: a uniform rotation spreads clients over a site's addresses.
func rotation(n int, rnd func(uint64) uint64) int {
	if n <= 1 {
		return 0
	}
	return int(rnd(uint64(n)))
}

// choiceFor maps a query type to the candidates that can answer it: an
// address query is answered by targets with addresses of its family or a
// CNAME; ANY by every target; any other type only by a CNAME (a name that
// is an alias is an alias for every type, RFC 1034 §3.6.2).
func choiceFor(qtype uint16) int {
	switch qtype {
	case dns.TypeA:
		return choiceA
	case dns.TypeAAAA:
		return choiceAAAA
	case dns.TypeANY:
		return choiceAny
	}
	return choiceCNAME
}

// compile builds the zone for snap; its policies compile as they are
// asked for. prev, the zone it replaces, keeps the serial moving forward.
// It costs the same at ten policies as at ten thousand.
func compile(o *Options, from *engine.Snapshot, prev *zone) *zone {
	snap := from
	if snap == nil {
		snap = engine.NewSnapshot(o.Zone)
	}
	var z *zone
	if prev != nil && prev.opts == o {
		// The names that are not policies come from the options alone.
		c := *prev
		z = &c
		z.shadowed = nil
	} else {
		z = compileStatic(o)
	}
	z.from, z.snap, z.answers = from, snap, snap.AnswerVersion
	z.serial = nextSerial(prev, snap)
	if prev == nil || z.serial != prev.serial || z.soa == nil {
		z.soa = &dns.SOA{
			Hdr:     dns.RR_Header{Name: z.origin, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: o.SOATTL},
			Ns:      o.NS[0],
			Mbox:    o.Hostmaster,
			Serial:  z.serial,
			Refresh: o.Refresh,
			Retry:   o.Retry,
			Expire:  o.Expire,
			Minttl:  o.NegativeTTL,
		}
		z.soaRdata = soaRdata(z.soa)
	}
	// A policy of a name server's name yields to it: the zone's own
	// delegation must keep working.
	for key, n := range z.static {
		if n.kind != kindNSHost {
			continue
		}
		if policy, ok := z.policyName([]byte(key)); ok {
			if _, ok := snap.DecisionBytes(policy); ok {
				z.shadowed = append(z.shadowed, n.name)
				if prev == nil || !slices.Contains(prev.shadowed, n.name) {
					o.Logger.Warn("dns: a policy has the name server's name; the name server's addresses answer", "name", n.name)
				}
			}
		}
	}
	return z
}

// compileStatic builds the part of a zone that depends on the options
// only: the apex's records and the names that are not policies.
func compileStatic(o *Options) *zone {
	z := &zone{
		opts:       o,
		origin:     o.Zone,
		originWire: wireName(o.Zone),
		static:     map[string]*node{},
		negTTL:     min(o.SOATTL, o.NegativeTTL),
	}
	for _, h := range o.NS {
		z.ns = append(z.ns, &dns.NS{Hdr: dns.RR_Header{Name: z.origin, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: o.NSTTL}, Ns: h})
	}
	z.static[string(z.originWire)] = &node{kind: kindApex, name: z.origin, negTTL: z.negTTL}
	// Name servers inside the zone answer their addresses; the names
	// between them and the apex exist (empty non-terminals).
	for _, h := range o.NS {
		if !dns.IsSubDomain(z.origin, h) || h == z.origin {
			continue
		}
		n := &node{kind: kindNSHost, name: h, negTTL: z.negTTL}
		for _, a := range o.NSAddrs {
			if a.Is4() {
				n.hostV4 = append(n.hostV4, a)
				z.glue = append(z.glue, &dns.A{Hdr: dns.RR_Header{Name: h, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: o.NSTTL}, A: a.AsSlice()})
			} else {
				n.hostV6 = append(n.hostV6, a)
				z.glue = append(z.glue, &dns.AAAA{Hdr: dns.RR_Header{Name: h, Rrtype: dns.TypeAAAA, Class: dns.ClassINET, Ttl: o.NSTTL}, AAAA: a.AsSlice()})
			}
		}
		z.static[string(wireName(h))] = n
		for p := parent(h); p != z.origin && p != "."; p = parent(p) {
			if _, ok := z.static[string(wireName(p))]; !ok {
				z.static[string(wireName(p))] = &node{kind: kindEmpty, name: p, negTTL: z.negTTL}
			}
		}
	}
	for key, n := range z.static {
		if _, ok := z.policyName([]byte(key)); ok && n.kind == kindNSHost {
			z.nsPolicyNames = true
		}
	}
	return z
}

// nextSerial is the zone's SOA serial: the Unix time (seconds) of the
// newest decision in the zone, so every node of a cluster and every
// restart (decisions are persisted) agree on it. When answers change but
// that time does not move past the previous serial (two changes within a
// second, a policy deleted), the serial is the previous one plus one;
// when answers do not change, it stays. It never goes backwards within a
// process (RFC 1982 arithmetic).
func nextSerial(prev *zone, snap *engine.Snapshot) uint32 {
	serial := uint32(1)
	if !snap.Newest.IsZero() {
		serial = max(uint32(snap.Newest.Unix()), 1)
	}
	if prev == nil {
		return serial
	}
	if prev.answers == snap.AnswerVersion {
		return prev.serial
	}
	if int32(serial-prev.serial) <= 0 {
		serial = prev.serial + 1
	}
	return serial
}

func compilePolicy(fqdn string, d api.Decision, origin string, negative uint32) *node {
	ttl := uint32(max(d.TTLSeconds, 0))
	n := &node{kind: kindPolicy, name: fqdn, ttl: ttl, negTTL: min(ttl, negative)}
	for _, st := range d.Serving {
		t := target{name: st.Target, weight: uint64(max(st.Weight, 0))}
		for _, s := range st.Addresses {
			a, err := netip.ParseAddr(s)
			if err != nil {
				continue // validation never lets one in
			}
			a = a.Unmap()
			if a.Is4() {
				t.v4 = append(t.v4, a)
			} else {
				t.v6 = append(t.v6, a.WithZone(""))
			}
		}
		if st.CNAME != "" {
			t.cname = dns.CanonicalName(st.CNAME)
			t.cnameWire = wireName(t.cname)
			t.inZone = dns.IsSubDomain(origin, t.cname)
			if t.inZone {
				n.slow = true
			}
		}
		if t.cname == "" && len(t.v4) == 0 && len(t.v6) == 0 {
			continue
		}
		n.targets = append(n.targets, t)
	}
	for c := range n.choose {
		var idx []int
		for i, t := range n.targets {
			var ok bool
			switch c {
			case choiceA:
				ok = len(t.v4) > 0 || t.cname != ""
			case choiceAAAA:
				ok = len(t.v6) > 0 || t.cname != ""
			case choiceCNAME:
				ok = t.cname != ""
			case choiceAny:
				ok = true
			}
			if ok {
				idx = append(idx, i)
			}
		}
		n.choose[c] = makeChoice(n.targets, idx)
	}
	return n
}

func makeChoice(ts []target, idx []int) choice {
	c := choice{idx: idx, cum: make([]uint64, len(idx))}
	var total uint64
	for _, i := range idx {
		total += ts[i].weight
	}
	var sum uint64
	for j, i := range idx {
		if total == 0 {
			sum++ // all weigh 0: equal shares
		} else {
			sum += ts[i].weight
		}
		c.cum[j] = sum
	}
	// Weight-0 targets among weighted ones never answer: drop them so a
	// draw can never land on them.
	if total > 0 {
		var out choice
		var prev uint64
		for j, i := range c.idx {
			if c.cum[j] > prev {
				out.idx = append(out.idx, i)
				out.cum = append(out.cum, c.cum[j])
			}
			prev = c.cum[j]
		}
		c = out
	}
	return c
}

// lookup finds the node of a lower-case wire name: a name server or the
// apex first, then a policy (<policy>.<origin>), then an empty
// non-terminal.
func (z *zone) lookup(key []byte) *node {
	policy, isPolicy := z.policyName(key)
	if isPolicy && z.nsPolicyNames {
		if n := z.static[string(key)]; n != nil && n.kind == kindNSHost {
			return n
		}
	}
	if isPolicy {
		if a, ok := z.snap.DecisionBytes(policy); ok {
			return a.Derived(z.opts, z.compilePolicy).(*node)
		}
	}
	return z.static[string(key)]
}

// policyName is the policy a lower-case wire name would be: its first
// label, when the rest is the origin.
func (z *zone) policyName(key []byte) ([]byte, bool) {
	if len(key) == 0 {
		return nil, false
	}
	l := int(key[0])
	if l == 0 || l > 63 || 1+l+len(z.originWire) != len(key) || string(key[1+l:]) != string(z.originWire) {
		return nil, false
	}
	return key[1 : 1+l], true
}

// compilePolicy compiles a policy's decision; it runs once per decision
// (engine.PolicyAnswer.Derived).
func (z *zone) compilePolicy(d api.Decision) any {
	return compilePolicy(strings.ToLower(d.Policy)+"."+z.origin, d, z.origin, z.opts.NegativeTTL)
}

// inZone reports whether the lower-case wire name key is at or below the
// origin. starts are the offsets of key's labels.
func (z *zone) inZone(key []byte, starts []int) bool {
	off := len(key) - len(z.originWire)
	if off < 0 || string(key[off:]) != string(z.originWire) {
		return false
	}
	return slices.Contains(starts, off)
}

func parent(name string) string {
	i := strings.IndexByte(name, '.')
	if i < 0 || i == len(name)-1 {
		return "."
	}
	return name[i+1:]
}

// wireName is a canonical presentation name in uncompressed wire format.
func wireName(name string) []byte {
	buf := make([]byte, 256)
	off, err := dns.PackDomainName(dns.CanonicalName(name), buf, 0, nil, false)
	if err != nil {
		return []byte{0}
	}
	return buf[:off]
}

func soaRdata(s *dns.SOA) []byte {
	buf := make([]byte, 512)
	n, err := dns.PackRR(s, buf, 0, nil, false)
	if err != nil {
		return nil
	}
	// Skip the owner name and the fixed header (type, class, TTL, rdlength).
	_, off, err := dns.UnpackDomainName(buf[:n], 0)
	if err != nil {
		return nil
	}
	return slices.Clone(buf[off+10 : n])
}
