package main

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
)

// benchStore is P6: the store package's own benchmarks — one small put
// and one event per commit — on the embedded bolt store (fsync'd) and on
// the etcd store against three members on loopback (in the WAL of a
// quorum), run by go test. The etcd row needs the etcd of `make tools`.
func benchStore(ctx context.Context) []row {
	out, err := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "^BenchmarkCommit(Etcd)?$", "-benchtime", "3000x", "./internal/store/").CombinedOutput()
	if err != nil {
		fatal(fmt.Errorf("store benchmark: %v\n%s", err, out))
	}
	fmt.Printf("%s", out)
	var rows []row
	for _, b := range []struct{ name, measure string }{
		{"BenchmarkCommit", "embedded store commit (put + event, fsync'd), 3,000 commits"},
		{"BenchmarkCommitEtcd", "etcd store commit (put + event, 3 members on loopback, quorum WAL fsync), 3,000 commits"},
	} {
		// One line per benchmark: "BenchmarkCommit-2  3000  … 0.43 p50-ms  1.98 p99-ms …".
		line := regexp.MustCompile(`(?m)^` + b.name + `-\d+\s.*$`).Find(out)
		get := func(unit string) float64 {
			m := regexp.MustCompile(`([0-9.]+) ` + regexp.QuoteMeta(unit)).FindSubmatch(line)
			if m == nil {
				return -1
			}
			v, _ := strconv.ParseFloat(string(m[1]), 64)
			return v
		}
		p50, p99 := get("p50-ms"), get("p99-ms")
		r := row{id: "P6", measure: b.measure, goal: "p99 ≤ 10 ms"}
		if line == nil {
			r.result, r.verdict = "not run (no etcd: make tools)", "skipped"
		} else {
			fmt.Printf("P6 %s: p50 %.2f ms, p99 %.2f ms\n", b.name, p50, p99)
			r.result, r.verdict = fmt.Sprintf("p50 %.2f ms, p99 %.2f ms", p50, p99), verdict(p99 >= 0 && p99 <= 10)
		}
		rows = append(rows, r)
	}
	return rows
}
