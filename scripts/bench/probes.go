package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/client"
	"github.com/hatopo/terraform-provider-failover/internal/health"
	"github.com/hatopo/terraform-provider-failover/internal/launch"
)

// p2Backends × p2Listeners stand-in ports are the P2 destinations. Real
// checks point at as many endpoints as there are checks; thousands of new
// connections per second to one ip:port instead leave that destination's
// 4-tuples in TIME_WAIT (60 s) and make the kernel's ephemeral port search
// (and, past ~28,000 per minute, the port range itself) the bottleneck — a
// loopback artifact, not the prober's cost. 64 destinations keep every
// count up to 20,000 probes/s under 320 new connections per second each.
const (
	p2Backends  = 4
	p2Listeners = 16
)

// probeBackends starts the P2 stand-ins; stop kills them.
func probeBackends(e env) (addrs []string, pids []int, stop func()) {
	var bs []*launch.Backend
	stop = func() {
		for _, b := range bs {
			b.Stop()
		}
	}
	for i := 0; i < p2Backends; i++ {
		b, err := launch.StartBackends(filepath.Join(e.bin, "standin"), fmt.Sprintf("b%d", i), p2Listeners)
		if err != nil {
			stop()
			fatal(err)
		}
		bs = append(bs, b)
		addrs = append(addrs, b.Addrs...)
		pids = append(pids, b.Pid())
	}
	return addrs, pids, stop
}

// benchProbes is P2: n HTTP checks at interval 1 s (a new connection per
// probe) against stand-in backends; the figures are the sustained probe
// rate, the failures split by cause (the endpoint's vs this node's), the
// p99 schedule lag, the CPU of failoverd and of the stand-ins, and the
// TIME_WAIT sockets on each side, from failoverd's /metrics, /proc and
// /proc/net/tcp over a measurement window after a warm-up.
//
// It also returns failoverd's CPU time per probe in µs, for the
// blackbox_exporter side-by-side.
func benchProbes(ctx context.Context, e env, n int, window time.Duration) ([]row, float64) {
	fd, err := e.start(ctx, fmt.Sprintf("p2-%d", n))
	if err != nil {
		fatal(err)
	}
	defer fd.Stop()
	c, err := client.New(client.Config{Endpoint: fd.URL, Token: e.token})
	if err != nil {
		fatal(err)
	}
	addrs, backendPids, stopBackends := probeBackends(e)
	defer stopBackends()
	created := time.Now()
	var wg sync.WaitGroup
	work := make(chan int)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if _, err := client.Create(ctx, c, api.KindHealthCheck, api.HealthCheck{Name: fmt.Sprintf("c%05d", i), Site: "local",
					Type: api.CheckHTTP, Address: addrs[i%len(addrs)], IntervalSeconds: 1, TimeoutSeconds: 0.5}); err != nil {
					fatal(err)
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	fmt.Printf("P2 %d checks created in %.1fs; warming up\n", n, time.Since(created).Seconds())
	time.Sleep(3 * time.Second)

	m0, t0 := scrapeAt(fd.URL)
	cpu0, bcpu0 := cpuTicks(fd.Pid()), cpuTicks(backendPids...)
	time.Sleep(window)
	m1, t1 := scrapeAt(fd.URL)
	cpu1, bcpu1 := cpuTicks(fd.Pid()), cpuTicks(backendPids...)
	tw := timeWait(addrs)
	secs := t1.Sub(t0).Seconds()
	delta := func(name, label string) float64 { return m1.sumWhere(name, label) - m0.sumWhere(name, label) }
	probes := delta("failover_probes_total", "")
	failed := delta("failover_probes_total", `result="failure"`)
	local := delta("failover_probes_total", `result="local_failure"`)
	skipped := delta("failover_probes_skipped_total", "")
	lag99 := quantile(m0, m1, "failover_probe_schedule_lag_seconds", 0.99)
	cpu := ticksToSeconds(cpu1 - cpu0)
	rate := probes / secs
	var reasons []string
	for _, r := range health.LocalReasons {
		if v := delta("failover_probe_local_failures_total", `reason="`+r+`"`); v > 0 {
			reasons = append(reasons, fmt.Sprintf("%s %.0f", r, v))
		}
	}
	fmt.Printf("P2 %d checks: %.0f probes/s; failed: %.0f backend, %.0f local %v; %.0f skipped; p99 lag ≤ %s; load average %s\n",
		n, rate, failed, local, reasons, skipped, fmtSecs(lag99), loadAvg())
	fmt.Printf("P2 %d checks: CPU failoverd %.0f%% of one core (%.0f µs per probe), stand-ins %.0f%%; TIME_WAIT prober side %d, backend side %d\n",
		n, 100*cpu/secs, 1e6*cpu/max(probes, 1), 100*ticksToSeconds(bcpu1-bcpu0)/secs, tw.prober, tw.backend)
	if failed > 0 {
		fmt.Printf("P2 %d checks: backend failure reasons (state changes in failoverd's log): %s\n", n, failureReasons(fd.Logs()))
	}
	// Sustained means every scheduled probe ran on time and the probes
	// succeeded: against healthy local backends any failure, the
	// endpoint's or ours, means the machine ran out of room.
	sustained := rate >= 0.97*float64(n) && lag99 <= 0.1 && failed+local <= 0.01*probes
	goal := "sustained (≥ 97% of schedule, p99 lag ≤ 100 ms, < 1% failed)"
	if n >= 3000 {
		goal = "≥ 3,000/s with p99 lag ≤ 100 ms, < 1% failed"
	}
	return []row{{
		id:      "P2",
		measure: fmt.Sprintf("%d HTTP checks at 1s, new connection each", n),
		result: fmt.Sprintf("%.0f probes/s, failed %.1f%% backend + %.1f%% local, p99 lag ≤ %s, CPU %.0f%% (%.0f µs/probe)",
			rate, 100*failed/max(probes, 1), 100*local/max(probes, 1), fmtSecs(lag99), 100*cpu/secs, 1e6*cpu/max(probes, 1)),
		goal:    goal,
		verdict: verdict(sustained),
	}}, 1e6 * cpu / max(probes, 1)
}

// failureReasons counts the backend errors of "site observation changed"
// log lines (a sample: only state changes are logged; local failures are
// counted by reason in the metrics), addresses folded, most frequent first.
func failureReasons(logs string) string {
	addr := regexp.MustCompile(`\d+\.\d+\.\d+\.\d+:\d+`)
	counts := map[string]int{}
	for _, l := range strings.Split(logs, "\n") {
		var rec struct {
			Msg, Error string
		}
		if json.Unmarshal([]byte(l), &rec) != nil || rec.Msg != "site observation changed" || rec.Error == "" ||
			strings.HasPrefix(rec.Error, "local: ") {
			continue
		}
		counts[addr.ReplaceAllString(rec.Error, "ADDR")]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return counts[keys[i]] > counts[keys[j]] })
	var out []string
	for i, k := range keys {
		if i == 3 {
			break
		}
		out = append(out, fmt.Sprintf("%d× %q", counts[k], k))
	}
	return strings.Join(out, ", ")
}

// tcpTimeWait counts TIME_WAIT sockets between the prober and the given
// backend addresses: on the prober's side (its ephemeral port towards a
// backend port) and on the backends' side.
type tcpTimeWait struct{ prober, backend int }

func timeWait(backends []string) tcpTimeWait {
	ports := map[string]bool{}
	for _, a := range backends {
		if i := strings.LastIndexByte(a, ':'); i >= 0 {
			p, _ := strconv.Atoi(a[i+1:])
			ports[fmt.Sprintf("%04X", p)] = true
		}
	}
	var tw tcpTimeWait
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return tw
	}
	for _, l := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) < 4 || f[3] != "06" { // 06 = TIME_WAIT
			continue
		}
		_, lport, _ := strings.Cut(f[1], ":")
		_, rport, _ := strings.Cut(f[2], ":")
		switch {
		case ports[lport]:
			tw.backend++
		case ports[rport]:
			tw.prober++
		}
	}
	return tw
}

func fmtSecs(s float64) string {
	if s >= 1 {
		return fmt.Sprintf("%.1fs", s)
	}
	return strconv.FormatFloat(math.Round(s*1e4)/10, 'f', -1, 64) + "ms"
}

// metricsText is a scraped Prometheus text exposition: series → value.
type metricsText map[string]float64

func scrape(base string) metricsText {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		fatal(err)
	}
	defer resp.Body.Close()
	m := metricsText{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			m[line[:i]] = v
		}
	}
	return m
}

// scrapeAt scrapes and returns the middle of the scrape as its time: on a
// busy machine a scrape can take a good part of a second, and the counters
// are read somewhere inside it.
func scrapeAt(base string) (metricsText, time.Time) {
	before := time.Now()
	m := scrape(base)
	return m, before.Add(time.Since(before) / 2)
}

func (m metricsText) sum(name string) float64 { return m.sumWhere(name, "") }

func (m metricsText) sumWhere(name, label string) float64 {
	var s float64
	for k, v := range m {
		if (k == name || strings.HasPrefix(k, name+"{")) && strings.Contains(k, label) {
			s += v
		}
	}
	return s
}

// quantile estimates a quantile of a histogram's observations between two
// scrapes as the upper bound of the bucket that holds it.
func quantile(m0, m1 metricsText, name string, q float64) float64 {
	type bucket struct{ le, n float64 }
	var bs []bucket
	for k, v := range m1 {
		if !strings.HasPrefix(k, name+"_bucket{") {
			continue
		}
		i := strings.Index(k, `le="`)
		leStr := k[i+4 : strings.IndexByte(k[i+4:], '"')+i+4]
		le, err := strconv.ParseFloat(leStr, 64)
		if leStr == "+Inf" {
			le, err = 1e9, nil
		}
		if err == nil {
			bs = append(bs, bucket{le, v - m0[k]})
		}
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
	if len(bs) == 0 || bs[len(bs)-1].n == 0 {
		return 0
	}
	total := bs[len(bs)-1].n
	for _, b := range bs {
		if b.n >= q*total {
			return b.le
		}
	}
	return bs[len(bs)-1].le
}

// cpuTicks is the processes' user+system CPU time in clock ticks.
func cpuTicks(pids ...int) int64 {
	var total int64
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		// Fields after "(comm) ": state is f[0]; utime is field 14 → f[11].
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		total += u + st
	}
	return total
}

// loadAvg is the 1-minute load average: how busy the shared machine was
// (this benchmark's own processes included).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// ticksToSeconds converts clock ticks (USER_HZ, 100 on Linux) to seconds.
func ticksToSeconds(t int64) float64 { return float64(t) / 100 }
