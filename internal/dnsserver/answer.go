package dnsserver

import (
	"encoding/binary"

	"github.com/miekg/dns"

	"github.com/hatopo/terraform-provider-failover/internal/policy"
)

// maxChase bounds how many in-zone CNAMEs one answer follows; policy
// validation sizes the largest answer with it.
const maxChase = policy.MaxCNAMEChase

// outcome is what one query came to, for metrics.
type outcome struct {
	qtype     uint16
	rcode     int
	truncated bool
	drop      string // why nothing was answered; "" when something was
}

// reference answers any query the wire fast path leaves alone, with
// github.com/miekg/dns messages. It defines the answer semantics; the fast
// path must answer exactly like it (fast_test.go compares the two).
func (s *Server) reference(z *zone, q []byte, tcp bool, buf []byte) ([]byte, outcome) {
	if len(q) < headerLen {
		return nil, outcome{drop: dropMalformed}
	}
	if q[2]&0x80 != 0 {
		// A response: answering it could start a loop between two servers.
		return nil, outcome{drop: dropResponse}
	}
	req := new(dns.Msg)
	if err := req.Unpack(q); err != nil {
		// Answer FORMERR with the header only: the rest cannot be trusted.
		out := append(buf[:0], q[0], q[1], 0x80|q[2]&0x79, dns.RcodeFormatError, 0, 0, 0, 0, 0, 0, 0, 0)
		return out, outcome{rcode: dns.RcodeFormatError}
	}
	resp := new(dns.Msg)
	resp.Id = req.Id
	resp.Response = true
	resp.Opcode = req.Opcode
	resp.RecursionDesired = req.RecursionDesired
	resp.CheckingDisabled = req.CheckingDisabled
	resp.Compress = true
	var res outcome
	if len(req.Question) == 1 {
		resp.Question = req.Question
		res.qtype = req.Question[0].Qtype
	}

	var opt *dns.OPT
	opts := 0
	for _, rr := range req.Extra {
		if o, ok := rr.(*dns.OPT); ok {
			opt = o
			opts++
		}
	}
	if opt != nil {
		o := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
		o.SetUDPSize(s.opts.MaxUDPSize)
		if opt.Do() {
			o.SetDo()
		}
		resp.Extra = []dns.RR{o}
	}
	limit := 512
	switch {
	case tcp:
		limit = dns.MaxMsgSize
	case opt != nil:
		limit = clampUDP(opt.UDPSize(), s.opts.MaxUDPSize)
	}

	switch {
	case req.Opcode != dns.OpcodeQuery:
		resp.Rcode = dns.RcodeNotImplemented
	case len(req.Question) != 1 || opts > 1:
		resp.Rcode = dns.RcodeFormatError
	case opt != nil && opt.Version() != 0:
		resp.Rcode = dns.RcodeBadVers
	default:
		s.query(z, req.Question[0], resp)
	}
	res.rcode = resp.Rcode
	return s.pack(resp, limit, buf, &res), res
}

// query fills resp with the answer to question.
func (s *Server) query(z *zone, question dns.Question, resp *dns.Msg) {
	key, starts, ok := keyOf(question.Name)
	switch {
	case !ok, question.Qclass != dns.ClassINET, !z.inZone(key, starts):
		// Not ours to answer: RFC 1034 §4.3.2 leaves it to the server,
		// and an authoritative-only server refuses.
		resp.Rcode = dns.RcodeRefused
		return
	case question.Qtype == dns.TypeAXFR || question.Qtype == dns.TypeIXFR:
		// Zone transfers are not offered: the zone changes with every
		// decision and every node computes it from the same state.
		resp.Rcode = dns.RcodeRefused
		return
	}
	resp.Authoritative = true
	s.resolve(z, z.lookup(key), question.Name, question.Qtype, resp, 0)
}

// resolve answers qtype at owner (the node n, nil when no such name),
// following CNAMEs inside the zone.
func (s *Server) resolve(z *zone, n *node, owner string, qtype uint16, resp *dns.Msg, depth int) {
	if n == nil {
		resp.Rcode = dns.RcodeNameError
		resp.Ns = []dns.RR{z.negativeSOA(z.negTTL)}
		return
	}
	hdr := func(t uint16, ttl uint32) dns.RR_Header {
		return dns.RR_Header{Name: owner, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
	}
	before := len(resp.Answer)
	switch n.kind {
	case kindApex:
		if qtype == dns.TypeSOA || qtype == dns.TypeANY {
			soa := *z.soa
			soa.Hdr.Name = owner
			resp.Answer = append(resp.Answer, &soa)
		}
		if qtype == dns.TypeNS || qtype == dns.TypeANY {
			for _, rr := range z.ns {
				ns := *rr.(*dns.NS)
				ns.Hdr.Name = owner
				resp.Answer = append(resp.Answer, &ns)
			}
			resp.Extra = append(resp.Extra, z.glue...)
		}
	case kindNSHost:
		if qtype == dns.TypeA || qtype == dns.TypeANY {
			for _, a := range n.hostV4 {
				resp.Answer = append(resp.Answer, &dns.A{Hdr: hdr(dns.TypeA, s.opts.NSTTL), A: a.AsSlice()})
			}
		}
		if qtype == dns.TypeAAAA || qtype == dns.TypeANY {
			for _, a := range n.hostV6 {
				resp.Answer = append(resp.Answer, &dns.AAAA{Hdr: hdr(dns.TypeAAAA, s.opts.NSTTL), AAAA: a.AsSlice()})
			}
		}
	case kindPolicy:
		i := n.choose[choiceFor(qtype)].pick(s.rnd)
		if i < 0 {
			break
		}
		t := &n.targets[i]
		if t.cname != "" {
			resp.Answer = append(resp.Answer, &dns.CNAME{Hdr: hdr(dns.TypeCNAME, n.ttl), Target: t.cname})
			if qtype != dns.TypeCNAME && t.inZone {
				if depth >= maxChase {
					// A loop or an absurd chain: what was found so far
					// is the answer; the resolver gives up on it.
					return
				}
				key, _, _ := keyOf(t.cname)
				s.resolve(z, z.lookup(key), t.cname, qtype, resp, depth+1)
			}
			return
		}
		if qtype == dns.TypeA || qtype == dns.TypeANY {
			rot := rotation(len(t.v4), s.rnd)
			for j := range t.v4 {
				a := t.v4[(rot+j)%len(t.v4)]
				resp.Answer = append(resp.Answer, &dns.A{Hdr: hdr(dns.TypeA, n.ttl), A: a.AsSlice()})
			}
		}
		if qtype == dns.TypeAAAA || qtype == dns.TypeANY {
			rot := rotation(len(t.v6), s.rnd)
			for j := range t.v6 {
				a := t.v6[(rot+j)%len(t.v6)]
				resp.Answer = append(resp.Answer, &dns.AAAA{Hdr: hdr(dns.TypeAAAA, n.ttl), AAAA: a.AsSlice()})
			}
		}
	}
	if len(resp.Answer) == before {
		// NODATA (RFC 2308 §2.2): the name exists, nothing of this type.
		resp.Ns = []dns.RR{z.negativeSOA(n.negTTL)}
	}
}

// negativeSOA is the SOA of a negative answer; its TTL is how long the
// answer may be cached (RFC 2308 §5).
func (z *zone) negativeSOA(ttl uint32) dns.RR {
	soa := *z.soa
	soa.Hdr.Ttl = ttl
	return &soa
}

// pack encodes resp into buf; when it exceeds limit, the answer is
// replaced by an empty one with TC set, which sends the client to TCP.
func (s *Server) pack(resp *dns.Msg, limit int, buf []byte, res *outcome) []byte {
	out, err := resp.PackBuffer(buf[:cap(buf)])
	if err == nil && len(out) <= limit {
		return out
	}
	if err != nil {
		s.log.Error("dns: cannot pack an answer", "question", resp.Question, "err", err)
		resp.Rcode = dns.RcodeServerFailure
		res.rcode = dns.RcodeServerFailure
	} else {
		resp.Truncated = true
		res.truncated = true
	}
	resp.Answer, resp.Ns = nil, nil
	var extra []dns.RR
	for _, rr := range resp.Extra {
		if rr.Header().Rrtype == dns.TypeOPT {
			extra = append(extra, rr)
		}
	}
	resp.Extra = extra
	out, err = resp.PackBuffer(buf[:cap(buf)])
	if err != nil {
		return nil
	}
	return out
}

// keyOf is a presentation name's lower-case wire form and the offsets of
// its labels: the zone's lookup key.
func keyOf(name string) ([]byte, []int, bool) {
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(name, buf, 0, nil, false)
	if err != nil {
		return nil, nil, false
	}
	key := buf[:n]
	var starts []int
	for off := 0; off < len(key) && key[off] != 0; off += int(key[off]) + 1 {
		starts = append(starts, off)
		lowerASCII(key[off+1 : off+1+int(key[off])])
	}
	return key, starts, true
}

func lowerASCII(b []byte) {
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
}

// clampUDP is the largest UDP answer for a client that announced size:
// at least 512 (RFC 6891 §6.2.5), at most what this server offers.
func clampUDP(size uint16, offer uint16) int {
	return int(min(max(size, 512), max(offer, 512)))
}

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }
