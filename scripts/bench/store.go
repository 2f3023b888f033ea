package main

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
)

// benchStore is P6: the store package's own benchmark (one small put and
// one event per commit, fsync'd), run by go test.
func benchStore(ctx context.Context) []row {
	out, err := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "BenchmarkCommit", "-benchtime", "3000x", "./internal/store/").CombinedOutput()
	if err != nil {
		fatal(fmt.Errorf("store benchmark: %v\n%s", err, out))
	}
	get := func(unit string) float64 {
		m := regexp.MustCompile(`([0-9.]+) ` + regexp.QuoteMeta(unit)).FindSubmatch(out)
		if m == nil {
			return -1
		}
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		return v
	}
	p50, p99 := get("p50-ms"), get("p99-ms")
	fmt.Printf("P6 store commit: p50 %.2f ms, p99 %.2f ms\n%s", p50, p99, out)
	return []row{{
		id:      "P6",
		measure: "embedded store commit (put + event, fsync'd), 3,000 commits",
		result:  fmt.Sprintf("p50 %.2f ms, p99 %.2f ms", p50, p99),
		goal:    "p99 ≤ 10 ms",
		verdict: verdict(p99 >= 0 && p99 <= 10),
	}}
}
