package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/client"
)

// dnsperfArgs is the load both servers get: 8 client sockets (spread over
// the servers' SO_REUSEPORT sockets), 2 sender threads, up to 100
// queries in flight. dnsperf runs on the same 2 cores as the server.
var dnsperfArgs = []string{"-c", "8", "-T", "2", "-q", "100"}

// perf is one dnsperf run.
type perf struct {
	qps     float64
	latency time.Duration // average
	lost    float64       // percent
}

// benchDNS is P3: dnsperf sends A queries for a few policy names to
// failoverd's DNS, and the same queries to knot serving an equivalent
// static zone, alternating rounds so both see the same machine load.
func benchDNS(ctx context.Context, e env, policies, rounds int, round time.Duration) []row {
	const goal = "≥ 40,000 qps and ≥ 0.8 × knot"
	for _, tool := range []string{"dnsperf", "knotd"} {
		if _, err := exec.LookPath(tool); err != nil {
			fmt.Printf("P3 skipped: %s is not installed (make bench-tools installs dnsperf and knot)\n", tool)
			return []row{{id: "P3", measure: "DNS A queries, dnsperf on loopback", result: tool + " not installed (make bench-tools)", goal: goal, verdict: "SKIPPED"}}
		}
	}
	fd, err := e.start(ctx, "p3")
	if err != nil {
		fatal(err)
	}
	defer fd.Stop()
	c, err := client.New(client.Config{Endpoint: fd.URL, Token: e.token})
	if err != nil {
		fatal(err)
	}
	var queries, zone strings.Builder
	zone.WriteString("$ORIGIN failover.internal.\n$TTL 30\n" +
		"@ 3600 IN SOA ns.dns.failover.internal. hostmaster.failover.internal. 1 3600 600 86400 30\n" +
		"@ 3600 IN NS ns.dns.failover.internal.\nns.dns 3600 IN A 127.0.0.1\n")
	for i := range policies {
		name := fmt.Sprintf("p3-%d", i)
		primary, secondary := fmt.Sprintf("192.0.2.%d", i+1), fmt.Sprintf("198.51.100.%d", i+1)
		if _, err := client.Create(ctx, c, api.KindTrafficPolicy, api.TrafficPolicy{Name: name, Mode: api.ModeActivePassive,
			WhenAllDown: api.AllDownFailOpen, Targets: map[string]api.PolicyTarget{
				"primary":   {Site: "primary", Addresses: []string{primary}, Priority: 1},
				"secondary": {Site: "secondary", Addresses: []string{secondary}, Priority: 2},
			}}); err != nil {
			fatal(err)
		}
		fmt.Fprintf(&queries, "%s.failover.internal A\n", name)
		fmt.Fprintf(&zone, "%s IN A %s\n", name, primary)
	}
	dir := filepath.Join(e.dir, "p3")
	qfile := filepath.Join(dir, "queries")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fatal(err)
	}
	if err := os.WriteFile(qfile, []byte(queries.String()), 0o644); err != nil {
		fatal(err)
	}
	if err := waitAnswer(fd.DNSAddr, "p3-0.failover.internal.", "192.0.2.1", 10*time.Second); err != nil {
		fatal(err)
	}
	knot, err := startKnot(dir, zone.String())
	if err != nil {
		fatal(err)
	}
	defer knot.stop()

	var fo, kn []perf
	for r := 0; r < rounds; r++ {
		p, err := dnsperf(ctx, fd.DNSAddr, qfile, round)
		if err != nil {
			fatal(err)
		}
		fo = append(fo, p)
		fmt.Printf("P3 round %d failoverd: %.0f qps, avg latency %s, lost %.2f%%\n", r+1, p.qps, p.latency, p.lost)
		p, err = dnsperf(ctx, knot.addr, qfile, round)
		if err != nil {
			fatal(err)
		}
		kn = append(kn, p)
		fmt.Printf("P3 round %d knot:      %.0f qps, avg latency %s, lost %.2f%%\n", r+1, p.qps, p.latency, p.lost)
	}
	f, k := mean(fo), mean(kn)
	ratio := f.qps / k.qps
	return []row{{
		id:      "P3",
		measure: fmt.Sprintf("DNS A queries, dnsperf %s on loopback, %d policies, %d×%s each", strings.Join(dnsperfArgs, " "), policies, rounds, round),
		result: fmt.Sprintf("failoverd %.0f qps (avg %s); knot %s %.0f qps (avg %s); ratio %.2f",
			f.qps, f.latency.Round(time.Microsecond), knot.version, k.qps, k.latency.Round(time.Microsecond), ratio),
		goal:    goal,
		verdict: verdict(f.qps >= 40000 && ratio >= 0.8),
	}}
}

func mean(ps []perf) perf {
	var m perf
	for _, p := range ps {
		m.qps += p.qps / float64(len(ps))
		m.latency += p.latency / time.Duration(len(ps))
		m.lost += p.lost / float64(len(ps))
	}
	return m
}

var (
	reQPS     = regexp.MustCompile(`Queries per second:\s+([0-9.]+)`)
	reLatency = regexp.MustCompile(`Average Latency \(s\):\s+([0-9.]+)`)
	reLost    = regexp.MustCompile(`Queries lost:\s+\d+ \(([0-9.]+)%\)`)
)

// dnsperf runs dnsperf against addr for d and parses its summary.
func dnsperf(ctx context.Context, addr, qfile string, d time.Duration) (perf, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return perf{}, err
	}
	args := append([]string{"-s", host, "-p", port, "-d", qfile, "-l", strconv.Itoa(int(d.Seconds()))}, dnsperfArgs...)
	out, err := exec.CommandContext(ctx, "dnsperf", args...).CombinedOutput()
	if err != nil {
		return perf{}, fmt.Errorf("dnsperf %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	var p perf
	m := reQPS.FindSubmatch(out)
	if m == nil {
		return perf{}, fmt.Errorf("dnsperf printed no qps:\n%s", out)
	}
	p.qps, _ = strconv.ParseFloat(string(m[1]), 64)
	if m := reLatency.FindSubmatch(out); m != nil {
		s, _ := strconv.ParseFloat(string(m[1]), 64)
		p.latency = time.Duration(s * float64(time.Second))
	}
	if m := reLost.FindSubmatch(out); m != nil {
		p.lost, _ = strconv.ParseFloat(string(m[1]), 64)
	}
	return p, nil
}

// knotd is a Knot DNS child process serving a static zone on 127.0.0.1.
type knotd struct {
	addr    string
	version string
	cmd     *exec.Cmd
	done    chan struct{}
	log     *bytes.Buffer
}

// startKnot runs knotd in the foreground with its config, rundir, storage
// and zone under dir, on a free port, and waits until it answers.
func startKnot(dir, zone string) (*knotd, error) {
	kdir := filepath.Join(dir, "knot")
	for _, d := range []string{"run", "db", "zones"} {
		if err := os.MkdirAll(filepath.Join(kdir, d), 0o755); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(filepath.Join(kdir, "zones", "failover.internal.zone"), []byte(zone), 0o644); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	conf := fmt.Sprintf(`server:
    rundir: "%[1]s/run"
    listen: 127.0.0.1@%[2]d
database:
    storage: "%[1]s/db"
template:
  - id: default
    storage: "%[1]s/zones"
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: failover.internal
    file: failover.internal.zone
log:
  - target: stderr
    any: warning
`, kdir, port)
	cfile := filepath.Join(kdir, "knot.conf")
	if err := os.WriteFile(cfile, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	k := &knotd{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), done: make(chan struct{}), log: &bytes.Buffer{}}
	if out, err := exec.Command("knotd", "--version").Output(); err == nil {
		k.version = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(out)), "knotd (Knot DNS), version"))
	}
	k.cmd = exec.Command("knotd", "-c", cfile)
	k.cmd.Stdout, k.cmd.Stderr = k.log, k.log
	k.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := k.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start knotd: %w", err)
	}
	go func() { k.cmd.Wait(); close(k.done) }()
	if err := waitAnswer(k.addr, "p3-0.failover.internal.", "192.0.2.1", 10*time.Second); err != nil {
		k.stop()
		return nil, fmt.Errorf("knotd: %w\n%s", err, k.log)
	}
	return k, nil
}

func (k *knotd) stop() {
	k.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-k.done:
	case <-time.After(10 * time.Second):
		k.cmd.Process.Kill()
		<-k.done
	}
}

// freePort is a port free on both UDP and TCP on 127.0.0.1 a moment ago.
func freePort() (int, error) {
	for i := 0; i < 20; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", l.Addr().String())
		l.Close()
		if err == nil {
			u.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("no port free on both UDP and TCP")
}

// waitAnswer polls addr until name's first A record is want.
func waitAnswer(addr, name, want string, within time.Duration) error {
	_, err := waitDNS(addr, name, want, within)
	return err
}
