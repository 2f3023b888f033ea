package webhook

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/publish"
	"github.com/hatopo/terraform-provider-failover/internal/store"
)

var testSecret = []byte(strings.Repeat("s", 32))

type drig struct {
	st     store.Store
	d      *Dispatcher
	hooks  []api.Webhook
	mu     sync.Mutex
	events []api.Event
	cancel context.CancelFunc
	done   chan struct{}
	notify chan struct{}
}

func newDRig(t *testing.T, hooks []api.Webhook, maxPending int) *drig {
	t.Helper()
	st, err := store.OpenBolt(filepath.Join(t.TempDir(), "s.db"), store.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := &drig{st: st, hooks: hooks, done: make(chan struct{}), notify: make(chan struct{})}
	r.d = New(Options{
		Store: st, Leading: func() bool { return true }, Webhooks: func() []api.Webhook { r.mu.Lock(); defer r.mu.Unlock(); return r.hooks },
		Write: func(key string, v []byte) {
			if _, err := st.Commit(context.Background(), store.Batch{Puts: []store.KV{{Bucket: publish.BucketOutbox, Key: key, Value: v}}}); err != nil {
				t.Errorf("write: %v", err)
			}
		},
		Emit:       func(ev api.Event) { r.mu.Lock(); r.events = append(r.events, ev); r.mu.Unlock() },
		WaitEvents: func() (<-chan struct{}, uint64) { return r.notify, 0 },
		Secrets:    Secrets{"ops": testSecret}, MaxPending: maxPending, Resync: 50 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { defer close(r.done); r.d.Run(ctx) }()
	t.Cleanup(func() { r.cancel(); <-r.done })
	return r
}

func (r *drig) append(t *testing.T, typ string, n int) {
	t.Helper()
	var b store.Batch
	for i := 0; i < n; i++ {
		b.Events = append(b.Events, func(seq uint64) []byte {
			x, _ := json.Marshal(api.Event{Seq: seq, Time: time.Now(), Type: typ, Message: "m"})
			return x
		})
	}
	if _, err := r.st.Commit(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

type sink struct {
	mu  sync.Mutex
	ids []uint64
	bad int
}

func (s *sink) handler(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	id, _ := strconv.ParseUint(req.Header.Get(EventIDHeader), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	if Verify(testSecret, req.Header.Get(SignatureHeader), body, DefaultTolerance, time.Now()) != nil {
		s.bad++
	}
	s.ids = append(s.ids, id)
}

func (s *sink) got() []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint64(nil), s.ids...)
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDispatcherFiltersInOrder: only the subscribed types arrive, in log
// order, signed; a new webhook starts after the log's head.
func TestDispatcherFiltersInOrder(t *testing.T) {
	s := &sink{}
	srv := httptest.NewServer(http.HandlerFunc(s.handler))
	defer srv.Close()
	r := newDRig(t, nil, 0)
	r.append(t, api.EventDecision, 3) // before the webhook: never delivered
	r.mu.Lock()
	r.hooks = []api.Webhook{{Name: "h", URL: srv.URL, Events: []string{api.EventDecision}, Secret: "ops"}}
	r.mu.Unlock()
	waitFor(t, 5*time.Second, "the cursor", func() bool {
		st, _ := ReadStatus(context.Background(), r.st, "h", time.Now())
		return st.DeliveredSeq == 3
	})
	r.append(t, api.EventDecision, 2) // 4, 5
	r.append(t, api.EventHealth, 2)   // 6, 7: filtered out
	r.append(t, api.EventDecision, 1) // 8
	waitFor(t, 5*time.Second, "deliveries", func() bool { return len(s.got()) >= 3 })
	time.Sleep(100 * time.Millisecond)
	if got := s.got(); len(got) != 3 || got[0] != 4 || got[1] != 5 || got[2] != 8 || s.bad != 0 {
		t.Fatalf("delivered %v (bad signatures %d), want [4 5 8]", got, s.bad)
	}
}

// TestDispatcherOverflow: a receiver further behind than the bound loses
// the oldest events, counted and evented; the newest arrive.
func TestDispatcherOverflow(t *testing.T) {
	s := &sink{}
	var mu sync.Mutex
	fail := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		f := fail
		mu.Unlock()
		if f {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		s.handler(w, req)
	}))
	defer srv.Close()
	r := newDRig(t, []api.Webhook{{Name: "h", URL: srv.URL, Secret: "ops"}}, 5)
	waitFor(t, 5*time.Second, "the cursor", func() bool {
		_, err := r.st.Get(context.Background(), publish.BucketOutbox, CursorKey("h"))
		return err == nil
	})
	r.append(t, api.EventDecision, 20) // 1..20; the bound keeps 16..20 (+ what is in flight)
	waitFor(t, 5*time.Second, "a failed attempt", func() bool {
		st, _ := ReadStatus(context.Background(), r.st, "h", time.Now())
		return st.Attempts > 0 && strings.Contains(st.LastError, "503")
	})
	mu.Lock()
	fail = false
	mu.Unlock()
	waitFor(t, 15*time.Second, "the newest event", func() bool {
		g := s.got()
		return len(g) > 0 && g[len(g)-1] == 20
	})
	st, _ := ReadStatus(context.Background(), r.st, "h", time.Now())
	if st.Dropped == 0 || st.Dropped+uint64(len(s.got())) < 20 {
		t.Fatalf("dropped %d, delivered %v: want drops accounting for every event not delivered", st.Dropped, s.got())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) == 0 || !strings.Contains(r.events[0].Message, "were dropped, oldest first") {
		t.Fatalf("events %+v, want an overflow event", r.events)
	}
}
