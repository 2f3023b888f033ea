package launch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// KnotOptions for StartKnot: a knotd primary for one zone that accepts
// dynamic updates signed with one TSIG key.
type KnotOptions struct {
	Bin string // path to knotd (see KnotForTest)
	// Dir holds the configuration, the zone file and knot's database;
	// the caller owns it (a t.TempDir).
	Dir  string
	Zone string // e.g. "example.test."
	// Key is the TSIG key updates must be signed with: name, algorithm
	// ("hmac-sha256") and base64 secret.
	KeyName, KeyAlgorithm, KeySecret string
	// Host is the loopback address to bind (default 127.0.0.1).
	Host string
}

// Knot is a running knotd.
type Knot struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{}
	mu   sync.Mutex
	logs bytes.Buffer
}

// StartKnot writes a configuration and a zone into o.Dir, starts knotd on
// a free port and waits until it answers the zone's SOA over TCP.
func StartKnot(ctx context.Context, o KnotOptions) (*Knot, error) {
	if o.Bin == "" || o.Dir == "" || o.Zone == "" || o.KeyName == "" || o.KeySecret == "" {
		return nil, errors.New("launch: StartKnot needs Bin, Dir, Zone, KeyName and KeySecret")
	}
	host := o.Host
	if host == "" {
		host = "127.0.0.1"
	}
	alg := o.KeyAlgorithm
	if alg == "" {
		alg = "hmac-sha256"
	}
	zone := dns.Fqdn(o.Zone)
	var lastErr error
	// The free port is only free until knot binds it (and knot binds UDP
	// too): another process may take it first, so try a few.
	for try := 0; try < 3; try++ {
		ports, err := freePorts(host, 1)
		if err != nil {
			return nil, err
		}
		addr := net.JoinHostPort(host, strconv.Itoa(ports[0]))
		conf := fmt.Sprintf(`server:
    listen: %s@%d
    rundir: "%[3]s"
    pidfile: "%[3]s/knot.pid"
control:
    listen: "%[3]s/knot.sock"
database:
    storage: "%[3]s/db"
log:
  - target: stderr
    any: info
key:
  - id: %[4]s
    algorithm: %[5]s
    secret: %[6]s
acl:
  - id: update
    key: %[4]s
    action: update
zone:
  - domain: %[7]s
    storage: "%[3]s"
    file: "zone.db"
    acl: update
    zonefile-sync: -1
`, host, ports[0], o.Dir, o.KeyName, alg, o.KeySecret, zone)
		soa := fmt.Sprintf("$ORIGIN %s\n$TTL 300\n@ SOA ns hostmaster 1 3600 900 604800 60\n@ NS ns\nns A %s\n", zone, host)
		// knot creates its journal and timer databases under db, but not
		// db itself: without it every dynamic update fails ("not exists").
		if err := os.MkdirAll(filepath.Join(o.Dir, "db"), 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(o.Dir, "knot.conf"), []byte(conf), 0o600); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(o.Dir, "zone.db"), []byte(soa), 0o600); err != nil {
			return nil, err
		}
		k := &Knot{addr: addr, done: make(chan struct{})}
		k.cmd = exec.Command(o.Bin, "-c", filepath.Join(o.Dir, "knot.conf"))
		k.cmd.Stdout, k.cmd.Stderr = (*lockedWriter)(k), (*lockedWriter)(k)
		// Dies with its parent: a test or benchmark that exits without
		// its cleanups (os.Exit, a crash) leaves no knotd behind.
		k.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		if err := k.cmd.Start(); err != nil {
			return nil, fmt.Errorf("launch: start knotd: %w", err)
		}
		go func() { k.cmd.Wait(); close(k.done) }()
		if lastErr = k.waitReady(ctx, zone); lastErr == nil {
			return k, nil
		}
		k.Close()
		lastErr = fmt.Errorf("%w\nknotd log:\n%s", lastErr, k.Logs())
	}
	return nil, lastErr
}

type lockedWriter Knot

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.logs.Write(p)
}

func (k *Knot) waitReady(ctx context.Context, zone string) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	c := &dns.Client{Net: "tcp", Timeout: time.Second}
	m := new(dns.Msg)
	m.SetQuestion(zone, dns.TypeSOA)
	for {
		r, _, err := c.ExchangeContext(ctx, m, k.addr)
		if err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) > 0 {
			return nil
		}
		select {
		case <-k.done:
			return fmt.Errorf("launch: knotd exited before serving %s", zone)
		case <-ctx.Done():
			return fmt.Errorf("launch: knotd does not answer %s on %s: %v", zone, k.addr, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Addr is knot's address, host:port, UDP and TCP.
func (k *Knot) Addr() string { return k.addr }

// Logs is what knotd printed.
func (k *Knot) Logs() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.logs.String()
}

// Close stops knotd and waits for it.
func (k *Knot) Close() {
	if k.cmd.Process == nil {
		return
	}
	k.cmd.Process.Kill()
	<-k.done
}

// FindKnot returns the knotd binary (Debian package knot), or an error
// saying how to install it.
func FindKnot() (string, error) {
	if p := os.Getenv("FAILOVER_KNOTD_BIN"); p != "" {
		return p, nil
	}
	for _, p := range []string{"knotd", "/usr/sbin/knotd"} {
		if path, err := exec.LookPath(p); err == nil {
			return path, nil
		}
	}
	return "", errors.New("no knotd binary: install the Debian package knot (apt-get install knot) or set FAILOVER_KNOTD_BIN")
}

// KnotForTest returns knotd for a test, or skips the test with the reason
// — or fails it in CI (CI=true), where the package is installed.
func KnotForTest(t TB) string {
	t.Helper()
	bin, err := FindKnot()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v (required in CI: CI=true)", err)
		}
		t.Skipf("skipped: %v", err)
	}
	return bin
}

// QueryKnot asks addr (knot, or any authoritative server) for name's
// records of type t over UDP and returns them as text ("192.0.2.1",
// "target.example."), sorted as the server answered.
func QueryKnot(addr, name string, t uint16) ([]string, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), t)
	r, err := dns.Exchange(m, addr)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, rr := range r.Answer {
		if rr.Header().Rrtype != t {
			continue
		}
		f := strings.Fields(rr.String())
		out = append(out, f[len(f)-1])
	}
	return out, nil
}
