package dnsserver

import (
	"encoding/binary"

	"github.com/miekg/dns"
)

const (
	headerLen = 12
	// Header flag bits, in the third and fourth bytes.
	bitQR = 0x80
	bitAA = 0x04
	bitTC = 0x02
	bitRD = 0x01
	bitCD = 0x10
	// ptrQName is a compression pointer to the question's name, which
	// always starts right after the header.
	ptrQName = 0xC000 | headerLen
)

// fast answers the queries that make up nearly all of the traffic — one
// IN question for A or AAAA at a policy name, or for a name that does not
// exist, with at most an OPT record — straight from the wire bytes and the
// compiled zone, without building a dns.Msg. ok is false for anything
// else, which the reference path answers; for what it does answer it
// answers byte for byte what the reference path would mean (the tests
// compare the two on every query shape).
func (s *Server) fast(z *zone, q []byte, tcp bool, buf []byte) (out []byte, res outcome, ok bool) {
	if len(q) < headerLen+5 || q[2]&0xF8 != 0 { // QR set or an opcode other than QUERY
		return nil, res, false
	}
	// One question and nothing else but an optional OPT.
	if q[4] != 0 || q[5] != 1 || q[6]|q[7]|q[8]|q[9]|q[10] != 0 || q[11] > 1 {
		return nil, res, false
	}
	var key [256]byte
	var starts [128]int
	k, labels, off := 0, 0, headerLen
	for {
		if off >= len(q) {
			return nil, res, false
		}
		l := int(q[off])
		if l == 0 {
			key[k] = 0
			k++
			off++
			break
		}
		// l > 63 is a compression pointer or a reserved label type: the
		// reference path decides.
		if l > 63 || off+1+l >= len(q) || k+l+2 > 255 {
			return nil, res, false
		}
		starts[labels] = k
		labels++
		key[k] = byte(l)
		for i, c := range q[off+1 : off+1+l] {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			key[k+1+i] = c
		}
		k += 1 + l
		off += 1 + l
	}
	qnameEnd := off
	if off+4 > len(q) {
		return nil, res, false
	}
	qtype := binary.BigEndian.Uint16(q[off:])
	if binary.BigEndian.Uint16(q[off+2:]) != dns.ClassINET || qtype == dns.TypeAXFR || qtype == dns.TypeIXFR {
		return nil, res, false
	}
	off += 4
	hasOpt, do, limit := false, false, 512
	if q[11] == 1 {
		// OPT: root owner, type 41, class = UDP size, TTL = extended
		// RCODE, version, flags; then the options, which must be well
		// formed and of the kinds a resolver sends and this server
		// ignores; any other is the reference path's to judge.
		if off+11 > len(q) || q[off] != 0 || binary.BigEndian.Uint16(q[off+1:]) != dns.TypeOPT || q[off+6] != 0 {
			return nil, res, false
		}
		size := binary.BigEndian.Uint16(q[off+3:])
		do = q[off+7]&0x80 != 0
		rdlen := int(binary.BigEndian.Uint16(q[off+9:]))
		off += 11
		end := off + rdlen
		if end != len(q) {
			return nil, res, false
		}
		for p := off; p < end; {
			if p+4 > end {
				return nil, res, false
			}
			code, l := binary.BigEndian.Uint16(q[p:]), int(binary.BigEndian.Uint16(q[p+2:]))
			if !ignorableOption(code) {
				return nil, res, false
			}
			p += 4 + l
			if p > end {
				return nil, res, false
			}
		}
		off = end
		hasOpt = true
		limit = clampUDP(size, s.opts.MaxUDPSize)
	}
	if off != len(q) {
		return nil, res, false
	}
	if tcp {
		limit = dns.MaxMsgSize
	}
	res.qtype = qtype
	name := key[:k]

	n := z.lookup(name)
	var an, ns uint16
	out = append(buf[:0], q[0], q[1], bitQR|bitAA|q[2]&bitRD, q[3]&bitCD, 0, 1, 0, 0, 0, 0, 0, 0)
	out = append(out, q[headerLen:qnameEnd+4]...)
	switch {
	case n == nil && !z.inZone(name, starts[:labels]):
		out[2] &^= bitAA
		res.rcode = dns.RcodeRefused
	case n == nil:
		res.rcode = dns.RcodeNameError
		out = z.appendSOA(out, k, z.negTTL)
		ns = 1
	case n.kind == kindPolicy && !n.slow && (qtype == dns.TypeA || qtype == dns.TypeAAAA):
		i := n.choose[choiceFor(qtype)].pick(s.rnd)
		if i < 0 {
			out = z.appendSOA(out, k, n.negTTL)
			ns = 1
			break
		}
		t := &n.targets[i]
		if t.cname != "" {
			out = appendRRHeader(out, dns.TypeCNAME, n.ttl, len(t.cnameWire))
			out = append(out, t.cnameWire...)
			an = 1
			break
		}
		addrs := t.v4
		if qtype == dns.TypeAAAA {
			addrs = t.v6
		}
		rot := rotation(len(addrs), s.rnd)
		for j := range addrs {
			a := addrs[(rot+j)%len(addrs)]
			if qtype == dns.TypeA {
				b := a.As4()
				out = append(appendRRHeader(out, dns.TypeA, n.ttl, 4), b[:]...)
			} else {
				b := a.As16()
				out = append(appendRRHeader(out, dns.TypeAAAA, n.ttl, 16), b[:]...)
			}
		}
		an = uint16(len(addrs))
	default:
		return nil, outcome{}, false
	}
	if hasOpt {
		out = appendOPT(out, s.opts.MaxUDPSize, do)
	}
	if len(out) > limit {
		// Too large for this client over UDP: an empty answer with TC,
		// so it asks again over TCP.
		out = append(buf[:0], q[0], q[1], out[2]|bitTC, out[3], 0, 1, 0, 0, 0, 0, 0, 0)
		out = append(out, q[headerLen:qnameEnd+4]...)
		an, ns = 0, 0
		if hasOpt {
			out = appendOPT(out, s.opts.MaxUDPSize, do)
		}
		res.truncated = true
	}
	out[3] |= byte(res.rcode)
	binary.BigEndian.PutUint16(out[6:], an)
	binary.BigEndian.PutUint16(out[8:], ns)
	if hasOpt {
		out[11] = 1
	}
	return out, res, true
}

// appendRRHeader appends the fixed part of a record owned by the
// question's name.
func appendRRHeader(out []byte, rrtype uint16, ttl uint32, rdlen int) []byte {
	return append(out, ptrQName>>8, ptrQName&0xFF, byte(rrtype>>8), byte(rrtype), 0, dns.ClassINET,
		byte(ttl>>24), byte(ttl>>16), byte(ttl>>8), byte(ttl), byte(rdlen>>8), byte(rdlen))
}

// appendSOA appends the zone's SOA with ttl for the authority section of a
// negative answer. Its owner, the origin, is the tail of the question's
// name (of qnameLen bytes), which it points to.
func (z *zone) appendSOA(out []byte, qnameLen int, ttl uint32) []byte {
	ptr := 0xC000 | (headerLen + qnameLen - len(z.originWire))
	out = append(out, byte(ptr>>8), byte(ptr), byte(dns.TypeSOA>>8), byte(dns.TypeSOA), 0, dns.ClassINET,
		byte(ttl>>24), byte(ttl>>16), byte(ttl>>8), byte(ttl), byte(len(z.soaRdata)>>8), byte(len(z.soaRdata)))
	return append(out, z.soaRdata...)
}

// appendOPT appends the answer's OPT record: the UDP size this server
// accepts, EDNS version 0, the DO bit echoed (RFC 3225 §3), no options.
func appendOPT(out []byte, size uint16, do bool) []byte {
	var flags byte
	if do {
		flags = 0x80
	}
	return append(out, 0, byte(dns.TypeOPT>>8), byte(dns.TypeOPT), byte(size>>8), byte(size), 0, 0, flags, 0, 0, 0)
}

// ignorableOption: EDNS options this server does not act on and that
// cannot be malformed in a way that changes the answer (any content is a
// valid NSID request, client cookie or padding).
func ignorableOption(code uint16) bool {
	return code == dns.EDNS0NSID || code == dns.EDNS0COOKIE || code == dns.EDNS0PADDING
}
