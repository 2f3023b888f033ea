// Package dnsserver is failoverd's authoritative DNS server: it answers
// <policy>.<zone> with what each traffic policy serves right now, read
// from the engine's current Snapshot on every query — never a lock, never
// a store read.
//
// Answers (DESIGN §4.3):
//
//   - A / AAAA at a policy name: the serving targets' addresses of that
//     family, TTL = the decision's ttl_seconds. A target answering with a
//     CNAME answers the CNAME for every type (RFC 1034 §3.6.2); a CNAME
//     into the zone is followed, one outside it is not.
//   - Weights: every response picks ONE serving target by weighted random
//     choice among the targets able to answer the query type (addresses of
//     that family, or a CNAME) and returns all of that target's records of
//     that type, rotated by a uniform random offset. Over many responses
//     each target answers in proportion to its weight (Route 53's weighted
//     routing). Weight-0 targets never answer unless all candidates weigh
//     0, then they share equally. A single serving target (active-passive,
//     the fallback) is the same rule with one candidate.
//   - Nothing to answer (fail_closed: no serving target; or no target with
//     an address of the asked family; or any other type at a policy name):
//     NODATA — NOERROR, empty answer, the zone's SOA in the authority
//     section with TTL min(policy ttl_seconds, SOA MINIMUM), so the
//     negative answer is cached no longer than a positive one would be
//     (RFC 2308 §5).
//   - Unknown name in the zone: NXDOMAIN, SOA in authority with TTL
//     min(SOA TTL, SOA MINIMUM). Outside the zone, another class, or a zone
//     transfer: REFUSED. All answers in the zone carry AA.
//   - The apex answers SOA and NS; in-zone name server names answer their
//     addresses (Options.NSAddrs) and are glue for NS answers.
//   - SOA serial: the Unix time of the newest decision in the zone; +1 when
//     answers change without that time moving past it (see nextSerial).
//   - EDNS0 (RFC 6891): answers to a query with OPT carry an OPT offering
//     Options.MaxUDPSize and echoing DO; version > 0 gets BADVERS. A UDP
//     answer larger than the client's size (512 without OPT; never more
//     than MaxUDPSize) is sent empty with TC set, and the client gets it
//     whole over TCP.
//   - Queries larger than MaxQuerySize, responses and runts are dropped;
//     what cannot be parsed gets FORMERR; opcodes other than QUERY NOTIMP.
package dnsserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hatopo/terraform-provider-failover/internal/engine"
	"github.com/hatopo/terraform-provider-failover/internal/policy"
)

// Options configures a Server. Zero values take the defaults noted.
type Options struct {
	// Zone is the zone the server is authoritative for, with or without
	// the trailing dot, any case. Required.
	Zone string
	// Snapshot returns what failoverd answers right now (engine.Snapshot);
	// it is called once per query and must be cheap (an atomic load).
	Snapshot func() *engine.Snapshot
	Logger   *slog.Logger
	// Registerer receives the failover_dns_* metrics; nil registers none.
	Registerer prometheus.Registerer

	// NS are the zone's name server host names (default "ns.dns.<zone>").
	NS []string
	// NSAddrs answer for the name servers inside the zone (and are glue).
	NSAddrs []netip.Addr
	// Hostmaster is the SOA RNAME (default "hostmaster.<zone>").
	Hostmaster string
	// SOA timers in seconds. SOATTL and NSTTL default to 3600; Refresh
	// 3600, Retry 600, Expire 86400 — no secondary transfers this zone,
	// every failoverd answers from the same state. NegativeTTL is the SOA
	// MINIMUM, the cap of every negative answer's TTL (default 30, the
	// default policy ttl_seconds: a new policy name is visible that soon).
	SOATTL, NSTTL, Refresh, Retry, Expire, NegativeTTL uint32

	// MaxUDPSize is the largest UDP answer, offered in OPT (default 1232,
	// the DNS flag day 2020 size that avoids fragmentation).
	MaxUDPSize uint16
	// MaxQuerySize: larger queries are dropped (default 1024 bytes; a
	// real query is well under 300).
	MaxQuerySize int
	// MaxTCPConns bounds concurrent TCP connections (default 512). A new
	// connection beyond it is admitted by closing the one whose last query
	// is oldest (RFC 7766 §6.2.3), so idle clients can never lock a
	// resolver out of TCP. Each costs a file descriptor: size it below the
	// process's limit, with room for the prober.
	MaxTCPConns int
	// MaxTCPConnsPerSource bounds the connections of one client (an IPv4
	// address or an IPv6 /64; default MaxTCPConns/4, at least 1). A
	// source at its cap makes room by losing its own longest-idle
	// connection, never another client's. RFC 7766 §6.2.2 asks clients
	// for one connection per server.
	MaxTCPConnsPerSource int
	// TCPIdleTimeout closes a TCP connection with no query for this long
	// (default 10s, RFC 7766 §6.2.3; TCPReadTimeout while more than half
	// of MaxTCPConns are open). TCPReadTimeout (default 2s) bounds the
	// wait for a connection's first query and the time from the first
	// byte of any query to its last, so a client dribbling a byte at a
	// time is cut off.
	TCPIdleTimeout, TCPReadTimeout time.Duration
	// UDPSockets is how many UDP sockets share the port (SO_REUSEPORT),
	// each read by its own goroutine (default: one per two cores, at least
	// one; see defaultUDPSockets).
	UDPSockets int

	// Rand returns a uniform random number in [0, n); tests seed it.
	// Default: math/rand/v2.
	Rand func(n uint64) uint64
}

// Server is an authoritative DNS server for one zone.
type Server struct {
	opts    Options
	log     *slog.Logger
	metrics *metrics
	rnd     func(uint64) uint64

	zone      atomic.Pointer[zone]
	compileMu sync.Mutex

	mu       sync.Mutex
	udp      []*net.UDPConn
	tcp      net.Listener
	tcpConns tcpConns
	stopping atomic.Bool
	stopped  chan struct{}
	wg       sync.WaitGroup
}

// New checks o and fills in its defaults. It does not listen.
func New(o Options) (*Server, error) {
	if o.Snapshot == nil {
		return nil, errors.New("dnsserver: no Snapshot")
	}
	zone, err := CanonicalZone(o.Zone)
	if err != nil {
		return nil, err
	}
	o.Zone = zone
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.NS = slices.Clone(o.NS)
	if len(o.NS) == 0 {
		o.NS = []string{"ns.dns." + o.Zone}
	}
	for i, h := range o.NS {
		if _, ok := dns.IsDomainName(h); !ok {
			return nil, fmt.Errorf("dnsserver: name server %q is not a domain name", h)
		}
		o.NS[i] = dns.CanonicalName(h)
	}
	if o.Hostmaster == "" {
		o.Hostmaster = "hostmaster." + o.Zone
	}
	o.Hostmaster = dns.CanonicalName(o.Hostmaster)
	def := func(v *uint32, d uint32) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.SOATTL, 3600)
	def(&o.NSTTL, 3600)
	def(&o.Refresh, 3600)
	def(&o.Retry, 600)
	def(&o.Expire, 86400)
	def(&o.NegativeTTL, 30)
	if o.MaxUDPSize == 0 {
		o.MaxUDPSize = policy.EDNSUDPSize
	}
	o.MaxUDPSize = max(o.MaxUDPSize, 512)
	if o.MaxQuerySize == 0 {
		o.MaxQuerySize = 1024
	}
	if o.MaxTCPConns <= 0 {
		o.MaxTCPConns = 512
	}
	if o.MaxTCPConnsPerSource <= 0 {
		o.MaxTCPConnsPerSource = max(o.MaxTCPConns/4, 1)
	}
	o.MaxTCPConnsPerSource = min(o.MaxTCPConnsPerSource, o.MaxTCPConns)
	if o.TCPIdleTimeout == 0 {
		o.TCPIdleTimeout = 10 * time.Second
	}
	if o.TCPReadTimeout == 0 {
		o.TCPReadTimeout = 2 * time.Second
	}
	if o.Rand == nil {
		o.Rand = rand.Uint64N
	}
	return &Server{
		opts:    o,
		log:     o.Logger,
		metrics: newMetrics(o.Registerer),
		rnd:     o.Rand,
		stopped: make(chan struct{}),
	}, nil
}

// CanonicalZone checks a zone name given with or without the trailing dot,
// in any case, and returns it lower case with the dot.
func CanonicalZone(z string) (string, error) {
	z = strings.TrimSpace(z)
	if z == "" || z == "." {
		return "", fmt.Errorf("zone %q: name a zone such as failover.internal.", z)
	}
	bad := fmt.Errorf("zone %q is not a domain name: use labels of letters, digits and '-' separated by dots, e.g. failover.internal.", z)
	name := strings.TrimSuffix(z, ".")
	if len(name) > 253 {
		return "", bad
	}
	for _, l := range strings.Split(name, ".") {
		if l == "" || len(l) > 63 {
			return "", bad
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", bad
			}
		}
	}
	return dns.CanonicalName(z), nil
}

// Zone is the zone served, canonical.
func (s *Server) Zone() string { return s.opts.Zone }

// current is the compiled zone of the engine's current snapshot, compiled
// on the first query that sees a new snapshot.
func (s *Server) current() *zone {
	snap := s.opts.Snapshot()
	if z := s.zone.Load(); z != nil && z.from == snap {
		return z
	}
	s.compileMu.Lock()
	defer s.compileMu.Unlock()
	// The newest snapshot, read under the lock: a query holding an older
	// one must not install it over a newer zone.
	snap = s.opts.Snapshot()
	prev := s.zone.Load()
	if prev != nil && prev.from == snap {
		return prev
	}
	z := compile(&s.opts, snap, prev)
	s.zone.Store(z)
	if prev == nil || prev.serial != z.serial {
		s.log.Debug("dns zone compiled", "zone", z.origin, "serial", z.serial, "policies", z.snap.Decisions())
	}
	return z
}

// handle answers one query packet; it returns nil when nothing is to be
// sent. buf is scratch space for the answer, which may alias it.
func (s *Server) handle(q []byte, tcp bool, buf []byte) ([]byte, outcome) {
	if len(q) > s.opts.MaxQuerySize {
		return nil, outcome{drop: dropOversized}
	}
	z := s.current()
	if out, res, ok := s.fast(z, q, tcp, buf); ok {
		return out, res
	}
	return s.reference(z, q, tcp, buf)
}

// Listen binds addr on UDP and TCP (the same port; port 0 picks one free
// on both). Serve then answers.
func (s *Server) Listen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	n := s.opts.UDPSockets
	if n <= 0 {
		n = defaultUDPSockets()
	}
	// TCP first, without SO_REUSEPORT: it owns the port, so a second
	// server on the same address fails here instead of sharing UDP.
	var lastErr error
	for try := 0; try < 20; try++ {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
		if err != nil {
			return err
		}
		udpAddr := ln.Addr().(*net.TCPAddr)
		conns, err := listenUDP(&net.UDPAddr{IP: udpAddr.IP, Port: udpAddr.Port, Zone: udpAddr.Zone}, n)
		if err == nil {
			s.mu.Lock()
			s.tcp, s.udp = ln, conns
			s.mu.Unlock()
			return nil
		}
		ln.Close()
		lastErr = err
		if port != "0" {
			break // the UDP port asked for is taken
		}
	}
	return lastErr
}

// Addr is the bound address (UDP and TCP share it), "" before Listen.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tcp == nil {
		return ""
	}
	return s.tcp.Addr().String()
}

// UDPAddr and TCPAddr are the bound addresses, nil before Listen.
func (s *Server) UDPAddr() *net.UDPAddr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.udp) == 0 {
		return nil
	}
	return s.udp[0].LocalAddr().(*net.UDPAddr)
}

func (s *Server) TCPAddr() *net.TCPAddr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tcp == nil {
		return nil
	}
	return s.tcp.Addr().(*net.TCPAddr)
}

// ListenAndServe listens on addr and serves until ctx ends, then shuts
// down gracefully (in-flight answers are written, within 5 s).
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	if err := s.Listen(addr); err != nil {
		return err
	}
	return s.Serve(ctx)
}

// Serve answers on the sockets Listen bound until Shutdown, or until ctx
// ends (then it shuts down itself). It returns nil after a shutdown, or
// the error that stopped a socket.
func (s *Server) Serve(ctx context.Context) error {
	s.mu.Lock()
	udp, tcp := s.udp, s.tcp
	if tcp == nil {
		s.mu.Unlock()
		return errors.New("dnsserver: Serve before Listen")
	}
	if s.stopping.Load() {
		s.mu.Unlock()
		<-s.stopped
		return nil
	}
	// Counted under mu, before Shutdown (which sets stopping, then takes
	// mu) can start waiting: an Add racing a Wait is a WaitGroup misuse.
	s.wg.Add(len(udp) + 1)
	s.mu.Unlock()
	// Compile the zone before the first query pays for it.
	s.current()
	errc := make(chan error, len(udp)+1)
	for _, c := range udp {
		go func() {
			defer s.wg.Done()
			if err := s.serveUDP(c); err != nil {
				errc <- err
			}
		}()
	}
	go func() {
		defer s.wg.Done()
		if err := s.serveTCP(tcp); err != nil {
			errc <- err
		}
	}()
	select {
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return s.Shutdown(shut)
	case <-s.stopped:
		return nil
	case err := <-errc:
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(shut)
		return err
	}
}

// Shutdown stops reading new queries, lets every query being answered
// finish, and closes the sockets. Past ctx it closes them at once.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.stopping.Swap(true) {
		<-s.stopped
		return nil
	}
	defer close(s.stopped)
	past := time.Unix(1, 0)
	s.mu.Lock()
	for _, c := range s.udp {
		c.SetReadDeadline(past)
	}
	if s.tcp != nil {
		s.tcp.Close()
	}
	s.deadlineAllTCP(past)
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("dns shutdown: %w", ctx.Err())
	}
	s.mu.Lock()
	for _, c := range s.udp {
		c.Close()
	}
	s.closeAllTCP()
	s.mu.Unlock()
	<-done
	return err
}
