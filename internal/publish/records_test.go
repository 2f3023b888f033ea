package publish

import (
	"testing"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

func TestFromDecision(t *testing.T) {
	tests := []struct {
		name    string
		serving []api.ServingTarget
		want    RecordSet
	}{
		{"one target", []api.ServingTarget{{Target: "dc1", Addresses: []string{"192.0.2.11", "192.0.2.10", "2001:db8::1"}, Weight: 1}},
			RecordSet{TTL: 30, A: []string{"192.0.2.10", "192.0.2.11"}, AAAA: []string{"2001:db8::1"}}},
		{"active-active: every serving target's addresses", []api.ServingTarget{
			{Target: "a", Addresses: []string{"192.0.2.10"}, Weight: 3}, {Target: "b", Addresses: []string{"198.51.100.10", "192.0.2.10"}, Weight: 1}},
			RecordSet{TTL: 30, A: []string{"192.0.2.10", "198.51.100.10"}}},
		{"cname of the heaviest", []api.ServingTarget{
			{Target: "a", CNAME: "a.example.net", Weight: 1}, {Target: "b", CNAME: "B.example.net.", Weight: 5}},
			RecordSet{TTL: 30, CNAME: "b.example.net."}},
		{"addresses win over a cname", []api.ServingTarget{
			{Target: "a", CNAME: "a.example.net", Weight: 9}, {Target: "b", Addresses: []string{"192.0.2.1"}, Weight: 1}},
			RecordSet{TTL: 30, A: []string{"192.0.2.1"}}},
		{"nothing serving: no record", nil, RecordSet{TTL: 30}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := FromDecision(api.Decision{Serving: tc.serving, TTLSeconds: 30})
			if !got.Equal(tc.want) || got.String() != tc.want.String() {
				t.Fatalf("FromDecision = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestEntries: one entry per destination; the digest ignores the
// generation (a decision that publishes the same records costs nothing)
// but not the records or the destination's settings.
func TestEntries(t *testing.T) {
	p := api.TrafficPolicy{Name: "web", Publish: &api.Publish{
		RFC2136: &api.PublishRFC2136{Server: "192.0.2.53", Zone: "example.internal", RecordName: "www.example.internal", TSIGKey: "k"},
		Route53: &api.PublishRoute53{ZoneID: "Z1", RecordName: "www.example.com"},
	}}
	d := api.Decision{Generation: 1, TTLSeconds: 30, Serving: []api.ServingTarget{{Target: "dc1", Addresses: []string{"192.0.2.10"}}}}
	es := Entries(p, d)
	if len(es) != 2 || es[0].Destination != api.DestinationRFC2136 || es[1].Destination != api.DestinationRoute53 {
		t.Fatalf("entries %+v", es)
	}
	d2 := d
	d2.Generation = 2
	if Entries(p, d2)[0].Digest() != es[0].Digest() {
		t.Error("the digest changed with the generation alone")
	}
	d2.Serving = []api.ServingTarget{{Target: "dc2", Addresses: []string{"198.51.100.10"}}}
	if Entries(p, d2)[0].Digest() == es[0].Digest() {
		t.Error("the digest did not change with the records")
	}
	if es[0].Digest() == es[1].Digest() {
		t.Error("two destinations share a digest")
	}
	if len(Entries(api.TrafficPolicy{Name: "x"}, d)) != 0 {
		t.Error("a policy without publish has entries")
	}
	if pol, ok := PolicyOfKey(StatusKey("web", api.DestinationRoute53)); !ok || pol != "web" {
		t.Errorf("PolicyOfKey(StatusKey) = %q, %t", pol, ok)
	}
}
