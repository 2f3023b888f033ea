package publish

import (
	"context"
	"encoding/json"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/launch"
	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// rig is a Manager over a real bolt store, leading, whose status writes
// go straight to the store.
type rig struct {
	st     store.Store
	m      *Manager
	mu     sync.Mutex
	events []api.Event
	cancel context.CancelFunc
	done   chan struct{}
}

func newRig(t *testing.T, st store.Store, pubs map[string]Publisher) *rig {
	t.Helper()
	r := &rig{st: st, done: make(chan struct{})}
	r.m = New(Options{
		Store: st, Leading: func() bool { return true },
		Write: func(key string, v []byte) {
			b := store.Batch{Puts: []store.KV{{Bucket: BucketOutbox, Key: key, Value: v}}}
			if v == nil {
				b = store.Batch{Deletes: []store.KV{{Bucket: BucketOutbox, Key: key}}}
			}
			if _, err := st.Commit(context.Background(), b); err != nil {
				t.Errorf("write status: %v", err)
			}
		},
		Emit:       func(ev api.Event) { r.mu.Lock(); r.events = append(r.events, ev); r.mu.Unlock() },
		Publishers: pubs, Resync: 50 * time.Millisecond, ReconcileInterval: time.Hour, AttemptTimeout: 3 * time.Second,
	})
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { defer close(r.done); r.m.Run(ctx) }()
	t.Cleanup(r.stop)
	return r
}

func (r *rig) stop() {
	r.cancel()
	<-r.done
}

func openBolt(t *testing.T, path string) store.Store {
	t.Helper()
	st, err := store.OpenBolt(path, store.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func enqueue(t *testing.T, st store.Store, e Entry) {
	t.Helper()
	b, _ := json.Marshal(e)
	if _, err := st.Commit(context.Background(), store.Batch{Puts: []store.KV{{Bucket: BucketOutbox, Key: EntryKey(e.Policy, e.Destination), Value: b}}}); err != nil {
		t.Fatal(err)
	}
}

// counting wraps a real publisher; gate, when set, holds every Publish
// until it is closed.
type counting struct {
	Publisher
	n    atomic.Int32
	gate chan struct{}
}

func (c *counting) Publish(ctx context.Context, e Entry) error {
	c.n.Add(1)
	if c.gate != nil {
		select {
		case <-c.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return c.Publisher.Publish(ctx, e)
}

func waitKnotA(t *testing.T, k *launch.Knot, name, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got, _ := launch.QueryKnot(k.Addr(), name, dns.TypeA)
		if strings.Join(got, ",") == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("knot answers %s A %v after %s, want %s", name, got, within, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func entryFor(k string, policy, record string, gen uint64, addr string) Entry {
	return Entry{Policy: policy, Destination: api.DestinationRFC2136, Generation: gen, DecidedAt: time.Now(),
		RFC2136: &api.PublishRFC2136{Server: k, Zone: "example.test", RecordName: record, TSIGKey: testKeyName},
		Records: RecordSet{TTL: 30, A: []string{addr}}}
}

// blackhole is a DNS server that accepts TCP connections and never
// answers: the slowest destination there is.
func blackhole(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return l.Addr().String()
}

// TestManagerSlowDestinationDelaysNothingElse: a destination that never
// answers keeps failing (status, event) while another policy's record
// is published at once.
func TestManagerSlowDestinationDelaysNothingElse(t *testing.T) {
	k := startKnot(t)
	st := openBolt(t, filepath.Join(t.TempDir(), "s.db"))
	r := newRig(t, st, map[string]Publisher{api.DestinationRFC2136: &RFC2136{Keys: testKeys(t, testKeySecret), Timeout: 30 * time.Second}})
	enqueue(t, st, entryFor(blackhole(t), "slow", "slow.example.test", 1, "192.0.2.1"))
	enqueue(t, st, entryFor(k.Addr(), "fast", "fast.example.test", 1, "192.0.2.2"))
	r.m.Kick()
	start := time.Now()
	waitKnotA(t, k, "fast.example.test", "192.0.2.2", 2*time.Second)
	t.Logf("fast destination published %s after the enqueue while the other hangs", time.Since(start))
	// The slow one times out (AttemptTimeout 3s) and says so.
	deadline := time.Now().Add(10 * time.Second)
	for {
		ps, err := ReadStatus(context.Background(), st, "slow", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) == 1 && ps[0].Attempts > 0 {
			if ps[0].InSync || !strings.Contains(ps[0].LastError, "rfc2136 update to") {
				t.Fatalf("slow status %+v", ps[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slow destination's status after 10s: %+v", ps)
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) == 0 || r.events[0].Type != api.EventPublish || !strings.Contains(r.events[0].Message, "publishing policy slow to rfc2136") {
		t.Fatalf("events %+v, want one saying slow failed", r.events)
	}
}

// TestManagerCoalesces: while the destination holds the first
// publication, 49 newer decisions arrive; only the newest is published
// next — not a backlog.
func TestManagerCoalesces(t *testing.T) {
	k := startKnot(t)
	st := openBolt(t, filepath.Join(t.TempDir(), "s.db"))
	pub := &counting{Publisher: &RFC2136{Keys: testKeys(t, testKeySecret)}, gate: make(chan struct{})}
	r := newRig(t, st, map[string]Publisher{api.DestinationRFC2136: pub})
	enqueue(t, st, entryFor(k.Addr(), "web", "web.example.test", 1, "192.0.2.1"))
	r.m.Kick()
	for pub.n.Load() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	for g := 2; g <= 50; g++ {
		enqueue(t, st, entryFor(k.Addr(), "web", "web.example.test", uint64(g), "192.0.2."+itoa(g)))
		r.m.Kick()
	}
	time.Sleep(200 * time.Millisecond) // the manager has seen the newest
	close(pub.gate)
	waitKnotA(t, k, "web.example.test", "192.0.2.50", 3*time.Second)
	time.Sleep(200 * time.Millisecond)
	if n := pub.n.Load(); n != 2 {
		t.Fatalf("%d publications for 50 decisions, want 2 (the first, then only the newest)", n)
	}
}

// TestManagerResumes: a manager that starts on a store with a pending
// entry publishes it; one that finds it already published does not.
func TestManagerResumes(t *testing.T) {
	k := startKnot(t)
	path := filepath.Join(t.TempDir(), "s.db")
	st := openBolt(t, path)
	enqueue(t, st, entryFor(k.Addr(), "web", "web.example.test", 7, "192.0.2.7"))
	pub := &counting{Publisher: &RFC2136{Keys: testKeys(t, testKeySecret)}}
	r := newRig(t, st, map[string]Publisher{api.DestinationRFC2136: pub})
	waitKnotA(t, k, "web.example.test", "192.0.2.7", 3*time.Second)
	deadline := time.Now().Add(3 * time.Second)
	for {
		ps, _ := ReadStatus(context.Background(), st, "web", time.Now())
		if len(ps) == 1 && ps[0].InSync && ps[0].PublishedGeneration == 7 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status %+v", ps)
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.stop()
	again := &counting{Publisher: &RFC2136{Keys: testKeys(t, testKeySecret)}}
	newRig(t, st, map[string]Publisher{api.DestinationRFC2136: again})
	time.Sleep(300 * time.Millisecond)
	if n := again.n.Load(); n != 0 {
		t.Fatalf("a restarted manager published an entry already published %d times", n)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
