package policy

import (
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// DefaultDNSPort is the port of an rfc2136 server given without one.
const DefaultDNSPort = "53"

// MaxRoute53ZoneID bounds a hosted zone id (AWS ids are 32 characters at
// most: "Z" and up to 31 upper-case letters and digits).
const MaxRoute53ZoneID = 32

// validatePublish checks a policy's publish block. Whether a tsig_key
// names a key of --tsig-keys is known only to the failoverd that holds
// the file: it reports an unknown name in the destination's status.
func validatePublish(ps *api.Problems, pub *api.Publish) {
	if pub == nil {
		return
	}
	if pub.Route53 == nil && pub.RFC2136 == nil {
		ps.Add("publish", `names no destination: add route53 = { zone_id = "Z0123456789ABCDEFGHIJ", record_name = "www.example.com" } or rfc2136 = { server = "192.0.2.53", zone = "example.internal", record_name = "www.example.internal", tsig_key = "failover" }, or remove publish`)
	}
	if r := pub.Route53; r != nil {
		f := "publish.route53"
		switch id := strings.TrimPrefix(r.ZoneID, "/hostedzone/"); {
		case id == "":
			ps.Add(f+".zone_id", `is required: the id of the hosted zone, e.g. "Z0123456789ABCDEFGHIJ" (aws route53 list-hosted-zones)`)
		case len(id) > MaxRoute53ZoneID || !isUpperAlnum(id):
			ps.Add(f+".zone_id", "%q is not a hosted zone id: ids are up to %d upper-case letters and digits, e.g. \"Z0123456789ABCDEFGHIJ\"", r.ZoneID, MaxRoute53ZoneID)
		}
		checkRecordName(ps, f+".record_name", r.RecordName, "")
		if len(r.SetIdentifier) > 128 {
			ps.Add(f+".set_identifier", "is %d characters long, Route 53 accepts at most 128: shorten it", len(r.SetIdentifier))
		}
	}
	if r := pub.RFC2136; r != nil {
		f := "publish.rfc2136"
		checkServer(ps, f+".server", r.Server)
		zoneOK := false
		if r.Zone == "" {
			ps.Add(f+".zone", `is required: the zone the server is primary for, e.g. "example.internal"`)
		} else if msg := checkZoneName(r.Zone); msg != "" {
			ps.Add(f+".zone", "%q %s", r.Zone, msg)
		} else {
			zoneOK = true
		}
		zone := ""
		if zoneOK {
			zone = r.Zone
		}
		checkRecordName(ps, f+".record_name", r.RecordName, zone)
		if r.TSIGKey == "" {
			ps.Add(f+".tsig_key", `is required: the name of a key in failoverd's --tsig-keys file (the secret itself never goes through the API)`)
		} else if msg := checkZoneName(r.TSIGKey); msg != "" {
			ps.Add(f+".tsig_key", "%q is not a TSIG key name: key names are DNS names such as \"failover-update\"", r.TSIGKey)
		}
	}
}

// checkRecordName checks the name a destination publishes; inZone, when
// set, is the zone the name must be in.
func checkRecordName(ps *api.Problems, field, name, inZone string) {
	if name == "" {
		ps.Add(field, `is required: the fully qualified name clients resolve, e.g. "www.example.com"`)
		return
	}
	if msg := checkDNSName(name); msg != "" {
		ps.Add(field, "%q %s", name, msg)
		return
	}
	if inZone != "" {
		n, z := canonical(name), canonical(inZone)
		if n == z {
			ps.Add(field, "%q is the zone apex, which holds the zone's SOA and NS records and cannot be a CNAME: publish a name inside the zone, e.g. \"www.%s\"", name, strings.TrimSuffix(inZone, "."))
		} else if !strings.HasSuffix(n, "."+z) {
			ps.Add(field, "%q is not inside zone %q: a server only updates names of the zone it is primary for", name, inZone).Read("publish.rfc2136.zone")
		}
	}
}

// checkZoneName returns what is wrong with a zone or key name ("" when
// nothing): like a host name, but one label is allowed.
func checkZoneName(name string) string {
	n := strings.TrimSuffix(name, ".")
	if strings.Contains(n, ".") {
		return checkDNSName(n)
	}
	return checkDNSName(n + ".x")
}

// checkServer checks an rfc2136 server: host or host:port.
func checkServer(ps *api.Problems, field, s string) {
	const fix = `: write the primary server as an address or host name, with an optional port, e.g. "192.0.2.53", "192.0.2.53:5353", "[2001:db8::53]:53" or "ns1.example.internal"`
	if s == "" {
		ps.Add(field, "is required"+fix)
		return
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		host, port = s, DefaultDNSPort
		if strings.Count(s, ":") > 1 {
			host = strings.Trim(s, "[]")
		}
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		ps.Add(field, "%q has port %q, not a number from 1 to 65535%s", s, port, fix)
		return
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return
	}
	if msg := checkZoneName(host); msg != "" {
		ps.Add(field, "%q names the host %q, which %s", s, host, strings.TrimPrefix(msg, "is ")+fix)
	}
}

// ServerAddr is s as host:port, with the default port added: the address
// publishers dial. s must have passed validation.
func ServerAddr(s string) string {
	if _, _, err := net.SplitHostPort(s); err == nil {
		return s
	}
	return net.JoinHostPort(strings.Trim(s, "[]"), DefaultDNSPort)
}

func canonical(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) }

func isUpperAlnum(s string) bool {
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
