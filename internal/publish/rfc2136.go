package publish

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/miekg/dns"

	"github.com/hatopo/terraform-provider-failover/internal/policy"
)

// Publisher makes a destination hold an entry's record set and reads it
// back.
type Publisher interface {
	// Publish makes the entry's name hold exactly its record set (an
	// empty set deletes the name's A, AAAA and CNAME records), and returns
	// once the destination has confirmed it.
	Publish(ctx context.Context, e Entry) error
	// Read returns what the destination answers for the entry's name.
	Read(ctx context.Context, e Entry) (RecordSet, error)
}

// tsigFudge is the clock skew a TSIG signature tolerates (RFC 8945
// recommends 300 s).
const tsigFudge = 300

// RFC2136 publishes by DNS dynamic update (RFC 2136), signed with TSIG
// (RFC 8945), over TCP: an update replaces the name's A, AAAA and CNAME
// records in one message, which the server applies atomically.
type RFC2136 struct {
	Keys TSIGKeys
	// Timeout bounds one exchange (default 10 s).
	Timeout time.Duration
}

func (u *RFC2136) client(keyName string) (*dns.Client, TSIGKey, error) {
	key, ok := u.Keys.Lookup(keyName)
	if !ok {
		return nil, key, fmt.Errorf("tsig_key %q is not in failoverd's --tsig-keys file (%d keys loaded): add a line \"%s hmac-sha256 <base64-secret>\" with the server's secret and restart failoverd", keyName, len(u.Keys), keyName)
	}
	timeout := u.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return &dns.Client{Net: "tcp", Timeout: timeout, TsigSecret: map[string]string{key.Name: key.Secret}}, key, nil
}

// Publish implements Publisher.
func (u *RFC2136) Publish(ctx context.Context, e Entry) error {
	cfg := e.RFC2136
	if cfg == nil {
		return errors.New("rfc2136: entry has no rfc2136 settings")
	}
	c, key, err := u.client(cfg.TSIGKey)
	if err != nil {
		return err
	}
	name, zone := dns.Fqdn(cfg.RecordName), dns.Fqdn(cfg.Zone)
	m := new(dns.Msg)
	m.SetUpdate(zone)
	var remove []dns.RR
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeCNAME} {
		remove = append(remove, &dns.ANY{Hdr: dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET}})
	}
	m.RemoveRRset(remove)
	if add := rrs(name, e.Records); len(add) > 0 {
		m.Insert(add)
	}
	m.SetTsig(key.Name, key.Algorithm, tsigFudge, time.Now().Unix())
	addr := policy.ServerAddr(cfg.Server)
	r, _, err := c.ExchangeContext(ctx, m, addr)
	if err != nil {
		return exchangeError("update", addr, key, err)
	}
	return rcodeError(r, addr, zone, key)
}

// Read implements Publisher: it asks the server for the name's A, AAAA
// and CNAME records (TSIG-signed, so a server that only answers its
// update key answers too).
func (u *RFC2136) Read(ctx context.Context, e Entry) (RecordSet, error) {
	cfg := e.RFC2136
	c, key, err := u.client(cfg.TSIGKey)
	if err != nil {
		return RecordSet{}, err
	}
	name, addr := dns.Fqdn(cfg.RecordName), policy.ServerAddr(cfg.Server)
	var rs RecordSet
	for _, t := range []uint16{dns.TypeCNAME, dns.TypeA, dns.TypeAAAA} {
		m := new(dns.Msg)
		m.SetQuestion(name, t)
		m.RecursionDesired = false
		m.SetTsig(key.Name, key.Algorithm, tsigFudge, time.Now().Unix())
		r, _, err := c.ExchangeContext(ctx, m, addr)
		if err != nil {
			return RecordSet{}, exchangeError("query", addr, key, err)
		}
		if r.Rcode == dns.RcodeNameError {
			return RecordSet{}, nil
		}
		if err := rcodeError(r, addr, dns.Fqdn(cfg.Zone), key); err != nil {
			return RecordSet{}, err
		}
		for _, rr := range r.Answer {
			h := rr.Header()
			if !dns.IsSubDomain(name, h.Name) || !dns.IsSubDomain(h.Name, name) {
				continue // a record of a name the CNAME points to
			}
			switch v := rr.(type) {
			case *dns.A:
				if t == dns.TypeA {
					rs.A, rs.TTL = append(rs.A, v.A.String()), int(h.Ttl)
				}
			case *dns.AAAA:
				if t == dns.TypeAAAA {
					rs.AAAA, rs.TTL = append(rs.AAAA, v.AAAA.String()), int(h.Ttl)
				}
			case *dns.CNAME:
				if t == dns.TypeCNAME {
					rs.CNAME, rs.TTL = v.Target, int(h.Ttl)
				}
			}
		}
		if rs.CNAME != "" {
			break // a name with a CNAME holds nothing else
		}
	}
	rs.Normalize()
	return rs, nil
}

// rrs are the resource records of a set at name.
func rrs(name string, s RecordSet) []dns.RR {
	ttl := uint32(max(s.TTL, 0))
	hdr := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
	}
	var out []dns.RR
	if s.CNAME != "" {
		return []dns.RR{&dns.CNAME{Hdr: hdr(dns.TypeCNAME), Target: dns.Fqdn(s.CNAME)}}
	}
	for _, a := range s.A {
		out = append(out, &dns.A{Hdr: hdr(dns.TypeA), A: net.ParseIP(a)})
	}
	for _, a := range s.AAAA {
		out = append(out, &dns.AAAA{Hdr: hdr(dns.TypeAAAA), AAAA: net.ParseIP(a)})
	}
	return out
}

func exchangeError(what, addr string, key TSIGKey, err error) error {
	if errors.Is(err, dns.ErrSig) || errors.Is(err, dns.ErrSecret) || errors.Is(err, dns.ErrAuth) {
		// A server answers BADSIG or BADKEY unsigned, which is all the
		// client sees.
		return fmt.Errorf("rfc2136: %s refused TSIG key %s (its answer to the %s is not signed with the key: %v): check that --tsig-keys holds the same name, algorithm (%s) and secret as the server, and that failoverd's clock is right", addr, key.Name, what, err, key.Algorithm)
	}
	return fmt.Errorf("rfc2136 %s to %s: %w", what, addr, err)
}

// rcodeError explains a refused update or query, or returns nil.
func rcodeError(r *dns.Msg, addr, zone string, key TSIGKey) error {
	if r.Rcode == dns.RcodeSuccess {
		return nil
	}
	rc := dns.RcodeToString[r.Rcode]
	if t := r.IsTsig(); t != nil && t.Error != dns.RcodeSuccess {
		// BADSIG, BADKEY, BADTIME travel in the TSIG record.
		return fmt.Errorf("rfc2136: %s refused TSIG key %s: %s/%s: check that --tsig-keys holds the same name, algorithm (%s) and secret as the server, and that failoverd's clock is right", addr, key.Name, rc, dns.RcodeToString[int(t.Error)], key.Algorithm)
	}
	switch r.Rcode {
	case dns.RcodeNotAuth:
		return fmt.Errorf("rfc2136: %s answered NOTAUTH for zone %s with key %s: the server does not know the key (name or algorithm differ from --tsig-keys), or is not authoritative for the zone", addr, zone, key.Name)
	case dns.RcodeRefused:
		return fmt.Errorf("rfc2136: %s REFUSED the update of zone %s: allow updates signed with key %s in the server's ACL for the zone, and send them to the zone's primary", addr, zone, key.Name)
	case dns.RcodeNotZone:
		return fmt.Errorf("rfc2136: %s answered NOTZONE: the record name is not inside zone %s", addr, zone)
	}
	return fmt.Errorf("rfc2136: %s answered %s for zone %s", addr, rc, zone)
}
