package dnsserver

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/policy"
)

// TestEDNSBufferSizesAndTruncation: a UDP answer fits the client's
// announced size (512 without OPT, at most MaxUDPSize) or comes back empty
// with TC, and the same question over TCP gets all of it.
func TestEDNSBufferSizesAndTruncation(t *testing.T) {
	ts := newTestServer(t, nil,
		decision("mid", 30, "dc1="+addrs("192.0.2", 40)),     // ~690 bytes
		decision("big", 30, "dc1="+addrs("198.51.100", 100)), // ~1650 bytes
		decision("big6", 30, "dc1="+strings.ReplaceAll(addrs("2001:db8:", 30), ":.", "::")),
		decision("small", 30, "dc1=192.0.2.1"),
	)
	tests := []struct {
		qname string
		qtype uint16
		size  uint16 // announced in OPT; 0: no OPT
		want  int    // records over UDP; -1: truncated
	}{
		{"mid.failover.internal.", dns.TypeA, 0, -1},
		{"mid.failover.internal.", dns.TypeA, 100, -1}, // below 512 counts as 512
		{"mid.failover.internal.", dns.TypeA, 512, -1},
		{"mid.failover.internal.", dns.TypeA, 700, 40},
		{"mid.failover.internal.", dns.TypeA, 1232, 40},
		{"mid.failover.internal.", dns.TypeA, 4096, 40},
		{"big.failover.internal.", dns.TypeA, 1232, -1},
		{"big.failover.internal.", dns.TypeA, 4096, -1}, // never more than MaxUDPSize
		{"big6.failover.internal.", dns.TypeAAAA, 0, -1},
		{"big6.failover.internal.", dns.TypeAAAA, 1232, 30},
		{"small.failover.internal.", dns.TypeA, 0, 1},
		{"small.failover.internal.", dns.TypeA, 100, 1},
	}
	for _, tc := range tests {
		t.Run(tc.qname+"/"+dns.TypeToString[tc.qtype]+"/edns"+strconv.Itoa(int(tc.size)), func(t *testing.T) {
			r := ts.exchange(t, "udp", query(tc.qname, tc.qtype, tc.size))
			if tc.want < 0 {
				if !r.Truncated || len(r.Answer) != 0 || len(r.Ns) != 0 || len(r.Question) != 1 {
					t.Fatalf("UDP: TC %t with %d answers, %d authority, %d questions; want TC, empty, the question", r.Truncated, len(r.Answer), len(r.Ns), len(r.Question))
				}
				if (tc.size > 0) != (r.IsEdns0() != nil) {
					t.Fatalf("UDP truncated answer OPT %v, want one exactly when asked with one", r.IsEdns0())
				}
			} else if r.Truncated || len(r.Answer) != tc.want {
				t.Fatalf("UDP: TC %t, %d answers; want %d", r.Truncated, len(r.Answer), tc.want)
			}
			r.Compress = true // as sent: owners point to the question
			if packed, _ := r.Pack(); tc.size > 512 && len(packed) > int(tc.size) || tc.size <= 512 && len(packed) > 512 {
				t.Fatalf("UDP answer of %d bytes for a client of %d", len(packed), tc.size)
			}
			// The retry over TCP gets the whole answer.
			full := ts.exchange(t, "tcp", query(tc.qname, tc.qtype, tc.size))
			if full.Truncated || len(full.Answer) != max(tc.want, len(full.Answer)) || len(full.Answer) == 0 {
				t.Fatalf("TCP: TC %t, %d answers", full.Truncated, len(full.Answer))
			}
		})
	}
	if got := ts.metric(t, "failover_dns_truncated_total"); got == 0 {
		t.Error("failover_dns_truncated_total did not count the truncated answers")
	}

	// A target's addresses are answered all together, rotated.
	r := ts.exchange(t, "tcp", query("big.failover.internal.", dns.TypeA, 0))
	if len(r.Answer) != 100 {
		t.Fatalf("TCP answer has %d of 100 addresses", len(r.Answer))
	}
	var got []string
	for _, rr := range r.Answer {
		got = append(got, rr.(*dns.A).A.String())
	}
	want := strings.Split(addrs("198.51.100", 100), ",")
	i := slices.Index(want, got[0])
	if i < 0 || !slices.Equal(got, append(want[i:len(want):len(want)], want[:i]...)) {
		t.Fatalf("addresses %v are not a rotation of the target's", got)
	}
}

// TestLargestValidAnswerIsServedOverTCP ties policy validation to the
// wire: a target with as many addresses as Validate accepts, at the
// longest name a zone can hold, at the end of the longest CNAME chain the
// server follows, is answered whole over TCP for A, AAAA and ANY — and one
// address more is refused by Validate (issue 9: thousands of addresses
// were accepted, then truncated even over TCP).
func TestLargestValidAnswerIsServedOverTCP(t *testing.T) {
	// A 191-byte zone leaves 64 bytes for a 63-character policy name:
	// qnames of 255 bytes, the most DNS allows.
	zone := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 61) + "."
	name := func(i int) string { return fmt.Sprintf("p%d%s", i, strings.Repeat("x", 61)) }
	if l := len(wireName(name(0) + "." + zone)); l != 255 {
		t.Fatalf("qname is %d bytes, want 255", l)
	}
	tests := []struct {
		name   string
		v4, v6 int
	}{
		{"IPv4", policy.MaxIPv4PerAnswer, 0},
		{"IPv6", 0, policy.MaxIPv6PerAnswer},
		{"mixed", (policy.AddressBudget - 28*1127) / 16, 1127},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addrs := manyAddrs(tc.v4, tc.v6)
			p := api.TrafficPolicy{Name: "big", Mode: api.ModeActivePassive, WhenAllDown: api.AllDownFailOpen,
				Targets: map[string]api.PolicyTarget{"dc1": {Site: "dc1", Addresses: addrs, Priority: 1, HealthChecks: []string{"c"}}}}
			if errs := policy.Validate(p).Errors(); len(errs) != 0 {
				t.Fatalf("Validate refuses the largest answer: %v", errs)
			}
			more := p.Targets["dc1"]
			more.Addresses = manyAddrs(tc.v4+1, tc.v6)
			p.Targets["dc1"] = more
			if errs := policy.Validate(p).Errors(); len(errs) != 1 || !strings.Contains(errs[0].Detail, "at most") {
				t.Fatalf("Validate of one address more: %v, want one error stating the limit", errs)
			}

			var ds []api.Decision
			for i := range maxChase {
				ds = append(ds, decision(name(i), 30, "dc1="+name(i+1)+"."+zone))
			}
			ds = append(ds, decision(name(maxChase), 30, "dc1="+strings.Join(addrs, ",")))
			ts := newTestServer(t, func(o *Options) { o.Zone = zone }, ds...)
			for _, qt := range []struct {
				qtype   uint16
				records int
			}{{dns.TypeA, tc.v4}, {dns.TypeAAAA, tc.v6}, {dns.TypeANY, tc.v4 + tc.v6}} {
				r := ts.exchange(t, "tcp", query(name(0)+"."+zone, qt.qtype, 1232))
				if r.Truncated || r.Rcode != dns.RcodeSuccess || len(r.Answer) != maxChase+qt.records {
					t.Fatalf("%s over TCP: rcode %s, TC %t, %d records; want %d CNAMEs and %d addresses",
						dns.TypeToString[qt.qtype], dns.RcodeToString[r.Rcode], r.Truncated, len(r.Answer), maxChase, qt.records)
				}
			}
		})
	}
}

// manyAddrs is v4 distinct IPv4 and v6 distinct IPv6 addresses.
func manyAddrs(v4, v6 int) []string {
	var out []string
	for i := range v4 {
		out = append(out, fmt.Sprintf("10.%d.%d.1", i/256, i%256))
	}
	for i := range v6 {
		out = append(out, fmt.Sprintf("2001:db8::%x", i+1))
	}
	return out
}

// udpRaw sends b and returns the answer, or nil after a short wait.
func udpRaw(t *testing.T, addr string, b []byte) []byte {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

func packed(t testing.TB, m *dns.Msg) []byte {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMalformedPacketsOverUDP: runts, responses, garbage and oversized
// datagrams are dropped or answered FORMERR; the server keeps answering.
func TestMalformedPacketsOverUDP(t *testing.T) {
	ts := newTestServer(t, nil, decision("web", 5, "dc1=192.0.2.10"))
	valid := packed(t, query("web.failover.internal.", dns.TypeA, 0))
	resp := slices.Clone(valid)
	resp[2] |= 0x80
	tests := []struct {
		name   string
		packet []byte
		rcode  int // -1: no answer
	}{
		{"empty", []byte{}, -1},
		{"runt", []byte{1, 2, 3, 4, 5}, -1},
		{"response", resp, -1},
		{"header only", []byte{0, 7, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}, dns.RcodeFormatError},
		{"question cut short", valid[:len(valid)-3], dns.RcodeFormatError},
		{"label past the end", append(slices.Clone(valid[:12]), 63, 'a'), dns.RcodeFormatError},
		{"compression loop", append(slices.Clone(valid[:12]), 0xC0, 12, 0, 1, 0, 1), dns.RcodeFormatError},
		{"garbage", bytes.Repeat([]byte{0x5a}, 300), dns.RcodeFormatError},
		{"oversized", append(slices.Clone(valid), make([]byte, 2000)...), -1},
		{"64 KiB", make([]byte, 65000), -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := udpRaw(t, ts.Addr(), tc.packet)
			switch {
			case tc.rcode < 0 && got != nil:
				t.Fatalf("answered %x", got)
			case tc.rcode >= 0 && got == nil:
				t.Fatalf("no answer, want %s", dns.RcodeToString[tc.rcode])
			case tc.rcode >= 0:
				if len(got) < 12 || int(got[3]&0x0F) != tc.rcode || got[2]&0x80 == 0 || !bytes.Equal(got[:2], tc.packet[:2]) {
					t.Fatalf("answer %x, want a response with id %x and %s", got, tc.packet[:2], dns.RcodeToString[tc.rcode])
				}
			}
			if r := ts.exchange(t, "udp", query("web.failover.internal.", dns.TypeA, 0)); len(r.Answer) != 1 {
				t.Fatalf("after %s: %v", tc.name, r)
			}
		})
	}
	for reason, min := range map[string]float64{dropMalformed: 2, dropResponse: 1, dropOversized: 2} {
		if got := ts.waitMetric(t, min, "failover_dns_dropped_total", "reason", reason); got < min {
			t.Errorf("failover_dns_dropped_total{reason=%q} = %v, want ≥ %v", reason, got, min)
		}
	}
}

func tcpWrite(t *testing.T, c net.Conn, msgs ...[]byte) {
	t.Helper()
	var b []byte
	for _, m := range msgs {
		b = binary.BigEndian.AppendUint16(b, uint16(len(m)))
		b = append(b, m...)
	}
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
}

func tcpRead(c net.Conn) (*dns.Msg, error) {
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	var l [2]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(c, b); err != nil {
		return nil, err
	}
	m := new(dns.Msg)
	return m, m.Unpack(b)
}

// TestTCPConnections: pipelined queries are answered in order on one
// connection; an oversized length or garbage ends only that connection;
// a connection beyond MaxTCPConns closes the longest-idle one.
func TestTCPConnections(t *testing.T) {
	ts := newTestServer(t, func(o *Options) {
		o.MaxTCPConns, o.MaxTCPConnsPerSource, o.TCPReadTimeout = 2, 2, 300*time.Millisecond
	},
		decision("web", 5, "dc1=192.0.2.10"), decision("v6", 5, "dc1=2001:db8::1"))
	dial := func() net.Conn {
		c, err := net.Dial("tcp", ts.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	web, v6, nx := query("web.failover.internal.", dns.TypeA, 0), query("v6.failover.internal.", dns.TypeAAAA, 0), query("no.failover.internal.", dns.TypeA, 0)

	t.Run("pipelined", func(t *testing.T) {
		c := dial()
		tcpWrite(t, c, packed(t, web), []byte{1, 2, 3}, packed(t, v6), packed(t, nx))
		for _, want := range []*dns.Msg{web, v6, nx} {
			r, err := tcpRead(c)
			if err != nil {
				t.Fatal(err)
			}
			if r.Id != want.Id || r.Question[0] != want.Question[0] {
				t.Fatalf("answer %v out of order, want the answer to %v", r.Question, want.Question)
			}
		}
		c.Close()
	})
	t.Run("oversized length closes the connection", func(t *testing.T) {
		c := dial()
		tcpWrite(t, c, make([]byte, 4000))
		if _, err := tcpRead(c); err == nil || isTimeout(err) {
			t.Fatalf("read after an oversized query: %v, want the connection closed", err)
		}
		c.Close()
	})
	t.Run("garbage gets FORMERR", func(t *testing.T) {
		c := dial()
		tcpWrite(t, c, bytes.Repeat([]byte{0x7f}, 40))
		var l [2]byte
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := io.ReadFull(c, l[:]); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, binary.BigEndian.Uint16(l[:]))
		io.ReadFull(c, b)
		if len(b) != 12 || b[3]&0x0F != dns.RcodeFormatError {
			t.Fatalf("answer %x, want a FORMERR header", b)
		}
		c.Close()
	})
	t.Run("a half-sent query times out", func(t *testing.T) {
		c := dial()
		c.Write([]byte{0, 40, 1, 2})
		if _, err := tcpRead(c); err == nil {
			t.Fatal("answered half a query")
		}
		c.Close()
	})
	t.Run("a new connection closes the longest idle", func(t *testing.T) {
		// Wait for the connections of the cases above to be gone.
		ts.waitTCPConns(t, 0)
		a, b := dial(), dial()
		for _, c := range []net.Conn{a, b} {
			tcpWrite(t, c, packed(t, web))
			if _, err := tcpRead(c); err != nil {
				t.Fatal(err)
			}
		}
		third := dial()
		tcpWrite(t, third, packed(t, web))
		if _, err := tcpRead(third); err != nil {
			t.Fatalf("a third connection with MaxTCPConns = 2: %v", err)
		}
		if _, err := tcpRead(a); err == nil || isTimeout(err) {
			t.Fatalf("the longest-idle connection: read %v, want it closed", err)
		}
		tcpWrite(t, b, packed(t, web))
		if _, err := tcpRead(b); err != nil {
			t.Fatalf("the other connection: %v", err)
		}
		if got := ts.waitMetric(t, 1, "failover_dns_dropped_total", "reason", dropTCPLimit); got < 1 {
			t.Errorf("failover_dns_dropped_total{reason=tcp_limit} = %v", got)
		}
	})
}

// waitTCPConns waits until the server holds want TCP connections.
func (ts *testServer) waitTCPConns(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for int(ts.tcpConns.n.Load()) != want {
		if time.Now().After(deadline) {
			t.Fatalf("the server holds %d TCP connections, want %d", ts.tcpConns.n.Load(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// dialFrom connects to addr from the loopback address src (any of
// 127.0.0.0/8 is this host), so one test can be many clients.
func dialFrom(t *testing.T, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// isOpen: the server has not closed c (a short read times out).
func isOpen(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	var b [1]byte
	_, err := c.Read(b[:])
	return isTimeout(err)
}

// TestIdleTCPConnectionsNeverLockOutANewQuery is issue 9's attack: more
// idle TCP connections than MaxTCPConns (default 512), opened before a
// resolver's query. The query is answered; the connections evicted are
// the oldest; the server never holds more than its cap.
func TestIdleTCPConnectionsNeverLockOutANewQuery(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 600 connections")
	}
	tests := []struct {
		name    string
		sources []string // 600 connections spread over these
		client  string
	}{
		{"600 from one address", []string{"127.0.0.1"}, "127.0.0.1"},
		{"600 from six addresses", []string{"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.7"}, "127.0.0.8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Timeouts long enough that only eviction can close anything.
			ts := newTestServer(t, func(o *Options) { o.TCPReadTimeout, o.TCPIdleTimeout = time.Minute, time.Minute },
				decision("web", 5, "dc1=192.0.2.10"))
			var idle []net.Conn
			for i := range 600 {
				idle = append(idle, dialFrom(t, tc.sources[i%len(tc.sources)], ts.Addr()))
			}
			held := min(ts.opts.MaxTCPConns, len(tc.sources)*min(ts.opts.MaxTCPConnsPerSource, 600/len(tc.sources)))
			ts.waitTCPConns(t, held)
			c := dialFrom(t, tc.client, ts.Addr())
			tcpWrite(t, c, packed(t, query("web.failover.internal.", dns.TypeA, 0)))
			r, err := tcpRead(c)
			if err != nil || len(r.Answer) != 1 {
				t.Fatalf("a query after 600 idle connections: %v %v", r, err)
			}
			if n := int(ts.tcpConns.n.Load()); n > held {
				t.Fatalf("%d connections open, want at most %d", n, held)
			}
			if isOpen(idle[0]) || !isOpen(idle[len(idle)-1]) {
				t.Fatalf("oldest open %t, newest open %t: want the oldest evicted, the newest kept", isOpen(idle[0]), isOpen(idle[len(idle)-1]))
			}
		})
	}
}

// TestTCPSourceCapEvictsOnlyItsOwn: a source opening connections beyond
// MaxTCPConnsPerSource loses its own oldest ones, never another client's.
func TestTCPSourceCapEvictsOnlyItsOwn(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.MaxTCPConns, o.MaxTCPConnsPerSource = 8, 2 }, decision("web", 5, "dc1=192.0.2.10"))
	web := packed(t, query("web.failover.internal.", dns.TypeA, 0))
	var resolver []net.Conn
	for range 2 {
		c := dialFrom(t, "127.0.0.2", ts.Addr())
		tcpWrite(t, c, web)
		if _, err := tcpRead(c); err != nil {
			t.Fatal(err)
		}
		resolver = append(resolver, c)
	}
	var flood []net.Conn
	for range 5 {
		flood = append(flood, dialFrom(t, "127.0.0.3", ts.Addr()))
	}
	ts.waitTCPConns(t, 4)
	for i, c := range resolver {
		tcpWrite(t, c, web)
		if _, err := tcpRead(c); err != nil {
			t.Fatalf("the resolver's connection %d after another source's flood: %v", i, err)
		}
	}
	for i, c := range flood {
		if want := i >= 3; isOpen(c) != want {
			t.Errorf("flood connection %d open = %t, want %t", i, !want, want)
		}
	}
}

// TestTCPSlowClientsAreCutOff: a query must arrive whole within
// TCPReadTimeout of its first byte, first query or not, however busy the
// client looks (slowloris).
func TestTCPSlowClientsAreCutOff(t *testing.T) {
	const readTimeout = 300 * time.Millisecond
	ts := newTestServer(t, func(o *Options) { o.TCPReadTimeout, o.TCPIdleTimeout = readTimeout, time.Minute },
		decision("web", 5, "dc1=192.0.2.10"))
	web := packed(t, query("web.failover.internal.", dns.TypeA, 0))
	msg := binary.BigEndian.AppendUint16(nil, uint16(len(web)))
	msg = append(msg, web...)
	for _, tc := range []struct {
		name  string
		first bool // answer one query before dribbling the next
	}{{"first query", false}, {"after a query", true}} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialFrom(t, "127.0.0.1", ts.Addr())
			if tc.first {
				tcpWrite(t, c, web)
				if _, err := tcpRead(c); err != nil {
					t.Fatal(err)
				}
			}
			// One byte every 50 ms: the whole query would take ~1.5 s,
			// five times the read timeout, and the connection is never
			// idle for more than 50 ms.
			start := time.Now()
			sent := 0
			for _, b := range msg {
				if _, err := c.Write([]byte{b}); err != nil {
					break
				}
				sent++
				if !isOpen(c) {
					break
				}
				time.Sleep(30 * time.Millisecond)
			}
			if sent == len(msg) {
				if _, err := tcpRead(c); err == nil {
					t.Fatalf("a query dribbled over %s was answered", time.Since(start).Round(time.Millisecond))
				}
			}
			if isOpen(c) {
				t.Fatal("the connection is still open")
			}
		})
	}
}

// TestTCPIdleTimeoutShrinksUnderPressure: with more than half of
// MaxTCPConns open, a connection waits for its next query no longer than
// TCPReadTimeout; with few open, TCPIdleTimeout holds.
func TestTCPIdleTimeoutShrinksUnderPressure(t *testing.T) {
	ts := newTestServer(t, func(o *Options) {
		o.MaxTCPConns, o.MaxTCPConnsPerSource, o.TCPReadTimeout, o.TCPIdleTimeout = 4, 4, 200*time.Millisecond, time.Minute
	}, decision("web", 5, "dc1=192.0.2.10"))
	web := packed(t, query("web.failover.internal.", dns.TypeA, 0))
	served := func(n int) []net.Conn {
		var cs []net.Conn
		for range n {
			c := dialFrom(t, "127.0.0.1", ts.Addr())
			tcpWrite(t, c, web)
			if _, err := tcpRead(c); err != nil {
				t.Fatal(err)
			}
			cs = append(cs, c)
		}
		return cs
	}
	alone := served(1)[0]
	time.Sleep(600 * time.Millisecond)
	if !isOpen(alone) {
		t.Fatal("a lone idle connection was closed before TCPIdleTimeout")
	}
	alone.Close()
	ts.waitTCPConns(t, 0)
	crowd := served(3)
	time.Sleep(600 * time.Millisecond)
	for i, c := range crowd {
		tcpWrite(t, c, web)
		if _, err := tcpRead(c); err == nil {
			t.Errorf("connection %d of 3 (cap 4) was still open after 3 × TCPReadTimeout idle", i)
		}
	}
}

// isTimeout: the read timed out, so the connection stayed open.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestMetricsCountQueries: failover_dns_queries_total by qtype and rcode,
// and the latency histogram, per transport.
func TestMetricsCountQueries(t *testing.T) {
	ts := newTestServer(t, nil, decision("web", 5, "dc1=192.0.2.10"))
	ts.exchange(t, "udp", query("web.failover.internal.", dns.TypeA, 0))
	ts.exchange(t, "udp", query("web.failover.internal.", dns.TypeA, 1232))
	ts.exchange(t, "tcp", query("nope.failover.internal.", dns.TypeAAAA, 0))
	ts.exchange(t, "udp", query("example.org.", dns.TypeA, 0))
	ts.exchange(t, "udp", query("web.failover.internal.", dns.TypeNAPTR, 0))
	for _, tc := range []struct {
		qtype, rcode string
		want         float64
	}{
		{"A", "NOERROR", 2}, {"AAAA", "NXDOMAIN", 1}, {"A", "REFUSED", 1}, {"other", "NOERROR", 1},
	} {
		if got := ts.waitMetric(t, tc.want, "failover_dns_queries_total", "qtype", tc.qtype, "rcode", tc.rcode); got != tc.want {
			t.Errorf("failover_dns_queries_total{qtype=%q,rcode=%q} = %v, want %v", tc.qtype, tc.rcode, got, tc.want)
		}
	}
	udp := ts.waitMetric(t, 4, "failover_dns_request_duration_seconds", "transport", "udp")
	tcp := ts.waitMetric(t, 1, "failover_dns_request_duration_seconds", "transport", "tcp")
	if udp != 4 || tcp != 1 {
		t.Errorf("latency histogram counts udp %v, tcp %v; want 4, 1", udp, tcp)
	}
}

// metric is the value of the series of name with the given label pairs
// (a histogram's sample count), 0 when absent.
func (ts *testServer) metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := ts.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue series
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return 0
}

// waitMetric is metric once it reaches want, or after a second: a query
// is counted just after its answer is sent.
func (ts *testServer) waitMetric(t *testing.T, want float64, name string, labels ...string) float64 {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		got := ts.metric(t, name, labels...)
		if got >= want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestUDPBurstsFromManyClients: queries queued faster than the server
// reads them (answered in recvmmsg/sendmmsg batches on Linux) each get
// their own answer, sent back to the socket that asked, valid or not.
func TestUDPBurstsFromManyClients(t *testing.T) {
	ts := newTestServer(t, nil, decision("web", 5, "dc1=192.0.2.10"))
	valid := packed(t, query("web.failover.internal.", dns.TypeA, 0))
	const clients, burst = 4, 100
	var conns []*net.UDPConn
	for i := 0; i < clients; i++ {
		c, err := net.DialUDP("udp", nil, ts.UDPAddr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetReadBuffer(1 << 20)
		conns = append(conns, c)
	}
	for i, c := range conns {
		for j := 0; j < burst; j++ {
			p := slices.Clone(valid)
			if j%10 == 9 {
				p = []byte{1, 2, 3} // a runt in the batch: no answer
			}
			if j%10 == 8 {
				p = append(p, make([]byte, 2000)...) // oversized: no answer
			}
			if len(p) >= 2 {
				binary.BigEndian.PutUint16(p, uint16(i*burst+j))
			}
			if _, err := c.Write(p); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, c := range conns {
		seen := map[uint16]bool{}
		buf := make([]byte, 4096)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		for len(seen) < burst*8/10 {
			n, err := c.Read(buf)
			if err != nil {
				t.Fatalf("client %d: %d answers, then %v", i, len(seen), err)
			}
			var m dns.Msg
			if err := m.Unpack(buf[:n]); err != nil {
				t.Fatalf("client %d: %v", i, err)
			}
			if int(m.Id)/burst != i || m.Id%10 >= 8 || seen[m.Id] || len(m.Answer) != 1 {
				t.Fatalf("client %d: unexpected answer %v", i, &m)
			}
			seen[m.Id] = true
		}
	}
}
