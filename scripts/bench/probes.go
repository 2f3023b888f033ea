package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/client"
	"github.com/hatopo/terraform-provider-failover/internal/launch"
)

// benchProbes is P2: n HTTP checks at interval 1 s (a new connection per
// probe) against stand-in backends; the figures are the sustained probe
// rate, the p99 schedule lag and failoverd's CPU, from its own /metrics
// and /proc over a measurement window after a warm-up.
func benchProbes(ctx context.Context, e env, n int, window time.Duration) []row {
	fd, err := e.start(ctx, fmt.Sprintf("p2-%d", n))
	if err != nil {
		fatal(err)
	}
	defer fd.Stop()
	c, err := client.New(client.Config{Endpoint: fd.URL, Token: e.token})
	if err != nil {
		fatal(err)
	}
	// Several backends spread the accept load and the TIME_WAIT sockets.
	var backends []*launch.Backend
	for i := 0; i < 4; i++ {
		b, err := launch.StartBackend(filepath.Join(e.bin, "standin"), fmt.Sprintf("b%d", i), "127.0.0.1:0")
		if err != nil {
			fatal(err)
		}
		defer b.Stop()
		backends = append(backends, b)
	}
	created := time.Now()
	var wg sync.WaitGroup
	work := make(chan int)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				b := backends[i%len(backends)]
				if _, err := client.Create(ctx, c, api.KindHealthCheck, api.HealthCheck{Name: fmt.Sprintf("c%05d", i), Site: "local",
					Type: api.CheckHTTP, Address: b.Addr, IntervalSeconds: 1, TimeoutSeconds: 0.5}); err != nil {
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

	m0, cpu0, t0 := scrape(fd.URL), cpuTicks(fd.Pid()), time.Now()
	time.Sleep(window)
	m1, cpu1, t1 := scrape(fd.URL), cpuTicks(fd.Pid()), time.Now()
	secs := t1.Sub(t0).Seconds()
	probes := m1.sum("failover_probes_total") - m0.sum("failover_probes_total")
	failed := m1.sumWhere("failover_probes_total", `result="failure"`) - m0.sumWhere("failover_probes_total", `result="failure"`)
	skipped := m1.sum("failover_probes_skipped_total") - m0.sum("failover_probes_skipped_total")
	lag99 := quantile(m0, m1, "failover_probe_schedule_lag_seconds", 0.99)
	cpu := float64(cpu1-cpu0) / 100 / secs * 100 // clock ticks at 100 Hz → % of one core
	rate := probes / secs
	fmt.Printf("P2 %d checks: %.0f probes/s (%.0f failed, %.0f skipped), p99 lag ≤ %s, failoverd CPU %.0f%% of one core\n",
		n, rate, failed, skipped, fmtSecs(lag99), cpu)
	// Sustained means every scheduled probe ran on time and the probes
	// themselves succeeded (failures against healthy local backends mean
	// the machine, not the endpoint, ran out of room).
	sustained := rate >= 0.97*float64(n) && lag99 <= 0.1 && failed <= 0.01*probes
	goal := "sustained (≥ 97% of schedule, p99 lag ≤ 100 ms, < 1% failed)"
	if n >= 3000 {
		goal = "≥ 3,000/s with p99 lag ≤ 100 ms"
	}
	return []row{{
		id:      "P2",
		measure: fmt.Sprintf("%d HTTP checks at 1s, new connection each", n),
		result:  fmt.Sprintf("%.0f probes/s, %.1f%% failed, p99 lag ≤ %s, CPU %.0f%%", rate, 100*failed/max(probes, 1), fmtSecs(lag99), cpu),
		goal:    goal,
		verdict: verdict(sustained),
	}}
}

func fmtSecs(s float64) string {
	if s >= 1 {
		return fmt.Sprintf("%.1fs", s)
	}
	return fmt.Sprintf("%gms", s*1000)
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

// cpuTicks is a process's user+system CPU time in clock ticks.
func cpuTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	// Fields after "(comm) ": state is f[0]; utime is field 14 → f[11].
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return u + st
}
