package store_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// BenchmarkCommit measures P6 on the bolt store: one small put and one
// event per commit, fsync'd, with per-commit latency percentiles (goal
// p99 ≤ 10 ms).
func BenchmarkCommit(b *testing.B) {
	s, err := store.OpenBolt(filepath.Join(b.TempDir(), "failoverd.db"), store.BoltOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	benchCommit(b, s)
}

// BenchmarkCommitEtcd measures P6 on the etcd store: the same commits
// against a three-member cluster on loopback, each acknowledged once it is
// in the WAL (fsync'd) of a quorum.
func BenchmarkCommitEtcd(b *testing.B) {
	s := openEtcd(b, sharedEtcd(b), testPrefix(b), store.EtcdOptions{})
	benchCommit(b, s)
}

func benchCommit(b *testing.B, s store.Store) {
	ctx := context.Background()
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = fmt.Sprintf("hc-%03d", i)
	}
	value := bytes.Repeat([]byte("v"), 256)
	event := func(seq uint64) []byte { return []byte(fmt.Sprintf(`{"seq":%d,"type":"health-check.updated"}`, seq)) }
	durs := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		_, err := s.Commit(ctx, store.Batch{
			Puts:   []store.KV{{Bucket: hc, Key: keys[i%len(keys)], Value: value}},
			Events: []func(uint64) []byte{event},
		})
		durs = append(durs, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	slices.Sort(durs)
	pct := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(durs)))) - 1
		return float64(durs[max(i, 0)]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
