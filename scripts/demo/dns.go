package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// lookup asks failoverd's DNS server for name's A records, as a client
// resolving the service would.
func lookup(server, name string) ([]string, uint32, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	r, _, err := new(dns.Client).Exchange(m, server)
	if err != nil {
		return nil, 0, err
	}
	var ips []string
	var ttl uint32
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			ips = append(ips, a.A.String())
			ttl = a.Hdr.Ttl
		}
	}
	return ips, ttl, nil
}

// waitDNS polls until name answers want, and says when it did.
func waitDNS(ctx context.Context, server, name, want string, since time.Time) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		ips, ttl, err := lookup(server, name)
		if err == nil && strings.Join(ips, ",") == want {
			if since.IsZero() {
				say("DNS: %s A %s (ttl %ds)", name, want, ttl)
			} else {
				say("DNS: %s A %s (ttl %ds), %.2fs after the change began", name, want, ttl, time.Since(since).Seconds())
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("DNS still answers %v (%v) for %s after 30s, want %s", ips, err, name, want)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}
