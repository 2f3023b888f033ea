// Command standin is a tiny HTTP backend standing in for a site in the
// demo and tests: it answers every request with 200 and its site name, and
// prints its address on stdout once listening (so --addr :0 works).
//
// --listeners N serves on N ports of the --addr host (port 0 only) and
// prints the N addresses on that one line, space-separated: the probe
// benchmark spreads thousands of checks over many destinations, as real
// checks are, instead of opening thousands of connections per second to
// one ip:port (which exhausts that destination's ephemeral ports on
// loopback and measures the kernel's port search, not the prober).
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	site := flag.String("site", "site", "site name to answer with")
	listeners := flag.Int("listeners", 1, "ports to listen on (more than 1 needs port 0 in --addr)")
	flag.Parse()
	if *listeners < 1 {
		fmt.Fprintln(os.Stderr, "standin: --listeners must be at least 1")
		os.Exit(2)
	}
	if _, port, err := net.SplitHostPort(*addr); err == nil && port != "0" && *listeners > 1 {
		fmt.Fprintln(os.Stderr, "standin: --listeners > 1 needs port 0 in --addr")
		os.Exit(2)
	}
	var lns []net.Listener
	var addrs []string
	for i := 0; i < *listeners; i++ {
		ln, err := net.Listen("tcp", *addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "standin:", err)
			os.Exit(1)
		}
		lns = append(lns, ln)
		addrs = append(addrs, ln.Addr().String())
	}
	fmt.Println(strings.Join(addrs, " "))
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "ok %s\n", *site)
	})}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	errs := make(chan error, len(lns))
	for _, ln := range lns {
		go func() { errs <- srv.Serve(ln) }()
	}
	for range lns {
		if err := <-errs; err != nil && err != http.ErrServerClosed {
			fmt.Fprintln(os.Stderr, "standin:", err)
			os.Exit(1)
		}
	}
}
