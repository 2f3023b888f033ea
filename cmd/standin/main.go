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
//
// --refuse-source ADDR (repeatable, or comma-separated) resets every
// connection from that source address: with failoverd's
// --probe-source-addr, one site's path to the backend breaks while the
// other sites' paths work, as a cut link does. The set can be changed
// while running by a line
// "refuse IP[,IP…]" on stdin ("refuse" alone clears it), answered with a
// line "refusing IP,…" on stdout once it is in force, so a test or a
// benchmark can cut and restore a path without restarting the backend.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	site := flag.String("site", "site", "site name to answer with")
	listeners := flag.Int("listeners", 1, "ports to listen on (more than 1 needs port 0 in --addr)")
	var refused refusals
	refused.set("")
	flag.Func("refuse-source", "reset connections from this source IP address, a cut network path (repeatable; stdin \"refuse IP,…\" changes the set)", refused.add)
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
		lns = append(lns, &refusingListener{Listener: ln, refused: &refused})
		addrs = append(addrs, ln.Addr().String())
	}
	fmt.Println(strings.Join(addrs, " "))
	go control(os.Stdin, os.Stdout, &refused)
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

// refusals is the set of source addresses whose connections are reset.
type refusals struct {
	p atomic.Pointer[map[netip.Addr]bool]
}

// set replaces the set with the comma-separated IPs of list ("" clears it).
func (r *refusals) set(list string) error {
	return r.parse(map[netip.Addr]bool{}, list)
}

// add adds the comma-separated IPs of list to the set.
func (r *refusals) add(list string) error {
	m := map[netip.Addr]bool{}
	for ip := range *r.p.Load() {
		m[ip] = true
	}
	return r.parse(m, list)
}

func (r *refusals) parse(m map[netip.Addr]bool, list string) error {
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		ip, err := netip.ParseAddr(f)
		if err != nil {
			return fmt.Errorf("%q is not an IP address, e.g. 127.0.0.11", f)
		}
		m[ip.Unmap()] = true
	}
	r.p.Store(&m)
	return nil
}

func (r *refusals) has(a net.Addr) bool {
	ap, err := netip.ParseAddrPort(a.String())
	return err == nil && (*r.p.Load())[ap.Addr().Unmap()]
}

func (r *refusals) String() string {
	var s []string
	for ip := range *r.p.Load() {
		s = append(s, ip.String())
	}
	return strings.Join(s, ",")
}

// control reads "refuse IP,…" lines and acknowledges each once in force.
// Without a stdin (EOF at once) the set stays what the flag made it.
func control(in io.Reader, out io.Writer, r *refusals) {
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		cmd, arg, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if cmd != "refuse" {
			fmt.Fprintf(os.Stderr, "standin: unknown command %q on stdin; use \"refuse IP[,IP…]\" or \"refuse\"\n", sc.Text())
			continue
		}
		if err := r.set(arg); err != nil {
			fmt.Fprintln(os.Stderr, "standin: refuse:", err)
			continue
		}
		fmt.Fprintf(out, "refusing %s\n", r)
	}
}

// refusingListener resets connections from refused sources as soon as
// they are accepted: the client sees ECONNRESET, as behind a firewall
// that rejects with a TCP reset.
type refusingListener struct {
	net.Listener
	refused *refusals
}

func (l *refusingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || !l.refused.has(c.RemoteAddr()) {
			return c, err
		}
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0) // close with RST, not FIN
		}
		c.Close()
	}
}
