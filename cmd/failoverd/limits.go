package main

import (
	"fmt"
	"net"

	"golang.org/x/net/netutil"
)

// connBudget is how failoverd shares its file descriptors (RLIMIT_NOFILE)
// between connections clients open and everything else:
//
//   - HTTP connections: at most a quarter of the limit (--max-http-conns;
//     by default a quarter, at most defaultMaxHTTPConns);
//   - TCP DNS connections: an eighth, at most defaultMaxDNSTCPConns;
//   - the rest, at least five eighths: the prober's sockets, the store,
//     the listeners and the logs.
//
// Clients — with or without a token — can hold at most the listeners'
// shares, so probes never fail for want of a descriptor because of them
// (a probe that still does is reported unknown, never unhealthy). More
// connections wait in the kernel's accept queue, costing failoverd no
// descriptor, until a slot frees up; the server's timeouts
// (server.ReadHeaderTimeout, IdleTimeout, …) bound how long a slot is
// held.
type connBudget struct {
	NoFile uint64 // the limit; 0 where there is none to read (Windows)
	HTTP   int
	DNSTCP int
}

const (
	defaultMaxHTTPConns   = 1024
	defaultMaxDNSTCPConns = 512
	// minNoFile: below this, the shares above leave too little for either.
	minNoFile = 64
)

// budgetConns splits nofile; maxHTTP is --max-http-conns (0: default).
func budgetConns(nofile uint64, maxHTTP int) (connBudget, error) {
	b := connBudget{NoFile: nofile, HTTP: defaultMaxHTTPConns, DNSTCP: defaultMaxDNSTCPConns}
	if nofile > 0 {
		if nofile < minNoFile {
			return b, fmt.Errorf("the file-descriptor limit (RLIMIT_NOFILE) is %d; failoverd needs at least %d: raise it (ulimit -n, or LimitNOFILE= in its systemd unit)", nofile, minNoFile)
		}
		b.HTTP = int(min(nofile/4, defaultMaxHTTPConns))
		b.DNSTCP = int(min(nofile/8, defaultMaxDNSTCPConns))
	}
	switch {
	case maxHTTP < 0:
		return b, fmt.Errorf("--max-http-conns %d: use a positive number, or 0 for the default (%d here)", maxHTTP, b.HTTP)
	case maxHTTP > 0 && nofile > 0 && uint64(maxHTTP) > nofile/4:
		return b, fmt.Errorf("--max-http-conns %d is more than a quarter of the file-descriptor limit %d, which would leave the prober short: use at most %d, or raise the limit (ulimit -n, or LimitNOFILE= in its systemd unit)", maxHTTP, nofile, nofile/4)
	case maxHTTP > 0:
		b.HTTP = maxHTTP
	}
	return b, nil
}

// limitConns caps the connections ln accepts at once at n.
func limitConns(ln net.Listener, n int) net.Listener { return netutil.LimitListener(ln, n) }
