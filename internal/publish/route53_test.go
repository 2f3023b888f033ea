package publish

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// fakeRoute53 speaks the three Route 53 REST/XML calls the publisher
// uses, over a zone it keeps in memory, and records every request.
type fakeRoute53 struct {
	t        *testing.T
	mu       sync.Mutex
	sets     map[string]xmlSet // type → set at the one name the tests use
	batches  []string          // raw ChangeResourceRecordSets bodies
	auth     []string          // Authorization headers
	throttle int               // answer this many calls with Throttling first
	calls    map[string]int
	polls    int // GetChange calls; INSYNC from the second
}

type xmlSet struct {
	Name          string   `xml:"Name"`
	Type          string   `xml:"Type"`
	SetIdentifier string   `xml:"SetIdentifier,omitempty"`
	Weight        *int64   `xml:"Weight,omitempty"`
	TTL           int64    `xml:"TTL"`
	Values        []string `xml:"ResourceRecords>ResourceRecord>Value"`
}

type xmlChangeReq struct {
	Changes []struct {
		Action string `xml:"Action"`
		Set    xmlSet `xml:"ResourceRecordSet"`
	} `xml:"ChangeBatch>Changes>Change"`
}

func newFakeRoute53(t *testing.T) (*fakeRoute53, *httptest.Server) {
	f := &fakeRoute53{t: t, sets: map[string]xmlSet{}, calls: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	return f, srv
}

const r53NS = `xmlns="https://route53.amazonaws.com/doc/2013-04-01/"`

func (f *fakeRoute53) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	op := r.Method + " " + r.URL.Path
	f.calls[op]++
	if f.throttle > 0 {
		f.throttle--
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `<?xml version="1.0"?><ErrorResponse %s><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>x</RequestId></ErrorResponse>`, r53NS)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	switch {
	case r.Method == http.MethodPost && strings.TrimSuffix(r.URL.Path, "/") == "/2013-04-01/hostedzone/Z123/rrset":
		body, _ := io.ReadAll(r.Body)
		f.batches = append(f.batches, string(body))
		var req xmlChangeReq
		if err := xml.Unmarshal(body, &req); err != nil {
			f.t.Errorf("change batch does not parse: %v\n%s", err, body)
		}
		for _, c := range req.Changes {
			switch c.Action {
			case "DELETE":
				delete(f.sets, c.Set.Type)
			case "UPSERT":
				f.sets[c.Set.Type] = c.Set
			}
		}
		fmt.Fprintf(w, `<?xml version="1.0"?><ChangeResourceRecordSetsResponse %s><ChangeInfo><Id>/change/C1</Id><Status>PENDING</Status><SubmittedAt>2026-12-05T00:00:00Z</SubmittedAt></ChangeInfo></ChangeResourceRecordSetsResponse>`, r53NS)
	case r.Method == http.MethodGet && r.URL.Path == "/2013-04-01/change/C1":
		f.polls++
		status := "PENDING"
		if f.polls > 1 {
			status = "INSYNC"
		}
		fmt.Fprintf(w, `<?xml version="1.0"?><GetChangeResponse %s><ChangeInfo><Id>/change/C1</Id><Status>%s</Status><SubmittedAt>2026-12-05T00:00:00Z</SubmittedAt></ChangeInfo></GetChangeResponse>`, r53NS, status)
	case r.Method == http.MethodGet && r.URL.Path == "/2013-04-01/hostedzone/Z123/rrset":
		var keys []string
		for k := range f.sets {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			// By hand: encoding/xml would put every Value in one
			// ResourceRecord.
			x := f.sets[k]
			fmt.Fprintf(&b, "<ResourceRecordSet><Name>%s</Name><Type>%s</Type><TTL>%d</TTL><ResourceRecords>", x.Name, x.Type, x.TTL)
			for _, v := range x.Values {
				fmt.Fprintf(&b, "<ResourceRecord><Value>%s</Value></ResourceRecord>", v)
			}
			b.WriteString("</ResourceRecords></ResourceRecordSet>")
		}
		fmt.Fprintf(w, `<?xml version="1.0"?><ListResourceRecordSetsResponse %s><ResourceRecordSets>%s</ResourceRecordSets><IsTruncated>false</IsTruncated><MaxItems>100</MaxItems></ListResourceRecordSetsResponse>`, r53NS, b.String())
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `<?xml version="1.0"?><ErrorResponse %s><Error><Type>Sender</Type><Code>NoSuchHostedZone</Code><Message>%s</Message></Error></ErrorResponse>`, r53NS, op)
	}
}

func testRoute53(t *testing.T, endpoint string) *Route53 {
	t.Helper()
	// The default chain, fed from the environment only: never this
	// machine's real AWS configuration or IMDS.
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	r, err := NewRoute53(context.Background(), Route53Options{Endpoint: endpoint, MaxAttempts: 5})
	if err != nil {
		t.Fatal(err)
	}
	r.WaitMinDelay = 10 * time.Millisecond
	return r
}

func r53Entry(rs RecordSet) Entry {
	rs.Normalize()
	return Entry{Policy: "web", Destination: api.DestinationRoute53, Generation: 3,
		Route53: &api.PublishRoute53{ZoneID: "/hostedzone/Z123", RecordName: "www.example.com"}, Records: rs}
}

// TestRoute53ChangeBatch drives the real SDK client against a local
// server speaking Route 53's REST/XML: the exact change batch of each
// transition, SigV4 on every call, the wait for INSYNC, and read back.
func TestRoute53ChangeBatch(t *testing.T) {
	f, srv := newFakeRoute53(t)
	r := testRoute53(t, srv.URL)
	ctx := context.Background()
	steps := []struct {
		name  string
		rs    RecordSet
		batch []string // "ACTION TYPE TTL values" per change, in order
	}{
		{"addresses", RecordSet{TTL: 30, A: []string{"192.0.2.10", "192.0.2.11"}, AAAA: []string{"2001:db8::10"}},
			[]string{"UPSERT A 30 192.0.2.10,192.0.2.11", "UPSERT AAAA 30 2001:db8::10"}},
		{"failover to a cname", RecordSet{TTL: 60, CNAME: "lb.example.net"},
			[]string{"DELETE A 30 192.0.2.10,192.0.2.11", "DELETE AAAA 30 2001:db8::10", "UPSERT CNAME 60 lb.example.net."}},
		{"back to addresses", RecordSet{TTL: 30, A: []string{"198.51.100.1"}},
			[]string{"DELETE CNAME 60 lb.example.net.", "UPSERT A 30 198.51.100.1"}},
		{"nothing serving deletes", RecordSet{TTL: 30},
			[]string{"DELETE A 30 198.51.100.1"}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			f.mu.Lock()
			f.polls, f.batches = 0, nil
			f.mu.Unlock()
			e := r53Entry(s.rs)
			if err := r.Publish(ctx, e); err != nil {
				t.Fatal(err)
			}
			f.mu.Lock()
			batches, polls := f.batches, f.polls
			f.mu.Unlock()
			if len(batches) != 1 {
				t.Fatalf("%d change batches, want 1", len(batches))
			}
			var req xmlChangeReq
			xml.Unmarshal([]byte(batches[0]), &req)
			var got []string
			for _, c := range req.Changes {
				if c.Set.Name != "www.example.com." {
					t.Errorf("change of %q, want www.example.com.", c.Set.Name)
				}
				got = append(got, fmt.Sprintf("%s %s %d %s", c.Action, c.Set.Type, c.Set.TTL, strings.Join(c.Set.Values, ",")))
			}
			if strings.Join(got, "; ") != strings.Join(s.batch, "; ") {
				t.Errorf("change batch\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(s.batch, "\n"))
			}
			if polls < 2 {
				t.Errorf("GetChange polled %d times: the publisher did not wait for INSYNC", polls)
			}
			back, err := r.Read(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			if !back.Equal(e.Records) {
				t.Errorf("read back %v, published %v", back, e.Records)
			}
		})
	}
	f.mu.Lock()
	auth := f.auth
	f.mu.Unlock()
	for _, a := range auth {
		if !strings.HasPrefix(a, "AWS4-HMAC-SHA256 Credential=AKIDTEST/") || !strings.Contains(a, "/us-east-1/route53/aws4_request") {
			t.Fatalf("a request carries Authorization %q, want a SigV4 signature for route53", a)
		}
	}
}

// TestRoute53Throttling: Throttling answers are retried by the SDK's
// retryer, and the publication succeeds.
func TestRoute53Throttling(t *testing.T) {
	f, srv := newFakeRoute53(t)
	r := testRoute53(t, srv.URL)
	f.mu.Lock()
	f.throttle = 3
	f.mu.Unlock()
	if err := r.Publish(context.Background(), r53Entry(RecordSet{TTL: 30, A: []string{"192.0.2.1"}})); err != nil {
		t.Fatalf("publish with 3 throttled calls: %v", err)
	}
	f.mu.Lock()
	n := f.calls["GET /2013-04-01/hostedzone/Z123/rrset"]
	f.throttle = 100
	f.mu.Unlock()
	if n != 4 {
		t.Fatalf("ListResourceRecordSets called %d times, want 4 (3 throttled + 1)", n)
	}
	// More throttling than MaxAttempts: the error says so (the worker
	// then backs off and tries again).
	err := r.Publish(context.Background(), r53Entry(RecordSet{TTL: 30, A: []string{"192.0.2.2"}}))
	if err == nil || !strings.Contains(err.Error(), "Throttling") {
		t.Fatalf("err = %v, want the throttling to show after the retries", err)
	}
}

// TestRoute53Live publishes to a real hosted zone when credentials and
// FAILOVER_TEST_ROUTE53_ZONE_ID are set.
func TestRoute53Live(t *testing.T) {
	zone := os.Getenv("FAILOVER_TEST_ROUTE53_ZONE_ID")
	name := os.Getenv("FAILOVER_TEST_ROUTE53_RECORD") // e.g. failover-test.example.com
	if zone == "" || name == "" || (os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "") {
		t.Skip("skipped: set AWS credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE), FAILOVER_TEST_ROUTE53_ZONE_ID and FAILOVER_TEST_ROUTE53_RECORD to run against a real hosted zone")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	r, err := NewRoute53(ctx, Route53Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := Entry{Policy: "live", Destination: api.DestinationRoute53, Route53: &api.PublishRoute53{ZoneID: zone, RecordName: name},
		Records: RecordSet{TTL: 30, A: []string{"192.0.2.77"}}}
	if err := r.Publish(ctx, e); err != nil {
		t.Fatal(err)
	}
	back, err := r.Read(ctx, e)
	if err != nil || !back.Equal(e.Records) {
		t.Fatalf("read back %v, %v", back, err)
	}
	e.Records = RecordSet{TTL: 30}
	if err := r.Publish(ctx, e); err != nil {
		t.Fatalf("clean up: %v", err)
	}
}
