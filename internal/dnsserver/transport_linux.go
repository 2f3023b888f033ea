package dnsserver

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// udpBatch is how many datagrams one recvmmsg/sendmmsg moves. Under load
// the socket queue holds several queries at once; answering them with one
// syscall each way (as knot's UDP workers do) instead of a recvfrom and a
// sendto per query is most of the server's CPU.
const udpBatch = 32

type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
	_   [4]byte
}

// serveUDP reads queries from c in batches (recvmmsg) and writes their
// answers in batches (sendmmsg), through the Go netpoller, allocating
// nothing per packet. Both calls pass MSG_DONTWAIT and never block, so
// they are raw system calls: they keep the goroutine's P, where a runtime
// syscall would let sysmon hand the P to another thread whenever a
// sendmmsg spends more than 20 µs delivering a batch over loopback, and
// each handoff costs futex and nanosleep calls and context switches (P3:
// about 0.1 per query, gone with raw calls).
func (s *Server) serveUDP(c *net.UDPConn) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return s.serveUDPSimple(c)
	}
	inSize := s.opts.MaxQuerySize + 1 // +1: a longer datagram shows as oversized
	outSize := max(int(s.opts.MaxUDPSize), 512) + 512
	var (
		rhdr  [udpBatch]mmsghdr
		riov  [udpBatch]unix.Iovec
		rname [udpBatch]unix.RawSockaddrInet6
		whdr  [udpBatch]mmsghdr
		wiov  [udpBatch]unix.Iovec
		res   [udpBatch]outcome
	)
	inbuf := make([]byte, udpBatch*inSize)
	outbuf := make([]byte, udpBatch*outSize)
	for i := range rhdr {
		riov[i].Base = &inbuf[i*inSize]
		riov[i].SetLen(inSize)
		rhdr[i].hdr.Iov = &riov[i]
		rhdr[i].hdr.SetIovlen(1)
		rhdr[i].hdr.Name = (*byte)(unsafe.Pointer(&rname[i]))
	}
	var n int
	var errno syscall.Errno
	read := func(fd uintptr) bool {
		for i := range rhdr {
			rhdr[i].hdr.Namelen = uint32(unsafe.Sizeof(rname[i]))
			rhdr[i].hdr.Flags = 0
		}
		r, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&rhdr[0])), udpBatch, unix.MSG_DONTWAIT, 0, 0)
		n, errno = int(r), e
		return e != unix.EAGAIN
	}
	var wn, sent int
	write := func(fd uintptr) bool {
		r, _, e := unix.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&whdr[sent])), uintptr(wn-sent), unix.MSG_DONTWAIT, 0, 0)
		if e == unix.EAGAIN {
			return false
		}
		errno = e
		if e == 0 {
			sent += int(r)
		}
		return true
	}
	for {
		errno = 0
		if err := rc.Read(read); err != nil || errno != 0 {
			if s.stopping.Load() {
				return nil
			}
			if err == nil {
				err = errno
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
		wn = 0
		for i := 0; i < n; i++ {
			q := inbuf[i*inSize : i*inSize+int(rhdr[i].n)]
			if rhdr[i].hdr.Flags&unix.MSG_TRUNC != 0 {
				q = inbuf[i*inSize : (i+1)*inSize] // oversized: handle drops it
			}
			out := outbuf[i*outSize : i*outSize : (i+1)*outSize]
			resp, r := s.safeHandle(q, false, out)
			res[i] = r
			if len(resp) == 0 {
				continue
			}
			w := &whdr[wn]
			wiov[wn].Base = &resp[0]
			wiov[wn].SetLen(len(resp))
			w.hdr = unix.Msghdr{Name: rhdr[i].hdr.Name, Namelen: rhdr[i].hdr.Namelen, Iov: &wiov[wn]}
			w.hdr.SetIovlen(1)
			wn++
		}
		for sent = 0; sent < wn; {
			errno = 0
			if err := rc.Write(write); err != nil {
				break
			}
			if errno != 0 {
				s.log.Debug("dns udp write failed", "err", errno)
				sent++ // skip the answer that failed
			}
		}
		took := time.Since(start)
		for i := 0; i < n; i++ {
			s.metrics.observeTook(res[i], false, took)
		}
	}
}
