package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// blackboxBin is the Debian package's binary (prometheus-blackbox-exporter).
const blackboxBin = "prometheus-blackbox-exporter"

// blackboxConfig is the http_2xx module of the Debian example with the
// probe timeout of P2's checks (0.5 s); targets are IPv4 literals.
const blackboxConfig = `modules:
  http_2xx:
    prober: http
    timeout: 500ms
    http:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
`

// benchBlackbox is P2's side-by-side: prometheus-blackbox-exporter probing
// the same n targets (the same stand-ins) once per second each, driven
// through its /probe endpoint as Prometheus drives it, each target on its
// own fixed-rate slot spread over the second like failoverd's schedule.
// blackbox_exporter opens a new connection to the target for every probe,
// as failoverd does; the requests to /probe itself reuse keep-alive
// connections, as Prometheus's scrapes do. The figure is blackbox's CPU per
// probe (its /proc times over the window, the /probe request included,
// since that is how it is used), next to failoverd's at the same count.
func benchBlackbox(ctx context.Context, e env, n int, window time.Duration, failoverdCPU map[int]float64) []row {
	measure := fmt.Sprintf("prometheus-blackbox-exporter: %d HTTP targets at 1s via /probe, same stand-ins", n)
	bin, err := exec.LookPath(blackboxBin)
	if err != nil {
		fmt.Printf("P2 blackbox %d: skipped: %s not installed (Debian package prometheus-blackbox-exporter; make bench-tools)\n", n, blackboxBin)
		return []row{{id: "P2", measure: measure, result: "skipped: " + blackboxBin + " not installed", goal: "side-by-side", verdict: "-"}}
	}
	cfg := filepath.Join(e.dir, "blackbox.yml")
	if err := os.WriteFile(cfg, []byte(blackboxConfig), 0o600); err != nil {
		fatal(err)
	}
	addr := freeTCPAddr()
	cmd := exec.Command(bin, "--config.file="+cfg, "--web.listen-address="+addr, "--log.level=warn")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		fatal(fmt.Errorf("start %s: %w", bin, err))
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	base := "http://" + addr
	if err := waitHTTP(ctx, base+"/-/healthy", 10*time.Second); err != nil {
		fatal(fmt.Errorf("%s: %w", bin, err))
	}
	version := "?"
	if out, err := exec.Command(bin, "--version").CombinedOutput(); err == nil {
		if f := strings.Fields(string(out)); len(f) >= 3 {
			version = f[2]
		}
	}

	targets, _, stopBackends := probeBackends(e)
	defer stopBackends()
	g := &probeLoad{client: &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: 256, DisableCompression: true}}}
	gctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < n; i++ {
		u := base + "/probe?module=http_2xx&target=" + url.QueryEscape("http://"+targets[i%len(targets)]+"/")
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.run(gctx, u, start.Add(time.Duration(i)*time.Second/time.Duration(n)))
		}()
	}
	defer func() { stop(); wg.Wait() }()
	time.Sleep(3 * time.Second)

	self := os.Getpid()
	s0, cpu0, gen0, t0 := g.snapshot(), cpuTicks(cmd.Process.Pid), cpuTicks(self), time.Now()
	time.Sleep(window)
	s1, cpu1, gen1, t1 := g.snapshot(), cpuTicks(cmd.Process.Pid), cpuTicks(self), time.Now()
	secs := t1.Sub(t0).Seconds()
	probes := float64(s1.probes - s0.probes)
	failed := float64(s1.failed - s0.failed)
	errs := float64(s1.errors - s0.errors)
	lag99 := g.lagQuantile(t0, t1, 0.99)
	cpu := ticksToSeconds(cpu1 - cpu0)
	perProbe := 1e6 * cpu / max(probes, 1)
	fmt.Printf("P2 blackbox_exporter %s, %d targets: %.0f probes/s (%.0f failed, %.0f /probe errors, %d skipped), p99 lag ≤ %s, CPU %.0f%% of one core (%.0f µs per probe), load generator %.0f%%; load average %s\n",
		version, n, probes/secs, failed, errs, s1.skipped-s0.skipped, fmtSecs(lag99), 100*cpu/secs, perProbe,
		100*ticksToSeconds(gen1-gen0)/secs, loadAvg())
	goal := "side-by-side"
	if fd, ok := failoverdCPU[n]; ok && fd > 0 {
		goal = fmt.Sprintf("failoverd: %.0f µs/probe at %d checks (%.1f× less)", fd, n, perProbe/fd)
	}
	return []row{{
		id:      "P2",
		measure: fmt.Sprintf("prometheus-blackbox-exporter %s: %d HTTP targets at 1s via /probe, same stand-ins", version, n),
		result: fmt.Sprintf("%.0f probes/s, %.1f%% failed, p99 lag ≤ %s, CPU %.0f%% (%.0f µs/probe)",
			probes/secs, 100*(failed+errs)/max(probes, 1), fmtSecs(lag99), 100*cpu/secs, perProbe),
		goal:    goal,
		verdict: "-",
	}}
}

// probeLoad drives /probe URLs, each on its own once-a-second slot.
type probeLoad struct {
	client                 *http.Client
	probes, failed, errors atomic.Int64
	skipped                atomic.Int64
	mu                     sync.Mutex
	lags                   []lagAt
}

type lagAt struct {
	at  time.Time
	lag time.Duration
}

type loadCounts struct{ probes, failed, errors, skipped int64 }

func (g *probeLoad) snapshot() loadCounts {
	return loadCounts{g.probes.Load(), g.failed.Load(), g.errors.Load(), g.skipped.Load()}
}

// run requests u at due, due+1s, … until ctx ends. Like failoverd's
// scheduler it never overlaps two requests of one target: slots that pass
// while a request runs are skipped and counted.
func (g *probeLoad) run(ctx context.Context, u string, due time.Time) {
	timer := time.NewTimer(time.Until(due))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		began := time.Now()
		g.mu.Lock()
		g.lags = append(g.lags, lagAt{began, began.Sub(due)})
		g.mu.Unlock()
		ok, err := g.probe(ctx, u)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			g.errors.Add(1)
		case !ok:
			g.failed.Add(1)
		}
		g.probes.Add(1)
		due = due.Add(time.Second)
		if late := time.Since(due); late > 0 {
			n := late/time.Second + 1
			due = due.Add(n * time.Second)
			g.skipped.Add(int64(n))
		}
		timer.Reset(time.Until(due))
	}
}

// probe asks blackbox_exporter for one probe and reads probe_success.
func (g *probeLoad) probe(ctx context.Context, u string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, err
	}
	resp, err := g.client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return false, err
	}
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("/probe: %s", resp.Status)
	}
	return strings.Contains(string(b), "\nprobe_success 1\n"), nil
}

// lagQuantile is the q-quantile of the start lags of requests begun in
// [from, to).
func (g *probeLoad) lagQuantile(from, to time.Time, q float64) float64 {
	g.mu.Lock()
	var lags []time.Duration
	for _, l := range g.lags {
		if !l.at.Before(from) && l.at.Before(to) {
			lags = append(lags, l.lag)
		}
	}
	g.mu.Unlock()
	if len(lags) == 0 {
		return 0
	}
	slices.Sort(lags)
	return lags[min(len(lags)-1, int(q*float64(len(lags))))].Seconds()
}

// freeTCPAddr returns a 127.0.0.1 address nothing listened on a moment ago.
func freeTCPAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitHTTP polls u until it answers 200.
func waitHTTP(ctx context.Context, u string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not answering after %s: %v", u, within, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
