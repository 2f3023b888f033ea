package store

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func auditLog(t *testing.T, s *Bolt, after uint64) []string {
	t.Helper()
	evs, err := s.AuditEvents(context.Background(), after, 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = string(e)
	}
	return out
}

func labels(prefix string, seqs ...uint64) []string {
	out := make([]string, len(seqs))
	for i, s := range seqs {
		out[i] = fmt.Sprintf("%s#%d", prefix, s)
	}
	return out
}

// TestBoltAuditRetention: audit events are in the event log like any
// event, and also in the audit log under the same seq, where no flood of
// other events can push them out; they go only once BOTH older than
// AuditRetention AND outside the AuditKeep newest.
func TestBoltAuditRetention(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	s, path := openTest(t, BoltOptions{MaxEvents: 5, AuditKeep: 3, AuditRetention: time.Hour})
	s.now = clock.Now

	seqs := commit(t, s, Batch{Events: []func(uint64) []byte{event("health")}, Audit: []func(uint64) []byte{event("audit"), event("audit")}})
	if !slices.Equal(seqs, []uint64{1, 2, 3}) {
		t.Fatalf("seqs = %v, want events then audit events: [1 2 3]", seqs)
	}
	commit(t, s, Batch{Audit: []func(uint64) []byte{event("audit"), event("audit")}}) // 4, 5
	// A flood of other events: the event log keeps its newest 5 only.
	for i := 0; i < 50; i++ {
		commit(t, s, Batch{Events: []func(uint64) []byte{event("refused")}})
	}
	evs, _ := s.Events(ctx, 0, 1000)
	if len(evs) != 5 || string(evs[0]) != "refused#51" {
		t.Fatalf("event log = %q, want the 5 newest", evs)
	}
	if got, want := auditLog(t, s, 0), labels("audit", 2, 3, 4, 5); !slices.Equal(got, want) {
		t.Fatalf("audit log after the flood = %q, want %q", got, want)
	}
	if got, want := auditLog(t, s, 3), labels("audit", 4, 5); !slices.Equal(got, want) {
		t.Fatalf("audit log after seq 3 = %q, want %q", got, want)
	}

	// Older than the retention, and one of four beyond the newest 3:
	// exactly that one goes.
	clock.Advance(2 * time.Hour)
	commit(t, s, Batch{})
	if got, want := auditLog(t, s, 0), labels("audit", 3, 4, 5); !slices.Equal(got, want) {
		t.Fatalf("audit log = %q, want %q", got, want)
	}
	// Young audit events are never pruned, however many there are; the
	// old ones now fall outside the newest 3 and go.
	var young []func(uint64) []byte
	for i := 0; i < 10; i++ {
		young = append(young, event("audit"))
	}
	commit(t, s, Batch{Audit: young}) // 56..65
	want := labels("audit", 56, 57, 58, 59, 60, 61, 62, 63, 64, 65)
	if got := auditLog(t, s, 0); !slices.Equal(got, want) {
		t.Fatalf("audit log = %q, want the 10 young ones", got)
	}
	// And it survives a restart.
	s = reopen(t, s, path, BoltOptions{MaxEvents: 5, AuditKeep: 3, AuditRetention: time.Hour})
	if got := auditLog(t, s, 0); !slices.Equal(got, want) {
		t.Fatalf("audit log after reopen = %q", got)
	}
	if _, err := s.AuditEvents(ctx, 0, 0); err == nil {
		t.Fatal("AuditEvents with limit 0 must fail")
	}
}

func TestBoltAuditPruneIsIncremental(t *testing.T) {
	clock := &fakeClock{now: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	s, _ := openTest(t, BoltOptions{AuditKeep: 5, AuditRetention: time.Minute})
	s.now = clock.Now
	s.pruneBudget = 10
	var audit []func(uint64) []byte
	for i := 0; i < 40; i++ {
		audit = append(audit, event("audit"))
	}
	commit(t, s, Batch{Audit: audit})
	clock.Advance(time.Hour)
	for _, want := range []int{30, 20, 10, 5, 5} {
		commit(t, s, Batch{})
		if n := rawCount(t, s, bucketAudit); n != want {
			t.Fatalf("after a commit: %d audit events, want %d", n, want)
		}
	}
}

// TestBoltBackupWhileWriting: a backup taken while writers commit is one
// consistent point in time — a complete store that opens, checks clean,
// and holds a gap-free prefix of what the writers acknowledged.
func TestBoltBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t, BoltOptions{})
	commit(t, s, Batch{Puts: []KV{put(hc, "seed", "x")}})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("w%d-%05d", w, i)
				// Object, idempotency record and audit event in one batch:
				// a consistent copy has all three or none.
				if _, err := s.Commit(ctx, Batch{Puts: []KV{put(hc, key, strings.Repeat("v", 200)), idem(key, "r")}, Audit: []func(uint64) []byte{func(uint64) []byte { return []byte(key) }}}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	dst := filepath.Join(t.TempDir(), "backup.db")
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	var announced int64
	err = s.Backup(ctx, func(size int64) (io.Writer, error) { announced = size; return f, nil })
	f.Close()
	time.Sleep(20 * time.Millisecond)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	fi, _ := os.Stat(dst)
	if fi.Size() != announced {
		t.Fatalf("backup is %d bytes, announced %d", fi.Size(), announced)
	}
	rep, err := CheckBolt(dst, 0)
	if err != nil || !rep.OK() {
		t.Fatalf("CheckBolt(backup) = (%+v, %v)", rep, err)
	}
	b, err := OpenBolt(dst, BoltOptions{})
	if err != nil {
		t.Fatalf("OpenBolt(backup): %v", err)
	}
	defer b.Close()
	objs, _ := b.List(ctx, hc)
	audit, _ := b.AuditEvents(ctx, 0, 1<<20)
	live, _ := s.List(ctx, hc)
	if len(objs) < 2 || len(objs) >= len(live) {
		t.Fatalf("backup holds %d objects, the live store %d: want a point in between", len(objs), len(live))
	}
	if len(audit) != len(objs)-1 {
		t.Fatalf("backup: %d objects but %d audit events: not one point in time", len(objs)-1, len(audit))
	}
	for _, a := range audit {
		if _, err := b.Get(ctx, hc, string(a)); err != nil {
			t.Fatalf("backup has the audit event of %s but not its object", a)
		}
		if _, err := b.Get(ctx, BucketIdempotency, string(a)); err != nil {
			t.Fatalf("backup has the audit event of %s but not its idempotency record", a)
		}
	}
	// The copy is independent of the original.
	if _, err := b.Commit(ctx, Batch{Puts: []KV{put(hc, "only-in-backup", "x")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, hc, "only-in-backup"); err == nil {
		t.Fatal("writing the backup changed the original")
	}
}
