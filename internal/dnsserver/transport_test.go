package dnsserver

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
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
// connections beyond MaxTCPConns are closed at once.
func TestTCPConnections(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.MaxTCPConns = 2; o.TCPReadTimeout = 300 * time.Millisecond },
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
	t.Run("connection limit", func(t *testing.T) {
		// Wait for the connections of the cases above to be gone.
		deadline := time.Now().Add(3 * time.Second)
		for len(ts.tcpSlots) > 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		a, b := dial(), dial()
		tcpWrite(t, a, packed(t, web))
		tcpWrite(t, b, packed(t, web))
		for _, c := range []net.Conn{a, b} {
			if _, err := tcpRead(c); err != nil {
				t.Fatal(err)
			}
		}
		third := dial()
		third.Write(packed(t, web)) // may fail: the server may have closed it already
		if _, err := tcpRead(third); err == nil {
			t.Fatal("a third connection was served with MaxTCPConns = 2")
		}
		if got := ts.waitMetric(t, 1, "failover_dns_dropped_total", "reason", dropTCPLimit); got < 1 {
			t.Errorf("failover_dns_dropped_total{reason=tcp_limit} = %v", got)
		}
		a.Close()
		deadline = time.Now().Add(3 * time.Second)
		for len(ts.tcpSlots) > 1 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if r := ts.exchange(t, "tcp", web); len(r.Answer) != 1 {
			t.Fatalf("after a slot freed: %v", r)
		}
	})
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
