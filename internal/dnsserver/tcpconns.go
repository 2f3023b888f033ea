package dnsserver

import (
	"container/list"
	"net"
	"net/netip"
	"sync/atomic"
	"time"
)

// tcpConns keeps the open TCP connections in order of their last query,
// overall and per client source, so that a full server makes room for a
// new client instead of turning it away. A client that opens connections
// and sends nothing (or one byte at a time) must never lock resolvers out
// of TCP: RFC 7766 §6.2.3 lets a server close idle connections when
// resources run short, and that is what admit does — the connection whose
// last query is oldest goes, first among the new client's own source when
// that source is at its cap, so one address churning connections only
// ever displaces its own.
//
// All fields but n are guarded by Server.mu.
type tcpConns struct {
	// all holds every connection, least recently active first.
	all list.List
	// bySource holds each source's connections the same way.
	bySource map[netip.Prefix]*list.List
	// n is all.Len(), readable without the lock (tests, metrics).
	n atomic.Int32
}

// tcpConn is one connection's entry.
type tcpConn struct {
	c      net.Conn
	source netip.Prefix
	inAll  *list.Element
	inSrc  *list.Element
	closed bool // evicted or released: no longer in the lists
	// waiting: the connection waits for its next query, until idleUntil.
	waiting   bool
	idleUntil time.Time
}

// sourceOf is the client a connection counts against: its IPv4 address,
// or its IPv6 /64 (one host easily holds a whole /64).
func sourceOf(c net.Conn) netip.Prefix {
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil {
		return netip.Prefix{}
	}
	a := ap.Addr().Unmap().WithZone("")
	if a.Is4() {
		return netip.PrefixFrom(a, 32)
	}
	p, _ := a.Prefix(64)
	return p
}

// admitTCP registers a new connection, first closing the longest-idle
// connection of its source when the source is at MaxTCPConnsPerSource, or
// the longest-idle of all when the server is at MaxTCPConns. Call with
// s.mu held.
func (s *Server) admitTCP(c net.Conn) *tcpConn {
	t := &s.tcpConns
	if t.bySource == nil {
		t.bySource = map[netip.Prefix]*list.List{}
	}
	e := &tcpConn{c: c, source: sourceOf(c)}
	src := t.bySource[e.source]
	if src == nil {
		src = list.New()
		t.bySource[e.source] = src
	}
	switch {
	case src.Len() >= s.opts.MaxTCPConnsPerSource:
		s.evictTCP(src.Front().Value.(*tcpConn))
	case t.all.Len() >= s.opts.MaxTCPConns:
		s.evictTCP(t.all.Front().Value.(*tcpConn))
	}
	e.inAll = t.all.PushBack(e)
	e.inSrc = src.PushBack(e)
	t.n.Store(int32(t.all.Len()))
	if t.all.Len() == s.opts.MaxTCPConns/2+1 {
		// Pressure starts: connections waiting for a query get the short
		// timeout now, not at their next query.
		until := time.Now().Add(s.opts.TCPReadTimeout)
		for el := t.all.Front(); el != nil; el = el.Next() {
			if w := el.Value.(*tcpConn); w.waiting && w.idleUntil.After(until) {
				w.idleUntil = until
				w.c.SetReadDeadline(until)
			}
		}
	}
	return e
}

// evictTCP closes a connection to make room; its goroutine sees the
// connection closed and ends. Call with s.mu held.
func (s *Server) evictTCP(e *tcpConn) {
	s.forgetTCP(e)
	e.c.Close()
	s.metrics.dropped.WithLabelValues(dropTCPLimit).Inc()
}

// forgetTCP takes a connection out of the lists. Call with s.mu held.
func (s *Server) forgetTCP(e *tcpConn) {
	if e.closed {
		return
	}
	e.closed = true
	t := &s.tcpConns
	t.all.Remove(e.inAll)
	src := t.bySource[e.source]
	src.Remove(e.inSrc)
	if src.Len() == 0 {
		delete(t.bySource, e.source)
	}
	t.n.Store(int32(t.all.Len()))
}

// waitTCP arms a connection's deadline for its next query: d, or
// TCPReadTimeout while more than half of MaxTCPConns are open, so idle
// connections give their file descriptors back before anyone has to be
// evicted (as unbound does).
func (s *Server) waitTCP(e *tcpConn, d time.Duration) {
	s.mu.Lock()
	if s.tcpConns.all.Len() > s.opts.MaxTCPConns/2 {
		d = min(d, s.opts.TCPReadTimeout)
	}
	e.waiting, e.idleUntil = true, time.Now().Add(d)
	if !s.stopping.Load() { // else Shutdown's deadline in the past stands
		e.c.SetReadDeadline(e.idleUntil)
	}
	s.mu.Unlock()
}

// activeTCP notes that a connection started a query: it moves to the back
// of the eviction order, and the rest of the query must arrive within
// TCPReadTimeout.
func (s *Server) activeTCP(e *tcpConn) {
	s.mu.Lock()
	if !e.closed {
		s.tcpConns.all.MoveToBack(e.inAll)
		s.tcpConns.bySource[e.source].MoveToBack(e.inSrc)
	}
	e.waiting = false
	if !s.stopping.Load() { // else Shutdown's deadline in the past stands
		e.c.SetReadDeadline(time.Now().Add(s.opts.TCPReadTimeout))
	}
	s.mu.Unlock()
}

// releaseTCP forgets a connection whose goroutine ends.
func (s *Server) releaseTCP(e *tcpConn) {
	s.mu.Lock()
	s.forgetTCP(e)
	s.mu.Unlock()
}

// closeAllTCP closes every connection (shutdown). Call with s.mu held.
func (s *Server) closeAllTCP() {
	for el := s.tcpConns.all.Front(); el != nil; el = el.Next() {
		el.Value.(*tcpConn).c.Close()
	}
}

// deadlineAllTCP makes every connection's pending read return at once
// (shutdown). Call with s.mu held.
func (s *Server) deadlineAllTCP(at time.Time) {
	for el := s.tcpConns.all.Front(); el != nil; el = el.Next() {
		el.Value.(*tcpConn).c.SetReadDeadline(at)
	}
}
