package store

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

const hc = string(api.KindHealthCheck)

func openTest(t testing.TB, opts BoltOptions) (*Bolt, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", "failoverd.db")
	s, err := OpenBolt(path, opts)
	if err != nil {
		t.Fatalf("OpenBolt: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

func reopen(t testing.TB, s *Bolt, path string, opts BoltOptions) *Bolt {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s2, err := OpenBolt(path, opts)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() { _ = s2.Close() })
	return s2
}

func commit(t testing.TB, s *Bolt, b Batch) []uint64 {
	t.Helper()
	res, err := s.Commit(context.Background(), b)
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return res.Seqs
}

// event returns an encoder that embeds the assigned seq, as real events do.
func event(label string) func(uint64) []byte {
	return func(seq uint64) []byte { return []byte(fmt.Sprintf("%s#%d", label, seq)) }
}

func put(bucket, key, value string) KV { return KV{Bucket: bucket, Key: key, Value: []byte(value)} }

// idem is an idempotency record as the server writes it: with a TTL.
func idem(key, value string) KV {
	return KV{Bucket: BucketIdempotency, Key: key, Value: []byte(value), TTL: 24 * time.Hour}
}

// rawCount counts keys as stored, bypassing expiry filtering, so tests can
// see what pruning has physically removed.
func rawCount(t testing.TB, s *Bolt, bucket string) int {
	t.Helper()
	n := 0
	if err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket([]byte(bucket)); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	}); err != nil {
		t.Fatalf("View: %v", err)
	}
	return n
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestOpenBoltLayout(t *testing.T) {
	s, path := openTest(t, BoltOptions{})
	for p, want := range map[string]os.FileMode{filepath.Dir(path): 0o700, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s mode = %v, want %v", p, got, want)
		}
	}
	if s.db.NoSync {
		t.Error("NoSync is set: acknowledged writes would not be on disk")
	}
	if o := s.opts; o.MaxEvents != DefaultMaxEvents || o.AuditRetention != DefaultAuditRetention || o.AuditKeep != DefaultAuditKeep || o.CheckAtOpenBytes != DefaultCheckAtOpenBytes {
		t.Errorf("defaults = %+v", o)
	}
	want := append([]string{}, requiredBuckets...)
	for _, k := range api.Kinds {
		want = append(want, string(k))
	}
	if err := s.db.View(func(tx *bolt.Tx) error {
		for _, name := range want {
			if tx.Bucket([]byte(name)) == nil {
				t.Errorf("bucket %q not created up front", name)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestOpenBoltInUse(t *testing.T) {
	s, path := openTest(t, BoltOptions{})
	_, err := OpenBolt(path, BoltOptions{Timeout: 100 * time.Millisecond})
	want := fmt.Sprintf("data dir %s is in use by another failoverd", filepath.Dir(path))
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("second open: err = %v, want %q", err, want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := OpenBolt(path, BoltOptions{Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("open after Close: %v", err)
	}
	_ = s2.Close()
}

// TestBoltConflictLeavesNoIndexEntry: a batch refused by a condition
// leaves nothing behind in the store's own records either (the contract
// suite checks what callers see).
func TestBoltConflictLeavesNoIndexEntry(t *testing.T) {
	s, _ := openTest(t, BoltOptions{})
	commit(t, s, Batch{Puts: []KV{idem("req", "resp")}})
	_, err := s.Commit(context.Background(), Batch{
		Conditions: []Condition{{Bucket: hc, Key: "web", Value: []byte("v0")}},
		Puts:       []KV{idem("req2", "r2")},
		Audit:      []func(uint64) []byte{event("a")},
	})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("Commit = %v, want ErrConflict", err)
	}
	if n := rawCount(t, s, bucketExpiry); n != 1 {
		t.Errorf("index has %d entries, want 1", n)
	}
	if n := rawCount(t, s, bucketAudit); n != 0 {
		t.Errorf("audit log has %d entries, want 0", n)
	}
}

func TestBoltCommitRejects(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		batch   Batch
		wantErr error
	}{
		{name: "canceled context", ctx: canceled, batch: Batch{Puts: []KV{put(hc, "a", "1")}, Events: []func(uint64) []byte{event("e")}}, wantErr: context.Canceled},
		{name: "put to events", ctx: context.Background(), batch: Batch{Puts: []KV{put(hc, "a", "1"), put(BucketEvents, "x", "1")}}},
		{name: "delete from events", ctx: context.Background(), batch: Batch{Puts: []KV{put(hc, "a", "1")}, Deletes: []KV{{Bucket: BucketEvents, Key: "x"}}}},
		{name: "put to expiry index", ctx: context.Background(), batch: Batch{Puts: []KV{put(hc, "a", "1"), put(bucketExpiry, "x", "1")}}},
		{name: "put to audit log", ctx: context.Background(), batch: Batch{Puts: []KV{put(hc, "a", "1"), put(bucketAudit, "x", "1")}}},
		{name: "delete format marker", ctx: context.Background(), batch: Batch{Puts: []KV{put(hc, "a", "1")}, Deletes: []KV{{Bucket: bucketMeta, Key: markerKey}}}},
		{name: "negative TTL", ctx: context.Background(), batch: Batch{Puts: []KV{put(hc, "a", "1"), {Bucket: hc, Key: "b", Value: []byte("1"), TTL: -time.Second}}}},
		{name: "empty bucket name", ctx: context.Background(), batch: Batch{Puts: []KV{put(hc, "a", "1"), put("", "b", "1")}}},
		{name: "empty key", ctx: context.Background(), batch: Batch{Puts: []KV{put(hc, "a", "1"), put(hc, "", "1")}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := openTest(t, BoltOptions{})
			_, err := s.Commit(tc.ctx, tc.batch)
			if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
				t.Fatalf("Commit err = %v, want %v", err, tc.wantErr)
			}
			if _, err := s.Get(context.Background(), hc, "a"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("rejected batch was partly written: %v", err)
			}
			if seq, _ := s.LastSeq(context.Background()); seq != 0 {
				t.Fatalf("LastSeq = %d after rejected batch", seq)
			}
		})
	}
}

func TestBoltEventsPruning(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t, BoltOptions{MaxEvents: 5})
	for i := 0; i < 9; i++ {
		commit(t, s, Batch{Events: []func(uint64) []byte{event("e")}})
	}
	commit(t, s, Batch{Events: []func(uint64) []byte{event("e"), event("e"), event("e")}})
	assertEvents := func(s *Bolt, first, last uint64) {
		t.Helper()
		got, err := s.Events(ctx, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for i := first; i <= last; i++ {
			want = append(want, fmt.Sprintf("e#%d", i))
		}
		if !slices.EqualFunc(got, want, func(a []byte, b string) bool { return string(a) == b }) {
			t.Fatalf("Events = %q, want %q", got, want)
		}
		if seq, _ := s.LastSeq(ctx); seq != last {
			t.Fatalf("LastSeq = %d, want %d (pruning must not rewind it)", seq, last)
		}
	}
	assertEvents(s, 8, 12)

	// Lowering MaxEvents leaves a backlog; it is worked off a budget per
	// commit rather than in one long transaction.
	s = reopen(t, s, path, BoltOptions{MaxEvents: 100})
	for i := 0; i < 40; i++ {
		commit(t, s, Batch{Events: []func(uint64) []byte{event("e")}})
	}
	assertEvents(s, 8, 52)
	s = reopen(t, s, path, BoltOptions{MaxEvents: 2})
	s.pruneBudget = 10
	commit(t, s, Batch{Events: []func(uint64) []byte{event("e")}})
	if n := rawCount(t, s, BucketEvents); n != 46-11 {
		t.Fatalf("after one commit %d events remain, want %d (budget 10 + 1 appended)", n, 46-11)
	}
	for i := 0; i < 4; i++ {
		commit(t, s, Batch{Events: []func(uint64) []byte{event("e")}})
	}
	assertEvents(s, 56, 57)
}

func TestBoltReopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t, BoltOptions{})
	commit(t, s, Batch{
		Puts:   []KV{put(hc, "web", "w"), put(string(api.KindBurstToggle), "b", "t"), put(BucketState, "health/web", "up"), idem("req", "resp"), put("custom", "k", "v")},
		Events: []func(uint64) []byte{event("a"), event("b")},
	})
	s = reopen(t, s, path, BoltOptions{})
	for _, kv := range []KV{put(hc, "web", "w"), put(string(api.KindBurstToggle), "b", "t"), put(BucketState, "health/web", "up"), idem("req", "resp"), put("custom", "k", "v")} {
		got, err := s.Get(ctx, kv.Bucket, kv.Key)
		if err != nil || !bytes.Equal(got, kv.Value) {
			t.Errorf("%s/%s = (%q, %v), want %q", kv.Bucket, kv.Key, got, err, kv.Value)
		}
	}
	if got := commit(t, s, Batch{Events: []func(uint64) []byte{event("c")}}); !slices.Equal(got, []uint64{3}) {
		t.Fatalf("seq after reopen = %v, want [3]", got)
	}
	evs, err := s.Events(ctx, 0, 10)
	if err != nil || len(evs) != 3 || string(evs[0]) != "a#1" || string(evs[2]) != "c#3" {
		t.Fatalf("Events after reopen = (%q, %v)", evs, err)
	}
}

// TestBoltCopiesSurviveRemap: what the store returns — values, events,
// watch events — is copied out of bbolt's memory map, so it stays intact
// when the file grows and bbolt maps it anew.
func TestBoltCopiesSurviveRemap(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t, BoltOptions{})
	ch := s.Watch(ctx, 0)
	commit(t, s, Batch{Puts: []KV{put(hc, "web", "original"), {Bucket: BucketIdempotency, Key: "req", Value: []byte("original"), TTL: time.Hour}},
		Events: []func(uint64) []byte{func(uint64) []byte { return []byte("original") }}})
	got, err := s.Get(ctx, hc, "web")
	if err != nil {
		t.Fatal(err)
	}
	idem, _ := s.Get(ctx, BucketIdempotency, "req")
	list, _ := s.List(ctx, hc)
	evs, _ := s.Events(ctx, 0, 1)
	_, loaded, _ := s.Load(ctx, hc)
	watched := <-ch
	results := [][]byte{got, idem, list[0].Value, evs[0], loaded[hc][0].Value, watched.Changes[0].Value, watched.Changes[2].Value}
	// Grow the file well past its first mapping so bbolt remaps: slices
	// that still pointed into the old mmap would now fault or read junk.
	big := bytes.Repeat([]byte("x"), 1<<20)
	for i := 0; i < 20; i++ {
		commit(t, s, Batch{Puts: []KV{{Bucket: BucketState, Key: fmt.Sprintf("big-%d", i), Value: big}}})
	}
	for _, r := range results {
		if string(r) != "original" {
			t.Fatalf("returned slice changed after remap: %q", r)
		}
	}
}

// ttlKV is a record that expires an hour after its commit.
func ttlKV(bucket, key, value string) KV {
	return KV{Bucket: bucket, Key: key, Value: []byte(value), TTL: time.Hour}
}

func TestBoltTTL(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	s, _ := openTest(t, BoltOptions{})
	s.now = clock.Now
	const b = BucketIdempotency

	commit(t, s, Batch{Puts: []KV{ttlKV(b, "old", "r-old")}})
	clock.Advance(30 * time.Minute)
	commit(t, s, Batch{Puts: []KV{ttlKV(b, "young", "r-young"), ttlKV(b, "rewritten", "v1")}})
	clock.Advance(20 * time.Minute)
	// Rewriting moves the record's index entry: the old one must go.
	commit(t, s, Batch{Puts: []KV{ttlKV(b, "rewritten", "v2")}})
	if n := rawCount(t, s, bucketExpiry); n != 3 {
		t.Fatalf("index has %d entries, want 3 (one per record)", n)
	}

	// t0+60m: "old" is exactly TTL old — still valid.
	clock.Advance(10 * time.Minute)
	if got, err := s.Get(ctx, b, "old"); err != nil || string(got) != "r-old" {
		t.Fatalf("old at TTL = (%q, %v), want still present", got, err)
	}
	// Past TTL it is invisible at once, before any commit prunes it...
	clock.Advance(time.Nanosecond)
	if _, err := s.Get(ctx, b, "old"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired record visible: %v", err)
	}
	if kvs, _ := s.List(ctx, b); len(kvs) != 2 {
		t.Fatalf("List shows %d records, want 2 unexpired", len(kvs))
	}
	// ...and counts as absent for conditions, so a retried key can reclaim it.
	commit(t, s, Batch{Conditions: []Condition{{Bucket: b, Key: "gone-soon", Absent: true}}})
	if _, err := s.Commit(ctx, Batch{Conditions: []Condition{{Bucket: b, Key: "old", Value: []byte("r-old")}}}); !errors.Is(err, ErrConflict) {
		t.Fatalf("condition matched an expired record: %v", err)
	}
	// The commit above pruned it physically, with its index entry.
	if n, m := rawCount(t, s, b), rawCount(t, s, bucketExpiry); n != 2 || m != 2 {
		t.Fatalf("after prune: %d records, %d index entries; want 2, 2", n, m)
	}

	// "young" expires at t0+90m; "rewritten" was refreshed at t0+50m.
	clock.Advance(30 * time.Minute)
	commit(t, s, Batch{})
	if _, err := s.Get(ctx, b, "young"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("young after TTL: %v", err)
	}
	if got, err := s.Get(ctx, b, "rewritten"); err != nil || string(got) != "v2" {
		t.Fatalf("rewritten = (%q, %v); rewriting must refresh the expiry", got, err)
	}
	if n := rawCount(t, s, b); n != 1 {
		t.Fatalf("%d records remain, want 1", n)
	}
}

// TestBoltTTLIsPerRecord: TTL is a property of each record, in any bucket
// — not of a bucket — as the Store contract says: records with and
// without TTL share a bucket, and rewriting a record without TTL makes it
// permanent.
func TestBoltTTLIsPerRecord(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	s, path := openTest(t, BoltOptions{})
	s.now = clock.Now

	commit(t, s, Batch{Puts: []KV{put(hc, "plain-before", "p1"), {Bucket: hc, Key: "empty"}}})
	commit(t, s, Batch{Puts: []KV{ttlKV(hc, "short", "s"), ttlKV(hc, "made-permanent", "m1")}})
	commit(t, s, Batch{Puts: []KV{put(hc, "plain-after", "p2"), put(hc, "made-permanent", "m2")}})
	if n := rawCount(t, s, bucketExpiry); n != 1 {
		t.Fatalf("expiry index has %d entries, want 1 (only %q expires)", n, "short")
	}
	clock.Advance(2 * time.Hour)
	commit(t, s, Batch{})
	s = reopen(t, s, path, BoltOptions{})
	s.now = clock.Now
	got, err := s.List(ctx, hc)
	if err != nil {
		t.Fatal(err)
	}
	want := []KV{{Bucket: hc, Key: "empty", Value: []byte{}}, put(hc, "made-permanent", "m2"), put(hc, "plain-after", "p2"), put(hc, "plain-before", "p1")}
	if !slices.EqualFunc(got, want, func(a, b KV) bool { return a.Bucket == b.Bucket && a.Key == b.Key && bytes.Equal(a.Value, b.Value) }) {
		t.Fatalf("List = %v, want %v", got, want)
	}
	if _, err := s.Get(ctx, hc, "short"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired record: %v", err)
	}
	if n := rawCount(t, s, hc); n != 4 {
		t.Fatalf("%d records stored, want 4 (the expired one pruned)", n)
	}
	// Conditions compare the logical value, not the wrapper.
	commit(t, s, Batch{Conditions: []Condition{{Bucket: hc, Key: "plain-before", Value: []byte("p1")}, {Bucket: hc, Key: "empty"}}})
}

func TestBoltTTLPruneIsIncremental(t *testing.T) {
	clock := &fakeClock{now: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	s, _ := openTest(t, BoltOptions{})
	s.now = clock.Now
	s.pruneBudget = 10
	var puts []KV
	for i := 0; i < 35; i++ {
		puts = append(puts, ttlKV(BucketIdempotency, fmt.Sprintf("req-%02d", i), "r"))
	}
	commit(t, s, Batch{Puts: puts})
	clock.Advance(2 * time.Hour)
	for _, want := range []int{25, 15, 5, 0, 0} {
		commit(t, s, Batch{})
		if n, m := rawCount(t, s, BucketIdempotency), rawCount(t, s, bucketExpiry); n != want || m != want {
			t.Fatalf("after a commit: %d records, %d index entries; want %d", n, m, want)
		}
	}
}

func TestBoltClose(t *testing.T) {
	s, _ := openTest(t, BoltOptions{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close = %v, want nil", err)
	}
	ctx := context.Background()
	if _, err := s.Get(ctx, hc, "x"); err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Close = %v, want a closed-store error", err)
	}
	if _, err := s.Commit(ctx, Batch{Puts: []KV{put(hc, "x", "1")}}); err == nil {
		t.Fatal("Commit after Close succeeded")
	}
}

// Crash test: a child process (this test binary, re-executed) commits
// numbered records and prints "ack INDEX SEQ" after each Commit returns; the
// parent SIGKILLs it mid-stream, reopens the file and checks every
// acknowledged record. Process death is what failoverd sees on OOM-kill or
// kill -9; it proves bbolt's commit ordering leaves a consistent file with
// every acknowledged transaction in it. (Power loss additionally depends on
// fsync, which NoSync=false and TestOpenBoltLayout guard.)
const (
	crashPathEnv  = "FAILOVERD_STORE_CRASH_PATH"
	crashStartEnv = "FAILOVERD_STORE_CRASH_START"
)

func crashKey(i int) string { return fmt.Sprintf("hc-%07d", i) }

// crashValue varies in size so some commits span several pages.
func crashValue(i int) []byte {
	n := 64 + (i%7)*997
	unit := []byte(fmt.Sprintf("%d;", i))
	return bytes.Repeat(unit, n/len(unit)+1)[:n]
}

func crashIdem(i int) []byte { return []byte(fmt.Sprintf(`{"status":201,"object":%q}`, crashKey(i))) }

func TestHelperProcess(t *testing.T) {
	path := os.Getenv(crashPathEnv)
	if path == "" {
		t.Skip("child process of TestBoltCrashLosesNoAcknowledgedWrite")
	}
	start, err := strconv.Atoi(os.Getenv(crashStartEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad start:", err)
		os.Exit(2)
	}
	s, err := OpenBolt(path, BoltOptions{MaxEvents: math.MaxInt32})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	// The deadline only stops an orphan whose parent died; normally the
	// parent kills this process long before.
	deadline := time.Now().Add(time.Minute)
	for i := start; time.Now().Before(deadline); i++ {
		key := crashKey(i)
		res, err := s.Commit(context.Background(), Batch{
			Conditions: []Condition{{Bucket: hc, Key: key, Absent: true}},
			Puts:       []KV{{Bucket: hc, Key: key, Value: crashValue(i)}, {Bucket: BucketIdempotency, Key: key, Value: crashIdem(i), TTL: time.Hour}},
			Events:     []func(uint64) []byte{func(uint64) []byte { return []byte(key) }},
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "commit:", err)
			os.Exit(3)
		}
		// One write(2) on an unbuffered pipe, after Commit returned: this
		// line is the acknowledgement a client would have received.
		fmt.Fprintf(os.Stdout, "ack %d %d\n", i, res.Seqs[0])
	}
	os.Exit(0)
}

func TestBoltCrashLosesNoAcknowledgedWrite(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	path := filepath.Join(t.TempDir(), "failoverd.db")
	acked := map[int]uint64{} // record index → seq, across all rounds
	next := 0
	began := time.Now()
	rounds := 6
	if testing.Short() {
		rounds = 2
	}
	done := 0
	// Rounds reuse the file, so each child also opens a file that was left
	// by a killed process. The time cap keeps a slow disk under ~20 s.
	for ; done < rounds && (done < 2 || time.Since(began) < 12*time.Second); done++ {
		target := 50 + rng.IntN(351)
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
		cmd.Env = append(os.Environ(), crashPathEnv+"="+path, crashStartEnv+"="+strconv.Itoa(next))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		n, killed := 0, false
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var i int
			var seq uint64
			if _, err := fmt.Sscanf(sc.Text(), "ack %d %d", &i, &seq); err != nil {
				continue
			}
			acked[i] = seq
			// On a slow or busy disk, stop at the first 50 acks once the
			// time budget is spent rather than overrun it.
			if n++; !killed && (n == target || (n >= 50 && time.Since(began) > 15*time.Second)) {
				// Kill at an arbitrary point of a later commit, not
				// right at an ack boundary.
				time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				killed = true
			}
		}
		// Read to EOF: acks printed between the kill decision and the
		// child's death are acknowledged writes too.
		_ = cmd.Wait()
		ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
		if !killed || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: child ended by itself after %d acks (state %v), stderr:\n%s", done, n, cmd.ProcessState, stderr.String())
		}
		next = verifyCrashFile(t, path, acked)
		t.Logf("round %d: killed after %d acks (target %d); %d records on disk", done, n, target, next)
	}
	t.Logf("%d rounds, %d acknowledged writes checked, %v", done, len(acked), time.Since(began).Round(time.Millisecond))
}

// verifyCrashFile reopens the store after a kill and returns how many
// records it holds. Records are written one per commit in index order, so
// the file must hold exactly records 0..n-1, each complete with its
// idempotency record and its event (atomicity), and n must cover every ack.
func verifyCrashFile(t *testing.T, path string, acked map[int]uint64) int {
	t.Helper()
	ctx := context.Background()
	s, err := OpenBolt(path, BoltOptions{MaxEvents: math.MaxInt32, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	if err := s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("bbolt consistency check: %v", err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	last, err := s.LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := int(last)
	objs, err := s.List(ctx, hc)
	if err != nil {
		t.Fatal(err)
	}
	idem, err := s.List(ctx, BucketIdempotency)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := s.Events(ctx, 0, math.MaxInt32)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != n || len(idem) != n || len(evs) != n {
		t.Fatalf("torn state: LastSeq %d, %d objects, %d idempotency records, %d events", n, len(objs), len(idem), len(evs))
	}
	for i := 0; i < n; i++ {
		if objs[i].Key != crashKey(i) || !bytes.Equal(objs[i].Value, crashValue(i)) {
			t.Fatalf("object %d = %s (%d bytes), want %s", i, objs[i].Key, len(objs[i].Value), crashKey(i))
		}
		if idem[i].Key != crashKey(i) || !bytes.Equal(idem[i].Value, crashIdem(i)) {
			t.Fatalf("idempotency record %d = %s %q", i, idem[i].Key, idem[i].Value)
		}
		if string(evs[i]) != crashKey(i) {
			t.Fatalf("event seq %d = %q, want %q", i+1, evs[i], crashKey(i))
		}
	}
	lost := 0
	for i, seq := range acked {
		if i >= n || seq != uint64(i+1) {
			lost++
		}
	}
	if lost > 0 {
		t.Fatalf("%d acknowledged writes lost (file holds %d records)", lost, n)
	}
	return n
}
