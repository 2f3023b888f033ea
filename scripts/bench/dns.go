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
	"slices"
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
	qps       float64
	latency   time.Duration // average
	lost      float64       // percent
	completed int
	// cpuPerQuery is the server's CPU time per query at cpuRate.
	cpuPerQuery time.Duration
}

// cpuRate is the fixed query rate at which P3 measures CPU per query.
const cpuRate = 50000

// benchDNS is P3: dnsperf sends A queries for a few policy names to
// failoverd's DNS, and the same queries to knot serving an equivalent
// static zone, alternating rounds so both see the same machine load. Two
// figures per round and server: the throughput dnsperf reaches
// (saturating, so it depends on how much of the shared cores dnsperf and
// everything else leave the server), and the server's CPU time per query
// at a fixed cpuRate, from /proc — the cost of a query, much less
// sensitive to the machine's other load. On 2 shared cores the saturating
// run is bounded by dnsperf itself (it needs as much CPU as the server),
// so both servers land near the same qps and that ratio swings around 1
// with the load; the verdict reads capacity instead — queries per CPU
// second, the CPU-per-query ratio — next to the absolute 40,000 qps.
func benchDNS(ctx context.Context, e env, policies, rounds int, round time.Duration) []row {
	const goal = "≥ 40,000 qps and ≥ 1.0 × knot (queries per CPU second at 50k qps)"
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

	servers := []struct {
		name, addr string
		pid        int
		runs       []perf
	}{{name: "failoverd", addr: fd.DNSAddr, pid: fd.Pid()}, {name: "knot", addr: knot.addr, pid: knot.cmd.Process.Pid}}
	for r := 0; r < rounds; r++ {
		for i := range servers {
			sv := &servers[i]
			p, err := dnsperf(ctx, sv.addr, qfile, round)
			if err != nil {
				fatal(err)
			}
			ticks := cpuTicks(sv.pid)
			fixed, err := dnsperf(ctx, sv.addr, qfile, round, "-Q", strconv.Itoa(cpuRate))
			if err != nil {
				fatal(err)
			}
			if fixed.completed > 0 {
				p.cpuPerQuery = time.Duration(float64(cpuTicks(sv.pid)-ticks) / 100 * float64(time.Second) / float64(fixed.completed))
			}
			sv.runs = append(sv.runs, p)
			fmt.Printf("P3 round %d %-9s %6.0f qps, avg latency %s, lost %.2f%%; at %d qps %s CPU per query\n",
				r+1, sv.name+":", p.qps, p.latency, p.lost, cpuRate, p.cpuPerQuery)
		}
	}
	// Ratios are taken within a round, where both servers saw about the
	// same load, then their median.
	var ratios, cpuRatios []float64
	for r := range rounds {
		fr, kr := servers[0].runs[r], servers[1].runs[r]
		ratios = append(ratios, fr.qps/kr.qps)
		cpuRatios = append(cpuRatios, float64(kr.cpuPerQuery)/float64(max(fr.cpuPerQuery, 1)))
	}
	fmt.Printf("P3 per-round ratios failoverd ÷ knot: qps %.2f, CPU per query (knot ÷ failoverd) %.2f\n", ratios, cpuRatios)
	f, k := median(servers[0].runs), median(servers[1].runs)
	ratio, cpuRatio := medianOf(ratios), medianOf(cpuRatios)
	return []row{{
		id: "P3",
		measure: fmt.Sprintf("DNS A queries, dnsperf %s on loopback, %d policies, %d alternating rounds of %s (medians)",
			strings.Join(dnsperfArgs, " "), policies, rounds, round),
		result: fmt.Sprintf("failoverd %.0f qps (avg %s), %s CPU/query at %dk qps; knot %s %.0f qps (avg %s), %s CPU/query; median per-round ratio %.2f (qps), %.2f (CPU per query, knot ÷ failoverd)",
			f.qps, f.latency.Round(time.Microsecond), f.cpuPerQuery.Round(10*time.Nanosecond), cpuRate/1000,
			knot.version, k.qps, k.latency.Round(time.Microsecond), k.cpuPerQuery.Round(10*time.Nanosecond), ratio, cpuRatio),
		goal:    goal,
		verdict: verdict(f.qps >= 40000 && cpuRatio >= 1.0),
	}}
}

// median is each figure's median over the rounds: one round disturbed by
// the machine's other load does not move it.
func median(ps []perf) perf {
	mid := func(f func(perf) float64) float64 {
		v := make([]float64, len(ps))
		for i, p := range ps {
			v[i] = f(p)
		}
		return medianOf(v)
	}
	return perf{
		qps:         mid(func(p perf) float64 { return p.qps }),
		latency:     time.Duration(mid(func(p perf) float64 { return float64(p.latency) })),
		lost:        mid(func(p perf) float64 { return p.lost }),
		cpuPerQuery: time.Duration(mid(func(p perf) float64 { return float64(p.cpuPerQuery) })),
	}
}

var (
	reQPS       = regexp.MustCompile(`Queries per second:\s+([0-9.]+)`)
	reLatency   = regexp.MustCompile(`Average Latency \(s\):\s+([0-9.]+)`)
	reLost      = regexp.MustCompile(`Queries lost:\s+\d+ \(([0-9.]+)%\)`)
	reCompleted = regexp.MustCompile(`Queries completed:\s+(\d+)`)
)

func medianOf(v []float64) float64 {
	v = slices.Sorted(slices.Values(v))
	if len(v) == 0 {
		return 0
	}
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// dnsperf runs dnsperf against addr for d and parses its summary.
func dnsperf(ctx context.Context, addr, qfile string, d time.Duration, extra ...string) (perf, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return perf{}, err
	}
	args := append([]string{"-s", host, "-p", port, "-d", qfile, "-l", strconv.Itoa(int(d.Seconds()))}, dnsperfArgs...)
	args = append(args, extra...)
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
	if m := reCompleted.FindSubmatch(out); m != nil {
		p.completed, _ = strconv.Atoi(string(m[1]))
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
