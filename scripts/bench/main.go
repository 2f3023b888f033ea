// Command bench is `make bench`: it measures failoverd against the
// performance goals of DESIGN §9 on this machine and prints one table.
// Every figure comes from real processes on 127.0.0.1: failoverd, stand-in
// backends and this program as the client.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/launch"
)

// row is one line of the results table.
type row struct {
	id, measure, result, goal, verdict string
}

type env struct {
	bin   string
	dir   string
	token string
}

func main() {
	bin := flag.String("bin", "bin", "directory holding failoverd and standin")
	only := flag.String("only", "", "comma-separated benchmarks to run (P1,P1Q,P2,P3,P4,P5,P6,P7,P8,P9,P10,FF); default all")
	p9Runs := flag.Int("p9-runs", 100, "P9: decisions to time from decision to knot's answer")
	p9Flood := flag.Int("p9-flood", 1000, "P9: policies published to knot that flip at once")
	p10Runs := flag.Int("p10-runs", 200, "P10: events to time from event to webhook receiver")
	p1Runs := flag.Int("p1-runs", 50, "P1: failovers to measure")
	p1Fall := flag.Int("p1-fall", 3, "P1: fall of the measured check (interval 1s; DESIGN §9 uses 3)")
	p2Counts := flag.String("p2-checks", "1000,3000,5000", "P2: check counts to sustain")
	p2Window := flag.Duration("p2-window", 10*time.Second, "P2: measurement window per count")
	p2Blackbox := flag.String("p2-blackbox", "1000,3000", "P2: target counts for the prometheus-blackbox-exporter side-by-side (empty: none)")
	tfBin := flag.String("terraform", ".tools/bin/terraform", "P4: the Terraform CLI")
	p4Count := flag.Int("p4-checks", 1000, "P4: resources per apply")
	p3Policies := flag.Int("p3-policies", 10, "P3: policy names in the dnsperf query file")
	p3Rounds := flag.Int("p3-rounds", 5, "P3: rounds per server, alternating failoverd and knot; each a saturating dnsperf run and one at 50k qps")
	p3Round := flag.Duration("p3-round", 5*time.Second, "P3: length of one dnsperf round (whole seconds)")
	p1qRuns := flag.Int("p1q-runs", 20, "P1q: failovers to measure on the three-site cluster (majority quorum)")
	p7Runs := flag.Int("p7-runs", 20, "P7: leader sites to kill")
	p7LeaseTTL := flag.Duration("p7-lease-ttl", 5*time.Second, "P7: the nodes' --lease-ttl (failoverd's default is 5s; the goal is this + 1s)")
	ffTrials := flag.Int("ff-trials", 50, "FF: trials of one site's probe path cut")
	ffHold := flag.Duration("ff-hold", 3*time.Second, "FF: how long each cut is held after the cut site's vote fell")
	p8Objects := flag.Int("p8-objects", 10000, "P8: health checks and traffic policies on the node (as many of each)")
	p8Changes := flag.Int("p8-changes", 200, "P8: decision changes to time")
	p8Interval := flag.Duration("p8-interval", 10*time.Second, "P8: probe interval of the checks")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "failover-bench-")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(dir)
	e := env{bin: *bin, dir: dir, token: "bench-token"}

	want := func(id string) bool {
		return *only == "" || strings.Contains(","+strings.ToUpper(*only)+",", ","+id+",")
	}
	fmt.Printf("machine: %s/%s, %d CPUs, %s; %s\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel(), time.Now().UTC().Format(time.RFC3339))
	var rows []row
	if want("P1") {
		rows = append(rows, benchFailover(ctx, e, *p1Runs, *p1Fall)...)
	}
	if want("P1Q") {
		rows = append(rows, benchQuorumFailover(ctx, e, *p1qRuns, *p1Fall)...)
	}
	if want("FF") {
		rows = append(rows, benchFalseFailovers(ctx, e, *ffTrials, *p1Fall, *ffHold)...)
	}
	if want("P2") {
		perProbe := map[int]float64{}
		for _, n := range parseInts(*p2Counts) {
			r, us := benchProbes(ctx, e, n, *p2Window)
			rows = append(rows, r...)
			perProbe[n] = us
		}
		for _, n := range parseInts(*p2Blackbox) {
			rows = append(rows, benchBlackbox(ctx, e, n, *p2Window, perProbe)...)
		}
	}
	if want("P3") {
		rows = append(rows, benchDNS(ctx, e, *p3Policies, *p3Rounds, *p3Round)...)
	}
	if want("P4") {
		rows = append(rows, benchTerraform(ctx, e, *tfBin, *p4Count)...)
	}
	if want("P5") {
		rows = append(rows, benchBurst(ctx, e)...)
	}
	if want("P6") {
		rows = append(rows, benchStore(ctx)...)
	}
	if want("P7") {
		rows = append(rows, benchLeaderLoss(ctx, e, *p7Runs, *p7LeaseTTL)...)
	}
	if want("P8") {
		rows = append(rows, benchScale(ctx, e, *p8Objects, min(*p8Changes, *p8Objects), *p8Interval)...)
	}
	if want("P9") {
		rows = append(rows, benchPublishLatency(ctx, e, *p9Runs)...)
		rows = append(rows, benchPublishFlood(ctx, e, *p9Flood)...)
	}
	if want("P10") {
		rows = append(rows, benchWebhookLatency(ctx, e, *p10Runs)...)
	}
	fmt.Println()
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tmeasure\tresult\tgoal\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.id, r.measure, r.result, r.goal, r.verdict)
	}
	tw.Flush()
}

func (e env) start(ctx context.Context, name string, args ...string) (*launch.Failoverd, error) {
	return launch.StartFailoverd(ctx, launch.Options{
		Bin: filepath.Join(e.bin, "failoverd"), DataDir: filepath.Join(e.dir, name), Token: e.token,
		Args: args,
	})
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

func parseInts(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		var n int
		if _, err := fmt.Sscan(strings.TrimSpace(f), &n); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			if _, v, ok := strings.Cut(l, ":"); ok {
				return strings.TrimSpace(v)
			}
		}
	}
	return "unknown CPU"
}
