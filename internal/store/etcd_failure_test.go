package store_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/launch"
	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// ownEtcd starts a three-member cluster for a test that kills or pauses
// members.
func ownEtcd(t *testing.T) *launch.EtcdCluster {
	t.Helper()
	bin := launch.EtcdForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := launch.StartEtcdCluster(ctx, launch.EtcdOptions{Bin: bin, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

const hc = "health-checks"

// TestEtcdCommitsSurviveLeaderLoss: writers on two nodes commit a stream
// of batches (a put guarded by a condition, and an event) while the etcd
// leader is SIGKILLed. Every acknowledged commit is there afterwards,
// with its event under the sequence number it was given; no batch is
// applied twice (a retry after a lost answer finds its own earlier
// attempt instead of conflicting with it); and a watcher on a third node
// sees every commit exactly once, in order.
func TestEtcdCommitsSurviveLeaderLoss(t *testing.T) {
	c := ownEtcd(t)
	prefix := testPrefix(t)
	var logs syncBuffer
	opts := store.EtcdOptions{RequestTimeout: 20 * time.Second, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	nodes := []*store.Etcd{openEtcd(t, c, prefix, opts), openEtcd(t, c, prefix, opts)}
	watcher := openEtcd(t, c, prefix, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rev, _, err := watcher.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	feed := watcher.Watch(ctx, rev)

	const total = 240
	type ack struct {
		key string
		res store.CommitResult
	}
	var (
		mu      sync.Mutex
		acked   []ack
		unknown []string
		next    atomic.Int64
		killed  = make(chan struct{})
	)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		s := nodes[w%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > total {
					return
				}
				key := fmt.Sprintf("k%04d", i)
				res, err := s.Commit(ctx, store.Batch{
					Conditions: []store.Condition{{Bucket: hc, Key: key, Absent: true}},
					Puts:       []store.KV{{Bucket: hc, Key: key, Value: []byte(key)}},
					Events:     []func(uint64) []byte{func(seq uint64) []byte { return []byte(fmt.Sprintf("%s#%d", key, seq)) }},
				})
				mu.Lock()
				switch {
				case err == nil:
					acked = append(acked, ack{key, res})
				case errors.Is(err, store.ErrOutcomeUnknown):
					unknown = append(unknown, key)
				default:
					t.Errorf("commit %s: %v", key, err)
				}
				mu.Unlock()
			}
		}()
	}
	// Kill the leader once the stream is well under way.
	go func() {
		defer close(killed)
		for next.Load() < total/4 {
			time.Sleep(5 * time.Millisecond)
		}
		leader, err := c.Leader(ctx)
		if err != nil {
			t.Error(err)
			return
		}
		t.Logf("killing the etcd leader %s after %d commits", leader.Name, next.Load())
		leader.Kill()
	}()
	wg.Wait()
	<-killed
	if t.Failed() {
		return
	}
	t.Logf("%d commits acknowledged, %d with an unknown outcome; %d attempts retried, %d found applied after a lost answer",
		len(acked), len(unknown), logs.count("etcd commit retried"), logs.count("etcd commit found applied"))

	kvs, err := nodes[0].List(ctx, hc)
	if err != nil {
		t.Fatal(err)
	}
	present := map[string]bool{}
	for _, kv := range kvs {
		present[kv.Key] = true
	}
	for _, a := range acked {
		if !present[a.key] {
			t.Errorf("acknowledged commit %s (rev %d) is lost", a.key, a.res.Rev)
		}
	}
	last, err := nodes[1].LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := nodes[1].Events(ctx, 0, 10*total)
	if err != nil {
		t.Fatal(err)
	}
	// One event per applied batch, densely numbered: a batch applied twice
	// would add a second event (its put was guarded, its event was not).
	if uint64(len(evs)) != last || len(evs) != len(kvs) {
		t.Fatalf("%d events, last seq %d, %d keys: want one event per applied batch, numbered densely", len(evs), last, len(kvs))
	}
	bySeq := map[uint64]string{}
	for i, ev := range evs {
		key, seq, _ := strings.Cut(string(ev), "#")
		if seq != fmt.Sprint(i+1) {
			t.Fatalf("event %d is %q: sequence numbers out of step", i+1, ev)
		}
		bySeq[uint64(i+1)] = key
	}
	for _, a := range acked {
		if len(a.res.Seqs) != 1 || bySeq[a.res.Seqs[0]] != a.key {
			t.Errorf("commit %s was told seqs %v, the log has %q there", a.key, a.res.Seqs, bySeq[a.res.Seqs[0]])
		}
	}

	// The watcher saw each applied batch once, in revision order.
	seen := map[string]bool{}
	var lastRev uint64
	for len(seen) < len(kvs) {
		ev := recvEvent(t, feed)
		if ev.Rev <= lastRev {
			t.Fatalf("watch revision %d after %d", ev.Rev, lastRev)
		}
		lastRev = ev.Rev
		for _, ch := range ev.Changes {
			if ch.Bucket != hc {
				continue
			}
			if seen[ch.Key] {
				t.Fatalf("the watcher saw %s twice", ch.Key)
			}
			seen[ch.Key] = true
		}
	}
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) count(msg string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.b.String(), msg)
}

func recvEvent(t *testing.T, ch <-chan store.WatchEvent) store.WatchEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed")
		}
		if ev.Err != nil {
			t.Fatalf("watch: %v", ev.Err)
		}
		return ev
	case <-time.After(30 * time.Second):
		t.Fatal("no watch event within 30s")
	}
	return store.WatchEvent{}
}

// TestEtcdOutcomeUnknownWhenQuorumLost: with two of three members hung,
// a commit cannot be confirmed; it is reported as "outcome unknown" (it
// is in the log of a member and may still be applied), not as a failed
// write. When the members come back, whatever landed landed once.
func TestEtcdOutcomeUnknownWhenQuorumLost(t *testing.T) {
	c := ownEtcd(t)
	prefix := testPrefix(t)
	s := openEtcd(t, c, prefix, store.EtcdOptions{RequestTimeout: 2 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Stay clear of a lease bucket boundary: the commit below must not
	// need a new lease grant, which would fail before sending anything.
	if left := store.EtcdLeaseSlotLeft(time.Now(), store.EtcdCommitKeyTTL); left < 5*time.Second {
		time.Sleep(left + time.Second)
	}
	if _, err := s.Commit(ctx, store.Batch{Puts: []store.KV{{Bucket: hc, Key: "before", Value: []byte("b")}}, Events: events("before")}); err != nil {
		t.Fatal(err)
	}
	for _, m := range c.Members[:2] {
		if err := m.Pause(); err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.Commit(ctx, store.Batch{Puts: []store.KV{{Bucket: hc, Key: "during", Value: []byte("d")}}, Events: events("during")})
	if !errors.Is(err, store.ErrOutcomeUnknown) {
		t.Fatalf("commit without quorum = %v, want ErrOutcomeUnknown", err)
	}
	t.Logf("commit without quorum: %v", err)
	for _, m := range c.Members[:2] {
		if err := m.Resume(); err != nil {
			t.Fatal(err)
		}
	}
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := c.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
	res, err := s.Commit(ctx, store.Batch{Puts: []store.KV{{Bucket: hc, Key: "after", Value: []byte("a")}}, Events: events("after")})
	if err != nil {
		t.Fatalf("commit after the members came back: %v", err)
	}
	evs, err := s.Events(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, ev := range evs {
		label, _, _ := strings.Cut(string(ev), "#")
		labels = append(labels, label)
	}
	_, getErr := s.Get(ctx, hc, "during")
	landed := getErr == nil
	want := []string{"before", "after"}
	if landed {
		want = []string{"before", "during", "after"}
	}
	t.Logf("the unconfirmed commit landed: %t; events %q", landed, evs)
	if !slices.Equal(labels, want) || res.Seqs[0] != uint64(len(want)) {
		t.Fatalf("events %q (last commit seq %v), want %q", evs, res.Seqs, want)
	}
}

func events(labels ...string) []func(uint64) []byte {
	var out []func(uint64) []byte
	for _, l := range labels {
		out = append(out, func(seq uint64) []byte { return []byte(fmt.Sprintf("%s#%d", l, seq)) })
	}
	return out
}

// Crash of a node: a child process (this test binary) opens the store,
// writes an ephemeral record and is SIGKILLed — no Close, no revoke. The
// record vanishes when its session lease expires, and watchers are told.
const etcdChildEnv = "FAILOVERD_STORE_ETCD_CHILD" // endpoints|prefix

func TestEtcdChildProcess(t *testing.T) {
	spec := os.Getenv(etcdChildEnv)
	if spec == "" {
		t.Skip("child process of TestEtcdEphemeralVanishesOnCrash")
	}
	eps, prefix, _ := strings.Cut(spec, "|")
	s, err := store.OpenEtcd(context.Background(), store.EtcdOptions{Endpoints: strings.Split(eps, ","), Prefix: prefix, SessionTTL: 2 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	if _, err := s.Commit(context.Background(), store.Batch{Puts: []store.KV{
		{Bucket: store.BucketState, Key: "health/web/dc1", Value: []byte("up"), Ephemeral: true},
		{Bucket: store.BucketState, Key: "plain", Value: []byte("p")},
	}}); err != nil {
		fmt.Fprintln(os.Stderr, "commit:", err)
		os.Exit(3)
	}
	fmt.Println("ready")
	time.Sleep(time.Minute) // killed long before
	os.Exit(0)
}

func TestEtcdEphemeralVanishesOnCrash(t *testing.T) {
	c := sharedEtcd(t)
	prefix := testPrefix(t)
	s := openEtcd(t, c, prefix, store.EtcdOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rev, _, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	feed := s.Watch(ctx, rev)

	cmd := exec.Command(os.Args[0], "-test.run=^TestEtcdChildProcess$")
	cmd.Env = append(os.Environ(), etcdChildEnv+"="+strings.Join(c.Endpoints(), ",")+"|"+prefix)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("child: %q %v\n%s", line, err, stderr.String())
	}
	ev := recvEvent(t, feed)
	if len(ev.Changes) != 2 || ev.Changes[0].Key != "health/web/dc1" {
		t.Fatalf("watch = %+v, want the child's commit", ev)
	}
	killed := time.Now()
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	ev = recvEvent(t, feed)
	if len(ev.Changes) != 1 || ev.Changes[0].Key != "health/web/dc1" || !ev.Changes[0].Deleted {
		t.Fatalf("watch = %+v, want the ephemeral record's deletion", ev)
	}
	t.Logf("the crashed node's ephemeral record vanished %s after the kill (session TTL 2s)", time.Since(killed).Round(10*time.Millisecond))
	if _, err := s.Get(ctx, store.BucketState, "health/web/dc1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ephemeral record after its writer crashed: %v", err)
	}
	if got, err := s.Get(ctx, store.BucketState, "plain"); err != nil || string(got) != "p" {
		t.Fatalf("plain record after its writer crashed = (%q, %v)", got, err)
	}
}

// TestEtcdSessionRenewed: when the session's lease is gone (revoked here;
// in life, a node cut off for longer than the TTL), the session reports
// it, the next ephemeral write starts a new session instead of failing,
// and the record is attached to the new lease.
func TestEtcdSessionRenewed(t *testing.T) {
	c := sharedEtcd(t)
	s := openEtcd(t, c, testPrefix(t), store.EtcdOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	first, err := s.Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	eph := store.KV{Bucket: "cluster", Key: "sites/dc1", Value: []byte("node-1"), Ephemeral: true}
	if _, err := s.Commit(ctx, store.Batch{Puts: []store.KV{eph}}); err != nil {
		t.Fatal(err)
	}
	cli := store.EtcdClient(s)
	if _, err := cli.Revoke(ctx, first.Lease()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "cluster", "sites/dc1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("record of a revoked lease: %v", err)
	}
	// Written at once, before the old session noticed its lease is gone.
	if _, err := s.Commit(ctx, store.Batch{Puts: []store.KV{eph}}); err != nil {
		t.Fatalf("ephemeral write after the lease was lost: %v", err)
	}
	select {
	case <-first.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the old session did not report its end")
	}
	second, err := s.Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if second.Lease() == first.Lease() {
		t.Fatal("Session returned the ended session")
	}
	resp, err := cli.Get(ctx, s.Prefix()+"cluster/sites/dc1")
	if err != nil || len(resp.Kvs) != 1 || int64(resp.Kvs[0].Lease) != int64(second.Lease()) {
		t.Fatalf("record = %v, %v; want it on the new session's lease %x", resp, err, second.Lease())
	}
}

// TestEtcdLogsPruned: the event log keeps its newest MaxEvents; the audit
// log loses an entry only once it is both outside the AuditKeep newest
// and older than AuditRetention.
func TestEtcdLogsPruned(t *testing.T) {
	c := sharedEtcd(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	young := openEtcd(t, c, testPrefix(t), store.EtcdOptions{MaxEvents: 5, AuditKeep: 3, AuditRetention: time.Hour})
	old := openEtcd(t, c, testPrefix(t), store.EtcdOptions{MaxEvents: 5, AuditKeep: 3, AuditRetention: time.Nanosecond})
	for _, s := range []*store.Etcd{young, old} {
		store.SetEtcdPruneEvery(s, 50*time.Millisecond)
		for i := 0; i < 4; i++ {
			if _, err := s.Commit(ctx, store.Batch{Events: events("e", "e"), Audit: events("a", "a")}); err != nil {
				t.Fatal(err)
			}
		}
		evs, err := s.Events(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprintf("%q", evs) != `["a#12" "e#13" "e#14" "a#15" "a#16"]` {
			t.Fatalf("event log = %q, want the newest 5", evs)
		}
		if last, _ := s.LastSeq(ctx); last != 16 {
			t.Fatalf("LastSeq = %d after pruning, want 16", last)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		audit, err := old.AuditEvents(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprintf("%q", audit) == `["a#12" "a#15" "a#16"]` {
			break
		}
		if len(audit) < 3 {
			t.Fatalf("audit log = %q: pruned below AuditKeep", audit)
		}
		if time.Now().After(deadline) {
			t.Fatalf("audit log = %q, want the newest 3 once the rest aged out", audit)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // several pruner rounds
	if audit, _ := young.AuditEvents(ctx, 0, 100); len(audit) != 8 {
		t.Fatalf("young audit log = %q, want all 8: none is older than the retention", audit)
	}
}

// TestEtcdBatchTooLarge: a batch beyond etcd's --max-txn-ops is refused
// before anything is sent, saying how to fix it.
func TestEtcdBatchTooLarge(t *testing.T) {
	c := sharedEtcd(t)
	s := openEtcd(t, c, testPrefix(t), store.EtcdOptions{})
	var b store.Batch
	for i := 0; i < 60; i++ {
		b.Puts = append(b.Puts, store.KV{Bucket: hc, Key: fmt.Sprint(i), Value: []byte("x")})
		b.Audit = append(b.Audit, events("a")...)
	}
	_, err := s.Commit(context.Background(), b)
	if err == nil || !strings.Contains(err.Error(), "--max-txn-ops") || !strings.Contains(err.Error(), "smaller batches") {
		t.Fatalf("Commit = %v, want a refusal naming --max-txn-ops", err)
	}
	if kvs, _ := s.List(context.Background(), hc); len(kvs) != 0 {
		t.Fatalf("%d records written by a refused batch", len(kvs))
	}
}

// TestEtcdLayout: what an operator sees with etcdctl — readable keys and
// JSON values as written; a TTL'd record wrapped, on a lease; an
// ephemeral one on the session lease.
func TestEtcdLayout(t *testing.T) {
	c := sharedEtcd(t)
	s := openEtcd(t, c, testPrefix(t), store.EtcdOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := s.Commit(ctx, store.Batch{
		Puts: []store.KV{
			{Bucket: hc, Key: "web", Value: []byte(`{"name":"web"}`)},
			{Bucket: store.BucketIdempotency, Key: "4:ci:k1", Value: []byte(`{"status":201}`), TTL: time.Hour},
			{Bucket: store.BucketState, Key: "health/web/dc1", Value: []byte(`{"up":true}`), Ephemeral: true},
		},
		Events: events("ev"),
	}); err != nil {
		t.Fatal(err)
	}
	sess, err := s.Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cli := store.EtcdClient(s)
	p := s.Prefix()
	for _, tc := range []struct {
		key, value string
		lease      string // "", "ttl", "session"
	}{
		{key: p + hc + "/web", value: `{"name":"web"}`},
		{key: p + "idempotency/4:ci:k1", value: "\x00", lease: "ttl"},
		{key: p + "state/health/web/dc1", value: `{"up":true}`, lease: "session"},
		{key: p + "events/0000000000000001", value: "ev#1"},
		{key: p + "_meta/counters", value: "1 0"},
	} {
		resp, err := cli.Get(ctx, tc.key)
		if err != nil || len(resp.Kvs) != 1 {
			t.Fatalf("%s: %v, %v", tc.key, resp, err)
		}
		kv := resp.Kvs[0]
		if !strings.HasPrefix(string(kv.Value), tc.value) {
			t.Errorf("%s = %q, want %q", tc.key, kv.Value, tc.value)
		}
		switch tc.lease {
		case "":
			if kv.Lease != 0 {
				t.Errorf("%s is on lease %x, want none", tc.key, kv.Lease)
			}
		case "session":
			if kv.Lease != int64(sess.Lease()) {
				t.Errorf("%s is on lease %x, want the session's %x", tc.key, kv.Lease, sess.Lease())
			}
		case "ttl":
			if kv.Lease == 0 || kv.Lease == int64(sess.Lease()) {
				t.Errorf("%s is on lease %x, want a TTL lease", tc.key, kv.Lease)
			}
		}
	}
}

// TestEtcdRetryFindsLandedAttempt: a retry of a commit whose answer was
// lost (same commit id) finds that the first attempt was applied and
// returns its result — not a conflict with its own write, not a second
// copy of its events.
func TestEtcdRetryFindsLandedAttempt(t *testing.T) {
	c := sharedEtcd(t)
	s := openEtcd(t, c, testPrefix(t), store.EtcdOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, tc := range []struct {
		name  string
		batch store.Batch
	}{
		{name: "guarded put", batch: store.Batch{
			Conditions: []store.Condition{{Bucket: hc, Key: "web", Absent: true}},
			Puts:       []store.KV{{Bucket: hc, Key: "web", Value: []byte("w")}},
			Events:     events("created"), Audit: events("audit"),
		}},
		{name: "events only", batch: store.Batch{Events: events("e1", "e2")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("%x", time.Now().UnixNano())
			first, err := store.EtcdCommitWithID(ctx, s, tc.batch, id)
			if err != nil {
				t.Fatal(err)
			}
			before, _ := s.LastSeq(ctx)
			again, err := store.EtcdCommitWithID(ctx, s, tc.batch, id)
			if err != nil {
				t.Fatalf("retry of a landed commit: %v", err)
			}
			if again.Rev != first.Rev || !slices.Equal(again.Seqs, first.Seqs) {
				t.Fatalf("retry = %+v, want the first attempt's %+v", again, first)
			}
			if after, _ := s.LastSeq(ctx); after != before {
				t.Fatalf("LastSeq %d → %d: the retry appended its events again", before, after)
			}
		})
	}
}
