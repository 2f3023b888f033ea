package policy

import (
	"encoding/json"
	"net"
	"reflect"
	"strings"
	"testing"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

func validPublish() *api.Publish {
	return &api.Publish{
		Route53: &api.PublishRoute53{ZoneID: "Z0123456789ABCDEFGHIJ", RecordName: "www.example.com"},
		RFC2136: &api.PublishRFC2136{Server: "192.0.2.53:5353", Zone: "example.internal.", RecordName: "www.example.internal", TSIGKey: "failover-update"},
	}
}

func TestValidatePublish(t *testing.T) {
	tests := []struct {
		name string
		edit func(*api.Publish)
		errs map[string]string // field → substring of its detail
	}{
		{"valid", func(*api.Publish) {}, nil},
		{"zone id with prefix", func(p *api.Publish) { p.Route53.ZoneID = "/hostedzone/Z123" }, nil},
		{"ipv6 server", func(p *api.Publish) { p.RFC2136.Server = "[2001:db8::53]:53" }, nil},
		{"server without port", func(p *api.Publish) { p.RFC2136.Server = "ns1.example.internal" }, nil},
		{"no destination", func(p *api.Publish) { p.Route53, p.RFC2136 = nil, nil }, map[string]string{"publish": "names no destination"}},
		{"missing fields", func(p *api.Publish) {
			*p.Route53 = api.PublishRoute53{}
			*p.RFC2136 = api.PublishRFC2136{}
		}, map[string]string{
			"publish.route53.zone_id":     "is required",
			"publish.route53.record_name": "is required",
			"publish.rfc2136.server":      "is required",
			"publish.rfc2136.zone":        "is required",
			"publish.rfc2136.record_name": "is required",
			"publish.rfc2136.tsig_key":    "is required",
		}},
		{"bad zone id", func(p *api.Publish) { p.Route53.ZoneID = "z-lower" }, map[string]string{"publish.route53.zone_id": "not a hosted zone id"}},
		{"record outside zone", func(p *api.Publish) { p.RFC2136.RecordName = "www.example.com" }, map[string]string{"publish.rfc2136.record_name": "not inside zone"}},
		{"record at apex", func(p *api.Publish) { p.RFC2136.RecordName = "Example.Internal" }, map[string]string{"publish.rfc2136.record_name": "zone apex"}},
		{"bad port", func(p *api.Publish) { p.RFC2136.Server = "192.0.2.53:99999" }, map[string]string{"publish.rfc2136.server": "not a number from 1 to 65535"}},
		{"bad host", func(p *api.Publish) { p.RFC2136.Server = "ns_1!:53" }, map[string]string{"publish.rfc2136.server": "names the host"}},
		{"bad key name", func(p *api.Publish) { p.RFC2136.TSIGKey = "my key" }, map[string]string{"publish.rfc2136.tsig_key": "not a TSIG key name"}},
		{"ip record name", func(p *api.Publish) { p.Route53.RecordName = "192.0.2.1" }, map[string]string{"publish.route53.record_name": "IP address"}},
		{"long set identifier", func(p *api.Publish) { p.Route53.SetIdentifier = strings.Repeat("a", 129) }, map[string]string{"publish.route53.set_identifier": "at most 128"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pol := validPolicy()
			pol.Publish = validPublish()
			tc.edit(pol.Publish)
			got := map[string]string{}
			for _, p := range Validate(pol).Errors() {
				got[p.Field] = p.Detail
			}
			if len(got) != len(tc.errs) {
				t.Fatalf("errors %v, want fields %v", got, tc.errs)
			}
			for f, want := range tc.errs {
				if !strings.Contains(got[f], want) {
					t.Errorf("%s: %q, want it to contain %q", f, got[f], want)
				}
			}
		})
	}
}

func TestServerAddr(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.53":           "192.0.2.53:53",
		"192.0.2.53:5353":      "192.0.2.53:5353",
		"2001:db8::53":         "[2001:db8::53]:53",
		"[2001:db8::53]:54":    "[2001:db8::53]:54",
		"ns1.example.internal": "ns1.example.internal:53",
	} {
		if got := ServerAddr(in); got != want {
			t.Errorf("ServerAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzValidatePublish(f *testing.F) {
	b, _ := json.Marshal(validPublish())
	f.Add(b)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"rfc2136":{"server":"[::1","zone":".","record_name":"..","tsig_key":"\u0000"}}`))
	f.Add([]byte(`{"route53":{"zone_id":"/hostedzone/","record_name":"a.b.","set_identifier":""}}`))
	f.Add([]byte(`{"rfc2136":{"server":"a:0","zone":"x","record_name":"y.x","tsig_key":"k"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var pub api.Publish
		if json.Unmarshal(data, &pub) != nil {
			return
		}
		pol := validPolicy()
		pol.Publish = &pub
		ps := Validate(pol)
		checkProblems(t, ps)
		if !reflect.DeepEqual(ps, Validate(pol)) {
			t.Fatal("Validate is not deterministic")
		}
		if pub.RFC2136 != nil && len(ps.Errors()) == 0 {
			// A server that passed must be dialable as ServerAddr says.
			if _, _, err := net.SplitHostPort(ServerAddr(pub.RFC2136.Server)); err != nil {
				t.Fatalf("valid server %q gives an undialable address: %v", pub.RFC2136.Server, err)
			}
		}
	})
}
