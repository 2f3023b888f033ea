package dnsserver

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/engine"
	"github.com/hatopo/terraform-provider-failover/internal/store"
)

const testZone = "failover.internal."

// testServer is a Server on 127.0.0.1:0 answering from a snapshot the
// test controls.
type testServer struct {
	*Server
	snap atomic.Pointer[engine.Snapshot]
	reg  *prometheus.Registry
}

// newTestServer serves decisions; opts may adjust the options.
func newTestServer(t testing.TB, opts func(*Options), decisions ...api.Decision) *testServer {
	t.Helper()
	ts := &testServer{reg: prometheus.NewRegistry()}
	ts.set(decisions...)
	o := Options{Zone: testZone, Snapshot: ts.snap.Load, Registerer: ts.reg, Logger: quietLogger()}
	if opts != nil {
		opts(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ts.Server = s
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(context.Background()) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return ts
}

// set publishes a new snapshot answering exactly decisions, like the
// engine does on every change.
func (ts *testServer) set(decisions ...api.Decision) {
	ts.snap.Store(successor(ts.snap.Load(), decisions...))
}

// successor is the snapshot after prev (nil: the first) that answers
// exactly decisions: the others are removed.
func successor(prev *engine.Snapshot, decisions ...api.Decision) *engine.Snapshot {
	if prev == nil {
		return engine.NewSnapshot(testZone, decisions...)
	}
	keep := map[string]bool{}
	for _, d := range decisions {
		keep[d.Policy] = true
	}
	var changes []api.Decision
	prev.RangeDecisions(func(name string, _ *engine.PolicyAnswer) bool {
		if !keep[name] {
			changes = append(changes, api.Decision{Policy: name}) // generation 0 removes it
		}
		return true
	})
	return prev.WithDecisions(append(changes, decisions...)...)
}

// exchange sends m over network ("udp" or "tcp") and returns the answer.
func (ts *testServer) exchange(t testing.TB, network string, m *dns.Msg) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: network, Timeout: 5 * time.Second, UDPSize: 65535}
	r, _, err := c.Exchange(m, ts.Addr())
	if err != nil {
		t.Fatalf("%s query %v: %v", network, m.Question, err)
	}
	if r.Id != m.Id {
		t.Fatalf("answer id %d, want %d", r.Id, m.Id)
	}
	return r
}

// query is a question for qname and qtype, with EDNS0 announcing size
// when size > 0.
func query(qname string, qtype uint16, size uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(qname, qtype)
	if size > 0 {
		m.SetEdns0(size, false)
	}
	return m
}

// decision is a fixture: policy serving targets, each "name=addr,addr"
// or "name=cname." (a trailing dot marks a cname), weight 1.
func decision(policy string, ttl int, targets ...string) api.Decision {
	d := api.Decision{Policy: policy, TTLSeconds: ttl, Generation: 1, Since: time.Unix(1_700_000_000, 0), Serving: []api.ServingTarget{}}
	for _, t := range targets {
		name, answer, _ := strings.Cut(t, "=")
		st := api.ServingTarget{Target: name, Weight: 1}
		if strings.HasSuffix(answer, ".") {
			st.CNAME = answer
		} else {
			st.Addresses = strings.Split(answer, ",")
		}
		d.Serving = append(d.Serving, st)
	}
	return d
}

func weighted(d api.Decision, weights ...int) api.Decision {
	for i, w := range weights {
		d.Serving[i].Weight = w
	}
	return d
}

// records renders a section as "owner ttl TYPE data", owners lower case.
func records(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		f := strings.Fields(rr.String())
		f[0] = strings.ToLower(f[0])
		out = append(out, strings.Join(append(f[:2:2], f[3:]...), " "))
	}
	return out
}

func addrs(prefix string, n int) string {
	var a []string
	for i := range n {
		a = append(a, fmt.Sprintf("%s.%d", prefix, i+1))
	}
	return strings.Join(a, ",")
}

// TestListenPortZeroServesUDPAndTCPOnOnePort: port 0 picks one port for
// both transports, and both answer.
func TestListenPortZeroServesUDPAndTCPOnOnePort(t *testing.T) {
	ts := newTestServer(t, nil, decision("web", 5, "dc1=192.0.2.10"))
	if ts.UDPAddr().Port != ts.TCPAddr().Port || ts.UDPAddr().Port == 0 {
		t.Fatalf("udp %s, tcp %s: want one non-zero port", ts.UDPAddr(), ts.TCPAddr())
	}
	if ts.Addr() != ts.TCPAddr().String() {
		t.Fatalf("Addr() %q, want %q", ts.Addr(), ts.TCPAddr())
	}
	for _, network := range []string{"udp", "tcp"} {
		r := ts.exchange(t, network, query("web.failover.internal.", dns.TypeA, 0))
		if got := records(r.Answer); !slices.Equal(got, []string{"web.failover.internal. 5 A 192.0.2.10"}) {
			t.Errorf("%s: answer %q", network, got)
		}
	}
}

// TestListenFailsOnABusyPort: a second server on the same address is an
// error, not a silent share of the port.
func TestListenFailsOnABusyPort(t *testing.T) {
	ts := newTestServer(t, nil)
	s, err := New(Options{Zone: testZone, Snapshot: ts.snap.Load})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(ts.Addr()); err == nil {
		t.Fatalf("second Listen on %s succeeded", ts.Addr())
	}
	// Only UDP taken (by a plain socket): also an error.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if err := s.Listen(pc.LocalAddr().String()); err == nil {
		t.Fatalf("Listen on %s, whose UDP port is taken, succeeded", pc.LocalAddr())
	}
}

func TestNewRejectsBadZones(t *testing.T) {
	snap := func() *engine.Snapshot { return nil }
	for _, tc := range []struct{ zone, want string }{
		{"failover.internal", "failover.internal."},
		{"Failover.Internal.", "failover.internal."},
		{"example.org.", "example.org."},
		{"", "error"},
		{".", "error"},
		{"a..b", "error"},
		{".example.org", "error"},
		{"bad name.example", "error"},
	} {
		t.Run(tc.zone, func(t *testing.T) {
			s, err := New(Options{Zone: tc.zone, Snapshot: snap})
			got := "error"
			if err == nil {
				got = s.Zone()
			}
			if got != tc.want {
				t.Fatalf("zone %q: got %q (err %v), want %q", tc.zone, got, err, tc.want)
			}
		})
	}
	if _, err := New(Options{Zone: testZone}); err == nil {
		t.Fatal("New without Snapshot succeeded")
	}
}

// TestShutdownIsGracefulAndFinal: after Shutdown nothing answers, and a
// TCP client idling on a connection does not hold it up.
func TestShutdownIsGracefulAndFinal(t *testing.T) {
	snap := engine.NewSnapshot(testZone, decision("web", 5, "dc1=192.0.2.10"))
	s, err := New(Options{Zone: testZone, Snapshot: func() *engine.Snapshot { return snap }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	go func() { served <- s.Serve(ctx) }()
	idle, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	c := &dns.Client{Net: "udp", Timeout: time.Second}
	if _, _, err := c.Exchange(query("web.failover.internal.", dns.TypeA, 0), s.Addr()); err != nil {
		t.Fatalf("before shutdown: %v", err)
	}
	start := time.Now()
	cancel() // Serve shuts down itself when its context ends
	if err := <-served; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("shutdown took %s with an idle TCP client", took)
	}
	c.Timeout = 300 * time.Millisecond
	if _, _, err := c.Exchange(query("web.failover.internal.", dns.TypeA, 0), s.Addr()); err == nil {
		t.Error("answered after shutdown")
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
}

// engineRig is a real engine on a bolt store, with a DNS server on it.
type engineRig struct {
	t *testing.T
	e *engine.Engine
	s *Server
}

func newEngineRig(t *testing.T) *engineRig {
	st, err := store.OpenBolt(filepath.Join(t.TempDir(), "failoverd.db"), store.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	quiet := quietLogger()
	e, err := engine.New(engine.Options{Store: st, Site: "local", Zone: testZone, BaseURL: "http://127.0.0.1:1", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Zone: testZone, Snapshot: e.Snapshot, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	go s.Serve(context.Background())
	t.Cleanup(func() {
		s.Shutdown(context.Background())
		e.Close()
		st.Close()
	})
	return &engineRig{t: t, e: e, s: s}
}

func (r *engineRig) put(o api.Object) {
	r.t.Helper()
	var v uint64 = 1
	if cur, ok := r.e.Get(o.ObjectKind(), o.ObjectName()); ok {
		v = cur.ObjectVersion() + 1
	}
	o = api.WithVersion(o, v)
	err := r.e.Mutate(context.Background(), func() (*engine.Change, error) {
		return &engine.Change{Kind: o.ObjectKind(), Name: o.ObjectName(), Object: o,
			Audit: api.Event{Type: api.EventAudit, Message: "test"}}, nil
	})
	if err != nil {
		r.t.Fatal(err)
	}
}

// answerA is what the server answers for name's A records over UDP.
func answerA(t *testing.T, addr, name string) string {
	t.Helper()
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	r, _, err := c.Exchange(query(name, dns.TypeA, 0), addr)
	if err != nil {
		t.Fatalf("query %s: %v", name, err)
	}
	if r.Rcode != dns.RcodeSuccess {
		return dns.RcodeToString[r.Rcode]
	}
	var out []string
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	return strings.Join(out, ",")
}

// backend is a real HTTP server that can be stopped and started on the
// same port.
type backend struct {
	t    *testing.T
	mu   sync.Mutex
	addr string
	srv  *http.Server
}

func newBackend(t *testing.T) *backend {
	b := &backend{t: t, addr: "127.0.0.1:0"}
	b.up()
	t.Cleanup(b.down)
	return b
}

func (b *backend) up() {
	ln, err := net.Listen("tcp", b.addr)
	for i := 0; err != nil && i < 50; i++ {
		time.Sleep(20 * time.Millisecond)
		ln, err = net.Listen("tcp", b.addr)
	}
	if err != nil {
		b.t.Fatal(err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.addr = ln.Addr().String()
	b.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) })}
	go b.srv.Serve(ln)
}

func (b *backend) down() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.srv != nil {
		b.srv.Close()
		b.srv = nil
	}
}

func fastCheck(name, addr string) api.HealthCheck {
	c := api.HealthCheck{Name: name, Site: name, Type: api.CheckHTTP, Address: addr, IntervalSeconds: 0.1, TimeoutSeconds: 0.05, Rise: 1, Fall: 1}
	c.Normalize()
	return c
}

// TestAnswerFollowsABackendKill: a real engine probes real backends; when
// the primary's backend dies the DNS answer moves to the secondary's
// address, and back when it returns — read from the snapshot on every
// query, with no restart or reload of the DNS server.
func TestAnswerFollowsABackendKill(t *testing.T) {
	r := newEngineRig(t)
	primary, secondary := newBackend(t), newBackend(t)
	r.put(fastCheck("primary", primary.addr))
	r.put(fastCheck("secondary", secondary.addr))
	zero, ttl := 0, 5
	p := api.TrafficPolicy{Name: "web", Mode: api.ModeActivePassive, TTLSeconds: &ttl, FailbackDelaySeconds: &zero,
		WhenAllDown: api.AllDownFailClosed, Targets: map[string]api.PolicyTarget{
			"primary":   {Site: "primary", Addresses: []string{"192.0.2.1"}, HealthChecks: []string{"primary"}, Priority: 1},
			"secondary": {Site: "secondary", Addresses: []string{"198.51.100.2"}, HealthChecks: []string{"secondary"}, Priority: 2},
		}}
	p.Normalize()
	r.put(p)
	r.e.Start(context.Background())

	addr := r.s.Addr()
	waitAnswer := func(what, want string, within time.Duration) time.Duration {
		t.Helper()
		start := time.Now()
		deadline := start.Add(within)
		for {
			got := answerA(t, addr, "web.failover.internal.")
			if got == want {
				return time.Since(start)
			}
			if time.Now().After(deadline) {
				d, _ := r.e.Decision("web")
				t.Fatalf("%s: DNS answers %q after %s, want %q (decision: %s)", what, got, within, want, d.Reason)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitAnswer("both up", "192.0.2.1", 5*time.Second)

	primary.down()
	took := waitAnswer("primary killed", "198.51.100.2", 5*time.Second)
	t.Logf("DNS answer moved %s after the kill (interval 100ms, fall 1)", took)
	primary.up()
	waitAnswer("primary back", "192.0.2.1", 5*time.Second)

	// Everything down with fail_closed: NODATA, not the last answer.
	primary.down()
	secondary.down()
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	deadline := time.Now().Add(5 * time.Second)
	for {
		m, _, err := c.Exchange(query("web.failover.internal.", dns.TypeA, 0), addr)
		if err != nil {
			t.Fatal(err)
		}
		if m.Rcode == dns.RcodeSuccess && len(m.Answer) == 0 && len(m.Ns) == 1 && m.Ns[0].Header().Ttl == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("all down, fail_closed: answer %v / %v, want NODATA with the SOA at TTL 5", m.Answer, m.Ns)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestConcurrentQueriesDuringSnapshotChurn: many clients while the
// snapshot changes under them — every answer is one of the published ones
// (never a torn mix), and the race detector sees no shared writes.
func TestConcurrentQueriesDuringSnapshotChurn(t *testing.T) {
	ts := newTestServer(t, nil, decision("web", 5, "a=192.0.2.1"))
	stop := make(chan struct{})
	var churn sync.WaitGroup
	churn.Add(1)
	go func() {
		defer churn.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if i%2 == 0 {
				ts.set(decision("web", 5, "b=198.51.100.1,198.51.100.2"))
			} else {
				ts.set(decision("web", 5, "a=192.0.2.1"))
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
			for i := 0; i < 200; i++ {
				r, _, err := c.Exchange(query("web.failover.internal.", dns.TypeA, 0), ts.Addr())
				if err != nil {
					errs <- err.Error()
					return
				}
				got := strings.Join(records(r.Answer), "|")
				switch got {
				case "web.failover.internal. 5 A 192.0.2.1",
					"web.failover.internal. 5 A 198.51.100.1|web.failover.internal. 5 A 198.51.100.2",
					"web.failover.internal. 5 A 198.51.100.2|web.failover.internal. 5 A 198.51.100.1":
				default:
					errs <- "torn answer: " + got
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	churn.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// seeded is a deterministic Options.Rand, safe for concurrent use.
func seeded(seed uint64) func(uint64) uint64 {
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return func(n uint64) uint64 {
		mu.Lock()
		defer mu.Unlock()
		return r.Uint64N(n)
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
