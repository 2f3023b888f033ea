package engine

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// fullDisk wraps the real bolt store and, while full is set, fails every
// Commit the way a full disk does. Faking the disk is the one thing the
// test cannot do for real; everything else is the real store.
type fullDisk struct {
	store.Store
	full   atomic.Bool
	failed atomic.Int64
}

func (d *fullDisk) Commit(ctx context.Context, b store.Batch) (store.CommitResult, error) {
	if d.full.Load() {
		d.failed.Add(1)
		return store.CommitResult{}, fmt.Errorf("store: commit: write failoverd.db: %w", syscall.ENOSPC)
	}
	return d.Store.Commit(ctx, b)
}

// syncBuffer is a log sink safe for the persister's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) count(msg string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Count(s.b.String(), msg)
}

// TestEventQueueBoundedWhileStoreFails: while every commit fails (a full
// disk), runtime events and audit events of refused requests pile up in
// memory. The queue holds at most MaxQueuedEvents: the oldest runtime
// events go first, audit events only when nothing else is left; each drop
// is counted in failover_events_dropped_total, the burst is logged once
// when it starts and once when the disk is back, and what was kept reaches
// the store then.
func TestEventQueueBoundedWhileStoreFails(t *testing.T) {
	tests := []struct {
		name                 string
		max, audit, runtime  int
		wantDropRuntime      int
		wantDropAudit        int
		wantKeptRuntimeFirst int // index of the oldest runtime event kept
	}{
		{name: "runtime events go first", max: 100, audit: 30, runtime: 200, wantDropRuntime: 130, wantKeptRuntimeFirst: 130},
		{name: "audit events go when nothing else is left", max: 10, audit: 15, runtime: 5, wantDropRuntime: 5, wantDropAudit: 5, wantKeptRuntimeFirst: 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bolt, err := store.OpenBolt(filepath.Join(t.TempDir(), "failoverd.db"), store.BoltOptions{})
			if err != nil {
				t.Fatal(err)
			}
			disk := &fullDisk{Store: bolt}
			var logs syncBuffer
			reg := prometheus.NewRegistry()
			e, err := New(Options{Store: disk, Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Registerer: reg, MaxQueuedEvents: tc.max})
			if err != nil {
				t.Fatal(err)
			}
			defer bolt.Close()
			defer e.Close()

			disk.full.Store(true)
			for i := 0; i < tc.audit; i++ {
				e.Emit(api.Event{Type: api.EventAudit, Message: fmt.Sprintf("refused %d", i)})
			}
			for i := 0; i < tc.runtime; i++ {
				e.Emit(api.Event{Type: api.EventHealth, Message: fmt.Sprintf("runtime %d", i)})
				if n := e.queued(); n > 2*tc.max {
					t.Fatalf("%d events held in memory, bound is %d queued + one batch in flight", n, tc.max)
				}
			}
			dropped := func(kind string) int { return int(counterValue(t, reg, "failover_events_dropped_total", "kind", kind)) }
			// The batch in flight when the events arrived is merged back
			// after its failed attempts (five, then the merged batch is
			// tried): only then are the counts final.
			deadline := time.Now().Add(20 * time.Second)
			for disk.failed.Load() <= 5 || dropped("runtime") != tc.wantDropRuntime || dropped("audit") != tc.wantDropAudit {
				if time.Now().After(deadline) {
					t.Fatalf("dropped runtime %d, audit %d; want %d, %d", dropped("runtime"), dropped("audit"), tc.wantDropRuntime, tc.wantDropAudit)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if n := e.queued(); n > tc.max {
				t.Fatalf("%d events queued after the merge, bound is %d", n, tc.max)
			}
			if disk.failed.Load() == 0 {
				t.Fatal("no commit was attempted against the full disk")
			}
			if n := logs.count("events are being dropped"); n != 1 {
				t.Fatalf("the burst of drops was logged %d times, want once", n)
			}

			disk.full.Store(false)
			e.Flush()
			if n := logs.count("events were dropped while the store failed"); n != 1 {
				t.Fatalf("the end of the burst was logged %d times, want once:\n%s", n, logs.b.String())
			}
			if n := logs.count("runtime state written again"); n != 1 {
				t.Fatalf("the recovery was logged %d times, want once", n)
			}
			if n := logs.count("runtime state write failed"); n != 1 {
				t.Fatalf("the failing store was logged %d times in a few seconds, want once (then once a minute)", n)
			}
			evs, err := e.Events(context.Background(), 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			var runtime, audit []string
			for _, ev := range evs {
				if ev.Type == api.EventAudit {
					audit = append(audit, ev.Message)
				} else {
					runtime = append(runtime, ev.Message)
				}
			}
			if want := tc.runtime - tc.wantDropRuntime; len(runtime) != want || (want > 0 && runtime[0] != fmt.Sprintf("runtime %d", tc.wantKeptRuntimeFirst)) {
				t.Fatalf("runtime events stored = %q, want the newest %d", runtime, want)
			}
			if want := tc.audit - tc.wantDropAudit; len(audit) != want || audit[want-1] != fmt.Sprintf("refused %d", tc.audit-1) {
				t.Fatalf("audit events stored = %q, want the newest %d", audit, want)
			}
			kept, err := e.AuditEvents(context.Background(), 0, 1000)
			if err != nil || len(kept) != len(audit) {
				t.Fatalf("audit log holds %d events (%v), want %d", len(kept), err, len(audit))
			}
		})
	}
}

// queued is how many events the persister holds in memory now, in flight
// or waiting.
func (e *Engine) queued() int {
	p := e.persist
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.lead.events) + len(p.own.audit) + p.inFlightEvents
}

// counterValue reads one counter series from what reg would expose on
// /metrics; -1 when it is missing.
func counterValue(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label && lp.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return -1
}

// TestMutationAuditOutlivesEventLog: the audit event of a mutation is
// committed with it to the audit log as well, under the same seq, so a
// flood of other events that prunes the event log cannot take it away.
func TestMutationAuditOutlivesEventLog(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenBolt(filepath.Join(t.TempDir(), "failoverd.db"), store.BoltOptions{MaxEvents: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e, err := New(Options{Store: st, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	err = e.Mutate(ctx, func() (*Change, error) {
		return &Change{Kind: api.KindBurstToggle, Name: "dr", Object: api.BurstToggle{Name: "dr", Site: "cloud", Version: 1},
			Audit: api.Event{Type: api.EventAudit, Actor: "ci-admin", Action: "create", Object: "burst-toggles/dr"}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		e.Emit(api.Event{Type: api.EventHealth, Message: "flap"})
	}
	e.Flush()
	evs, _ := e.Events(ctx, 0, 100)
	for _, ev := range evs {
		if ev.Type == api.EventAudit {
			t.Fatalf("the flood did not prune the event log as this test expects: %+v", evs)
		}
	}
	audit, err := e.AuditEvents(ctx, 0, 100)
	if err != nil || len(audit) != 1 || audit[0].Seq != 1 || audit[0].Actor != "ci-admin" || audit[0].Action != "create" {
		t.Fatalf("audit log = %+v (%v), want the create as seq 1", audit, err)
	}
}

// TestLeaderWriteGivenUpWhenTermEnds: a leader write that fails (the store
// does not answer: a node cut off from etcd) is neither retried nor first
// tried once its term has ended — though its fence would still admit it
// when the store answers again. The node stopped deciding and dropped the
// term's other writes; when it leads again its new term stores what it
// holds, so a late landing would write the decision (and its event) twice.
// "before its first attempt": the batch was taken with this node's own
// writes, which go first and keep failing until the term is over.
func TestLeaderWriteGivenUpWhenTermEnds(t *testing.T) {
	for _, tc := range []struct {
		name string
		own  bool // an own write taken in the same batch, committed first
	}{
		{name: "between attempts"},
		{name: "before its first attempt", own: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bolt, err := store.OpenBolt(filepath.Join(t.TempDir(), "failoverd.db"), store.BoltOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer bolt.Close()
			ctx := context.Background()
			fence := store.Condition{Bucket: store.BucketState, Key: "fence", Value: []byte("me")}
			if _, err := bolt.Commit(ctx, store.Batch{Puts: []store.KV{{Bucket: fence.Bucket, Key: fence.Key, Value: fence.Value}}}); err != nil {
				t.Fatal(err)
			}
			disk := &fullDisk{Store: bolt}
			p := newPersister(disk, slog.New(slog.NewTextHandler(&syncBuffer{}, nil)), nil, 100, nil)
			defer p.close()

			disk.full.Store(true)
			term := &term{fence: &fence}
			p.setTerm(term)
			// Both lanes filled at once, so the loop takes them together.
			p.mu.Lock()
			p.lead.pending[key{store.BucketState, "policy/web"}] = record{value: []byte(`{"decision":"cloud"}`)}
			if tc.own {
				p.own.pending[key{store.BucketState, "health/web/dc1"}] = record{value: []byte(`{"state":"unhealthy"}`)}
			}
			p.mu.Unlock()
			p.kick()
			deadline := time.Now().Add(10 * time.Second)
			for disk.failed.Load() == 0 {
				if time.Now().After(deadline) {
					t.Fatal("no commit attempted")
				}
				time.Sleep(time.Millisecond)
			}
			// The term ends while a commit of the batch fails, and the
			// store answers again before the next attempt.
			p.setTerm(nil)
			disk.full.Store(false)
			p.flush()
			time.Sleep(time.Second) // longer than the retries' backoff
			p.flush()
			if v, err := bolt.Get(ctx, store.BucketState, "policy/web"); err == nil {
				t.Fatalf("an ended term's leader write landed: %s", v)
			}
			if _, err := bolt.Get(ctx, store.BucketState, "health/web/dc1"); tc.own && err != nil {
				t.Fatalf("this node's own write was not stored: %v", err)
			}
		})
	}
}

// lostAnswers wraps the real bolt store and plays a clustered store whose
// answers get lost: each Commit takes the next step of script — "landed"
// (written, then reported as store.ErrOutcomeUnknown), "unknown" (not
// written, reported the same way) or, once the script is done, "ok". Like
// the etcd store's commit keys, it remembers the batch IDs it wrote and
// answers a batch whose ID already landed with the first result, writing
// nothing. A step "unknown" comes first (a store that does not answer
// does not say what landed either). Losing an answer is the one thing the test cannot do for real;
// the store itself is real (TestEtcdBatchIDAppliesOnce holds etcd to the
// same rule).
type lostAnswers struct {
	store.Store
	mu      sync.Mutex
	script  []string
	landed  map[string]store.CommitResult
	ids     []string // the batch ID of every Commit, in order
	commits int
}

func (l *lostAnswers) Commit(ctx context.Context, b store.Batch) (store.CommitResult, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ids = append(l.ids, b.ID)
	step := "ok"
	if len(l.script) > 0 {
		step, l.script = l.script[0], l.script[1:]
	}
	lost := fmt.Errorf("store: commit: %w: etcd did not confirm the write", store.ErrOutcomeUnknown)
	if step == "unknown" {
		return store.CommitResult{}, lost
	}
	if r, ok := l.landed[b.ID]; ok && b.ID != "" {
		return r, nil
	}
	res, err := l.Store.Commit(ctx, b)
	if err != nil {
		return res, err
	}
	l.commits++
	if b.ID != "" {
		l.landed[b.ID] = res
	}
	if step == "landed" {
		return store.CommitResult{}, lost
	}
	return res, nil
}

// TestLostAnswerNeverWritesTwice: a commit whose answer was lost (it
// landed, but the store could not say so) is tried again alone and under
// the same batch ID until the store answers, so its event is stored once;
// what was queued meanwhile follows in a commit of its own.
func TestLostAnswerNeverWritesTwice(t *testing.T) {
	bolt, err := store.OpenBolt(filepath.Join(t.TempDir(), "failoverd.db"), store.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer bolt.Close()
	// The first attempt lands unconfirmed, the next four get no answer:
	// the persister's five attempts all end unknown, then the store is
	// back.
	st := &lostAnswers{Store: bolt, script: []string{"landed", "unknown", "unknown", "unknown", "unknown"}, landed: map[string]store.CommitResult{}}
	e, err := New(Options{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.Flush() // whatever the engine writes at start, before the script
	st.mu.Lock()
	st.script = []string{"landed", "unknown", "unknown", "unknown", "unknown"}
	calls := len(st.ids)
	st.mu.Unlock()

	e.Emit(api.Event{Type: api.EventHealth, Message: "first"})
	deadline := time.Now().Add(10 * time.Second)
	for {
		st.mu.Lock()
		n := len(st.ids) - calls
		st.mu.Unlock()
		if n >= 2 {
			break // the first attempt landed unconfirmed: queue another
		}
		if time.Now().After(deadline) {
			t.Fatal("the persister never committed the first event")
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.Emit(api.Event{Type: api.EventHealth, Message: "second"})
	e.Flush()

	evs, err := e.Events(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, ev := range evs {
		if ev.Message == "first" || ev.Message == "second" {
			msgs = append(msgs, ev.Message)
		}
	}
	if strings.Join(msgs, ",") != "first,second" {
		t.Fatalf("stored events %q, want first and second once each, in order", msgs)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	ids := st.ids[calls:]
	// Five attempts in the first round, at least one more after it (the
	// landed one recognised), then the second event's commit.
	if len(ids) < 7 {
		t.Fatalf("%d commits, want the five failed attempts, the retry and the second event's", len(ids))
	}
	first := ids[0]
	i := 0
	for i < len(ids) && ids[i] == first {
		i++
	}
	if first == "" || i < 6 {
		t.Fatalf("batch IDs %q: want the first batch retried under one ID six times or more", ids)
	}
	for _, id := range ids[i:] {
		if id == first || id == "" {
			t.Fatalf("batch IDs %q: a later batch reuses the first one's ID or has none", ids)
		}
	}
}
