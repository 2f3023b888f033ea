//go:build !linux

package dnsserver

import "net"

func (s *Server) serveUDP(c *net.UDPConn) error { return s.serveUDPSimple(c) }
