package dnsserver

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"time"
)

// defaultUDPSockets is one UDP socket per two cores. Each socket's reader
// answers a whole batch per wakeup; splitting the same traffic over more
// sockets makes every batch smaller, so each query costs more system calls
// and context switches, and one reader already answers well over 100,000
// queries per second with half a core (P3: on 2 cores, one socket used
// about half the CPU per query of two, at the same rate). The other cores
// stay with the prober and the API.
func defaultUDPSockets() int { return max(runtime.GOMAXPROCS(0)/2, 1) }

// listenUDP binds n UDP sockets to addr with SO_REUSEPORT (where the OS
// has it; one socket elsewhere): the kernel spreads clients over them and
// each is read by its own goroutine, like knot's and nsd's UDP workers.
func listenUDP(addr *net.UDPAddr, n int) ([]*net.UDPConn, error) {
	if !reusePortSupported {
		n = 1
	}
	var conns []*net.UDPConn
	for i := 0; i < n; i++ {
		pc, err := listenReusePort(addr.String(), n > 1)
		if err != nil {
			for _, c := range conns {
				c.Close()
			}
			return nil, err
		}
		c := pc.(*net.UDPConn)
		// Room for bursts: the kernel caps these at net.core.[rw]mem_max.
		c.SetReadBuffer(4 << 20)
		c.SetWriteBuffer(4 << 20)
		conns = append(conns, c)
		addr = c.LocalAddr().(*net.UDPAddr)
	}
	return conns, nil
}

// serveUDPSimple reads queries from c and answers each in turn.
func (s *Server) serveUDPSimple(c *net.UDPConn) error {
	in := make([]byte, s.opts.MaxQuerySize+1) // +1: a longer datagram shows as oversized
	out := make([]byte, 0, max(int(s.opts.MaxUDPSize), 512)+512)
	for {
		n, from, err := c.ReadFromUDPAddrPort(in)
		if err != nil {
			if s.stopping.Load() {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("dns udp %s: %w", c.LocalAddr(), err)
			}
			// ICMP errors and the like: keep serving.
			s.log.Debug("dns udp read failed", "err", err)
			time.Sleep(time.Millisecond)
			continue
		}
		start := time.Now()
		resp, res := s.safeHandle(in[:n], false, out)
		if resp != nil {
			if _, err := c.WriteToUDPAddrPort(resp, from); err != nil {
				s.log.Debug("dns udp write failed", "to", from, "err", err)
			}
		}
		s.metrics.observe(res, false, start)
	}
}

// safeHandle is handle, but a bug that panics on some packet costs that
// packet, never the server.
func (s *Server) safeHandle(q []byte, tcp bool, buf []byte) (out []byte, res outcome) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("dns: panic answering a query; dropped it", "panic", p, "query", fmt.Sprintf("%x", q))
			out, res = nil, outcome{drop: dropMalformed}
		}
	}()
	return s.handle(q, tcp, buf)
}

// serveTCP accepts connections until the listener closes.
func (s *Server) serveTCP(ln net.Listener) error {
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.stopping.Load() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || !errors.Is(err, net.ErrClosed) {
				// Out of file descriptors and the like: wait, retry.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("dns tcp accept failed", "err", err, "retry_in", backoff)
				time.Sleep(backoff)
				continue
			}
			return fmt.Errorf("dns tcp %s: %w", ln.Addr(), err)
		}
		backoff = 0
		s.mu.Lock()
		if s.stopping.Load() {
			s.mu.Unlock()
			c.Close()
			continue
		}
		e := s.admitTCP(c)
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(e)
	}
}

// serveConn answers the queries of one TCP connection in order (RFC 7766):
// each a two-byte length and the message. A connection waits for a query
// at most TCPReadTimeout (the first) or TCPIdleTimeout (the next ones); once
// a query's first byte is in, the rest must arrive within TCPReadTimeout
// (see waitTCP and activeTCP).
func (s *Server) serveConn(e *tcpConn) {
	c := e.c
	defer func() {
		s.releaseTCP(e)
		c.Close()
		s.wg.Done()
	}()
	r := bufio.NewReaderSize(c, 2048)
	q := make([]byte, s.opts.MaxQuerySize)
	out := make([]byte, 0, 4096)
	var prefix [2]byte
	wait := s.opts.TCPReadTimeout
	for {
		if r.Buffered() == 0 {
			// Nothing pipelined: wait for the next query.
			s.waitTCP(e, wait)
		}
		if s.stopping.Load() {
			return
		}
		first, err := r.ReadByte()
		if err != nil {
			return
		}
		s.activeTCP(e)
		prefix[0] = first
		if prefix[1], err = r.ReadByte(); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(prefix[:]))
		if n > len(q) {
			// Never read it: a client that sends this is not a resolver.
			s.metrics.dropped.WithLabelValues(dropOversized).Inc()
			return
		}
		if _, err := io.ReadFull(r, q[:n]); err != nil {
			return
		}
		start := time.Now()
		resp, res := s.safeHandle(q[:n], true, out)
		if resp != nil {
			binary.BigEndian.PutUint16(prefix[:], uint16(len(resp)))
			c.SetWriteDeadline(time.Now().Add(s.opts.TCPIdleTimeout))
			bufs := net.Buffers{prefix[:], resp}
			if _, err := bufs.WriteTo(c); err != nil {
				return
			}
		}
		s.metrics.observe(res, true, start)
		if cap(resp) > cap(out) {
			out = resp[:0] // keep the larger buffer for the next answer
		}
		wait = s.opts.TCPIdleTimeout
	}
}
