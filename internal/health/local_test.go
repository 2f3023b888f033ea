package health

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// dialErr wraps errno the way net.Dialer does when syscall fails inside a
// dial: *net.OpError → *os.SyscallError → syscall.Errno.
func dialErr(syscall string, errno error) error {
	return &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 80},
		Err: os.NewSyscallError(syscall, errno)}
}

// viaHTTP wraps err the way http.Client.Do returns a dial failure.
func viaHTTP(err error) error {
	return &url.Error{Op: "Get", URL: "http://192.0.2.1/healthz", Err: err}
}

func TestLocalCause(t *testing.T) {
	canceled := func() context.Context {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return ctx
	}
	// expired is a probe context whose deadline passed `ago`: noticed on
	// time (0) or by a process too busy to run in time.
	expired := func(ago time.Duration) func() context.Context {
		return func() context.Context {
			ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-ago))
			t.Cleanup(cancel)
			return ctx
		}
	}
	bg := context.Background
	netTimeout := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}

	tests := []struct {
		name   string
		ctx    func() context.Context
		err    error
		reason string // "" = the endpoint's failure
		text   string // substring of the local text
	}{
		{"EMFILE on socket", bg, dialErr("socket", syscall.EMFILE), LocalFileDescriptors, "local: too many open files (not a backend failure)"},
		{"EMFILE through http", bg, viaHTTP(dialErr("socket", syscall.EMFILE)), LocalFileDescriptors, "too many open files"},
		{"ENFILE", bg, viaHTTP(dialErr("socket", syscall.ENFILE)), LocalFileDescriptors, "too many open files in system"},
		{"ENOBUFS on connect", bg, dialErr("connect", syscall.ENOBUFS), LocalMemory, "no buffer space"},
		{"ENOMEM on socket", bg, dialErr("socket", syscall.ENOMEM), LocalMemory, "cannot allocate memory"},
		{"EADDRNOTAVAIL on connect", bg, viaHTTP(dialErr("connect", syscall.EADDRNOTAVAIL)), LocalAddress, "no local port or source address"},
		{"EAGAIN on connect", bg, dialErr("connect", syscall.EAGAIN), LocalAddress, "no local port"},
		{"EAGAIN elsewhere is not claimed", bg, &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.EAGAIN)}, "", ""},
		{"resolver SERVFAIL", bg, &net.OpError{Op: "dial", Err: &net.DNSError{Err: "server misbehaving", Name: "api.example.org", Server: "127.0.0.53:53", IsTemporary: true}}, LocalResolver, "resolving api.example.org: server misbehaving"},
		{"resolver timeout", bg, viaHTTP(&net.OpError{Op: "dial", Err: &net.DNSError{Err: "i/o timeout", Name: "api.example.org", IsTimeout: true}}), LocalResolver, "resolving api.example.org"},
		{"resolver out of fds", bg, &net.OpError{Op: "dial", Err: &net.DNSError{Err: "socket: too many open files", Name: "api.example.org", UnwrapErr: syscall.EMFILE}}, LocalFileDescriptors, "too many open files"},
		{"NXDOMAIN is the endpoint's", bg, &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "gone.example.org", IsNotFound: true}}, "", ""},
		{"canceled by us", canceled, viaHTTP(context.Canceled), LocalCanceled, "canceled by failoverd"},
		{"canceled error, live ctx", bg, context.Canceled, LocalCanceled, "canceled"},
		{"deadline is the endpoint's", expired(0), viaHTTP(context.DeadlineExceeded), "", ""},
		{"deadline noticed late", expired(time.Second), viaHTTP(context.DeadlineExceeded), LocalOverloaded, "too busy: it noticed the probe's deadline 1"},
		{"net timeout noticed late", expired(300 * time.Millisecond), netTimeout, LocalOverloaded, "too busy"},
		{"net timeout on time", expired(0), netTimeout, "", ""},
		{"no deadline, no lateness", bg, netTimeout, "", ""},
		{"refused", bg, viaHTTP(dialErr("connect", syscall.ECONNREFUSED)), "", ""},
		{"reset", bg, &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, "", ""},
		{"host unreachable", bg, dialErr("connect", syscall.EHOSTUNREACH), "", ""},
		{"network unreachable", bg, dialErr("connect", syscall.ENETUNREACH), "", ""},
		{"firewall EPERM", bg, dialErr("connect", syscall.EPERM), "", ""},
		{"tls", bg, viaHTTP(tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}), "", ""},
		{"plain", bg, errors.New("EOF"), "", ""},
		{"nil", bg, nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reason, text, ok := localCause(tt.ctx(), tt.err)
			if ok != (tt.reason != "") || reason != tt.reason {
				t.Fatalf("localCause(%v) = %q, %v (%q); want %q", tt.err, reason, ok, text, tt.reason)
			}
			if ok && (!strings.Contains(text, tt.text) || !strings.HasPrefix(text, "local: ") || !strings.HasSuffix(text, "(not a backend failure)")) {
				t.Errorf("text %q, want it to contain %q between local: and (not a backend failure)", text, tt.text)
			}
		})
	}
}

// dnsStub answers A queries on 127.0.0.1: "ok." with 127.0.0.1, "gone."
// with NXDOMAIN, "empty." with no A record (NODATA), anything else with
// SERVFAIL.
func dnsStub(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		m.RecursionAvailable = true // a recursive resolver, as a node uses
		switch name := q.Question[0].Name; {
		case name == "ok.example.org." && q.Question[0].Qtype == dns.TypeA:
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5}, A: net.IPv4(127, 0, 0, 1)})
		case name == "ok.example.org." || name == "empty.example.org.":
		case name == "gone.example.org.":
			m.Rcode = dns.RcodeNameError
		default:
			m.Rcode = dns.RcodeServerFailure
		}
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

// TestLocalCauseRealResolver classifies the errors Go's own resolver
// returns against a real DNS server (and against none), so the rule holds
// for the shapes net really produces, not only for the ones built above.
func TestLocalCauseRealResolver(t *testing.T) {
	stub := dnsStub(t)
	dead := freeUDPPort(t)
	resolverAt := func(addr string) *net.Resolver {
		return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", addr)
		}}
	}
	tests := []struct {
		name, server, host string
		reason             string // "" = the endpoint's failure
	}{
		{"NXDOMAIN", stub, "gone.example.org", ""},
		{"NODATA", stub, "empty.example.org", ""},
		{"SERVFAIL", stub, "broken.example.org", LocalResolver},
		{"no resolver listening", dead, "ok.example.org", LocalResolver},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			d := &net.Dialer{Resolver: resolverAt(tt.server)}
			conn, err := d.DialContext(ctx, "tcp4", net.JoinHostPort(tt.host, "80"))
			if err == nil {
				conn.Close()
				t.Fatal("dial succeeded")
			}
			reason, text, ok := localCause(ctx, err)
			if ok != (tt.reason != "") || reason != tt.reason {
				t.Fatalf("localCause(%v) = %q, %v (%q); want %q", err, reason, ok, text, tt.reason)
			}
		})
	}
	// The stub answers the good name: the resolver setup itself works.
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	d := &net.Dialer{Resolver: resolverAt(stub)}
	conn, err := d.DialContext(context.Background(), "tcp4", net.JoinHostPort("ok.example.org", port))
	if err != nil {
		t.Fatalf("dial through the stub resolver: %v", err)
	}
	conn.Close()
}

// freeUDPPort returns a UDP address on 127.0.0.1 where nothing listens.
func freeUDPPort(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

// TestProbeTooBusyIsLocal: a probe whose deadline had long passed when
// this process got to it (as when thousands of probes outrun the CPU)
// blames this node, not the endpoint — through the real probers.
func TestProbeTooBusyIsLocal(t *testing.T) {
	addr := rawHTTPServer(t)
	for _, typ := range []string{api.CheckHTTP, api.CheckTCP} {
		t.Run(typ, func(t *testing.T) {
			ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
			defer cancel()
			res := Probers[typ](ctx, compiled(t, newCheck("web", typ, addr)))
			if res.OK || res.Local != LocalOverloaded || !strings.HasPrefix(res.Error, "local: this node was too busy") {
				t.Fatalf("result %+v, want a local overloaded failure", res)
			}
		})
	}
}

// TestLocalCauseRealErrnos classifies errors from real system calls: a
// source address that is not on this host (bind: EADDRNOTAVAIL, as when
// no local port is left) is ours; a refused connection is the endpoint's.
func TestLocalCauseRealErrnos(t *testing.T) {
	tests := []struct {
		name   string
		dialer *net.Dialer
		addr   string
		reason string
	}{
		{"source address not on this host", &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1)}}, freePort(t), LocalAddress},
		{"connection refused", &net.Dialer{}, freePort(t), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			conn, err := tt.dialer.DialContext(ctx, "tcp4", tt.addr)
			if err == nil {
				conn.Close()
				t.Fatal("dial succeeded")
			}
			if reason, text, _ := localCause(ctx, err); reason != tt.reason {
				t.Fatalf("localCause(%v) = %q (%q), want %q", err, reason, text, tt.reason)
			}
		})
	}
}
