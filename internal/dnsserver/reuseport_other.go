//go:build !linux

package dnsserver

import "net"

const reusePortSupported = false

func listenReusePort(addr string, _ bool) (net.PacketConn, error) {
	return net.ListenPacket("udp", addr)
}
