package publish

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// RecordSet is what a published name holds: addresses (A and AAAA) or a
// CNAME, with one TTL. Empty: the name holds none of them.
type RecordSet struct {
	TTL   int      `json:"ttl"`
	A     []string `json:"a,omitempty"`
	AAAA  []string `json:"aaaa,omitempty"`
	CNAME string   `json:"cname,omitempty"`
}

// Empty reports whether the set holds no record.
func (r RecordSet) Empty() bool { return len(r.A) == 0 && len(r.AAAA) == 0 && r.CNAME == "" }

// Equal compares two sets as DNS does: address order and name case do
// not matter.
func (r RecordSet) Equal(o RecordSet) bool {
	if r.Empty() && o.Empty() {
		return true
	}
	return r.TTL == o.TTL && slices.Equal(r.A, o.A) && slices.Equal(r.AAAA, o.AAAA) &&
		strings.EqualFold(dns.CanonicalName(r.CNAME), dns.CanonicalName(o.CNAME))
}

// Normalize sorts and canonicalizes the set in place (what Equal expects).
func (r *RecordSet) Normalize() {
	r.A, r.AAAA = normAddrs(r.A), normAddrs(r.AAAA)
	if r.CNAME != "" {
		r.CNAME = strings.ToLower(dns.CanonicalName(r.CNAME))
	}
}

func normAddrs(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	as := make([]netip.Addr, 0, len(in))
	for _, s := range in {
		if a, err := netip.ParseAddr(s); err == nil {
			as = append(as, a.Unmap().WithZone(""))
		}
	}
	slices.SortFunc(as, func(a, b netip.Addr) int { return a.Compare(b) })
	as = slices.Compact(as)
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}

// FromDecision is the record set that mirrors a decision: exactly what
// failoverd's own DNS answers at the policy's name, as a static server
// can hold it.
//
//   - Addresses: every serving target's addresses, A and AAAA, with the
//     policy's TTL. failoverd's own DNS answers one target per query,
//     chosen by weight; a static record set cannot weigh, so an
//     active-active decision publishes every serving target's addresses
//     (the resolver spreads the load).
//   - CNAME: when no serving target has addresses, the CNAME of the
//     heaviest serving target (ties: the first in the decision's order,
//     which is the evaluator's preference order). A name holds one CNAME
//     and nothing else, so targets that answer with a CNAME are published
//     only when no target answers with addresses.
//   - Nothing serving (when_all_down = "fail_closed" and every target
//     down): the empty set, so the record is DELETED at the destination,
//     as failoverd's own DNS answers no record then. Clients get NXDOMAIN
//     (or NODATA) rather than an address known to be down; the record
//     comes back with the next decision that serves something.
func FromDecision(d api.Decision) RecordSet {
	rs := RecordSet{TTL: max(d.TTLSeconds, 0)}
	best := -1
	for i, st := range d.Serving {
		for _, s := range st.Addresses {
			a, err := netip.ParseAddr(s)
			if err != nil {
				continue
			}
			if a = a.Unmap(); a.Is4() {
				rs.A = append(rs.A, a.String())
			} else {
				rs.AAAA = append(rs.AAAA, a.String())
			}
		}
		if st.CNAME != "" && (best < 0 || st.Weight > d.Serving[best].Weight) {
			best = i
		}
	}
	if len(rs.A) == 0 && len(rs.AAAA) == 0 && best >= 0 {
		rs.CNAME = d.Serving[best].CNAME
	}
	rs.Normalize()
	return rs
}
