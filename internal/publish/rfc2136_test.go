package publish

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/launch"
)

const (
	testZone      = "example.test."
	testKeyName   = "failover-update"
	testKeySecret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=" // 32 bytes
)

// startKnot starts a real knotd primary for testZone that accepts updates
// signed with testKeyName.
func startKnot(t *testing.T) *launch.Knot {
	t.Helper()
	bin := launch.KnotForTest(t)
	k, err := launch.StartKnot(context.Background(), launch.KnotOptions{Bin: bin, Dir: t.TempDir(), Zone: testZone,
		KeyName: testKeyName, KeySecret: testKeySecret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	return k
}

func testKeys(t *testing.T, secret string) TSIGKeys {
	t.Helper()
	keys, err := ParseTSIGKeys([]byte(testKeyName + " hmac-sha256 " + secret + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func knotEntry(k *launch.Knot, rs RecordSet) Entry {
	return Entry{Policy: "web", Destination: api.DestinationRFC2136, Generation: 1,
		RFC2136: &api.PublishRFC2136{Server: k.Addr(), Zone: "example.test", RecordName: "www.example.test", TSIGKey: testKeyName},
		Records: rs}
}

// TestRFC2136AgainstKnot drives a real knot through every shape of record
// set — addresses, both families, a CNAME, nothing — and checks each with
// a plain DNS query to knot, then reads it back as reconciliation does.
func TestRFC2136AgainstKnot(t *testing.T) {
	k := startKnot(t)
	u := &RFC2136{Keys: testKeys(t, testKeySecret), Timeout: 5 * time.Second}
	steps := []struct {
		name        string
		rs          RecordSet
		a, aaaa, cn []string
	}{
		{"addresses", RecordSet{TTL: 30, A: []string{"192.0.2.10", "192.0.2.11"}}, []string{"192.0.2.10", "192.0.2.11"}, nil, nil},
		{"both families", RecordSet{TTL: 60, A: []string{"192.0.2.20"}, AAAA: []string{"2001:db8::20"}}, []string{"192.0.2.20"}, []string{"2001:db8::20"}, nil},
		{"cname replaces addresses", RecordSet{TTL: 30, CNAME: "lb.example.net."}, nil, nil, []string{"lb.example.net."}},
		{"addresses replace cname", RecordSet{TTL: 30, A: []string{"192.0.2.30"}}, []string{"192.0.2.30"}, nil, nil},
		{"nothing serving deletes", RecordSet{TTL: 30}, nil, nil, nil},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			e := knotEntry(k, s.rs)
			e.Records.Normalize()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := u.Publish(ctx, e); err != nil {
				t.Fatalf("publish: %v\nknot:\n%s", err, k.Logs())
			}
			for _, q := range []struct {
				t    uint16
				want []string
			}{{dns.TypeA, s.a}, {dns.TypeAAAA, s.aaaa}, {dns.TypeCNAME, s.cn}} {
				got, err := launch.QueryKnot(k.Addr(), "www.example.test", q.t)
				if err != nil {
					t.Fatal(err)
				}
				if strings.Join(got, ",") != strings.Join(q.want, ",") {
					t.Errorf("knot answers %s %v, want %v", dns.TypeToString[q.t], got, q.want)
				}
			}
			back, err := u.Read(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			if !back.Equal(e.Records) {
				t.Errorf("read back %+v, published %+v", back, e.Records)
			}
		})
	}
}

// TestRFC2136WrongKey: a secret that does not match the server's is a
// clear error naming the key, and the zone is untouched.
func TestRFC2136WrongKey(t *testing.T) {
	k := startKnot(t)
	good := &RFC2136{Keys: testKeys(t, testKeySecret), Timeout: 5 * time.Second}
	ctx := context.Background()
	if err := good.Publish(ctx, knotEntry(k, RecordSet{TTL: 30, A: []string{"192.0.2.10"}})); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		u    *RFC2136
		key  string
		want string
	}{
		{"wrong secret", &RFC2136{Keys: testKeys(t, "d3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmc="), Timeout: 5 * time.Second}, testKeyName, "refused TSIG key failover-update."},
		{"key not in file", good, "other-key", `tsig_key "other-key" is not in failoverd's --tsig-keys file`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := knotEntry(k, RecordSet{TTL: 30, A: []string{"198.51.100.1"}})
			e.RFC2136.TSIGKey = tc.key
			err := tc.u.Publish(ctx, e)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			got, _ := launch.QueryKnot(k.Addr(), "www.example.test", dns.TypeA)
			if strings.Join(got, ",") != "192.0.2.10" {
				t.Fatalf("a refused update changed the record: %v", got)
			}
		})
	}
}
