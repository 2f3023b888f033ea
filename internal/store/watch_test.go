package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestBoltWatchNeverBlocksCommit: a watcher that stops reading never holds
// up a commit; once it has fallen out of the backlog it gets
// ErrCompacted, and its channel closes.
func TestBoltWatchNeverBlocksCommit(t *testing.T) {
	const backlog = 4
	s, _ := openTest(t, BoltOptions{WatchBacklog: backlog})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ch := s.Watch(ctx, 0)
	// Far more commits than the channel buffer plus the backlog: were
	// Commit to wait for the watcher, this would never finish.
	for i := 0; i < 100; i++ {
		commit(t, s, Batch{Puts: []KV{put(hc, "k", "v")}})
	}
	var n int
	for ev := range ch {
		if ev.Err != nil {
			if !errors.Is(ev.Err, ErrCompacted) {
				t.Fatalf("watch ended with %v, want ErrCompacted", ev.Err)
			}
			if n >= 100 {
				t.Fatalf("got all %d commits and then ErrCompacted", n)
			}
			if _, ok := <-ch; ok {
				t.Fatal("the channel stayed open after the error")
			}
			return
		}
		if ev.Rev != uint64(n+1) {
			t.Fatalf("rev %d after %d events: a revision was skipped", ev.Rev, n)
		}
		n++
	}
	t.Fatal("the channel closed without ErrCompacted")
}

// TestBoltRevisionSurvivesReopen: the revision is stored with the data and
// goes on from where it was; the watch backlog does not survive the
// process, so watching from before the open is ErrCompacted.
func TestBoltRevisionSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t, BoltOptions{})
	if rev, _, err := s.Load(ctx); err != nil || rev != 0 {
		t.Fatalf("new store at revision (%d, %v), want 0", rev, err)
	}
	for i := 1; i <= 3; i++ {
		res, err := s.Commit(ctx, Batch{Puts: []KV{put(hc, "k", "v")}})
		if err != nil || res.Rev != uint64(i) {
			t.Fatalf("commit %d = (%+v, %v), want revision %d", i, res, err, i)
		}
	}
	s = reopen(t, s, path, BoltOptions{})
	if rev, _, err := s.Load(ctx); err != nil || rev != 3 {
		t.Fatalf("reopened store at revision (%d, %v), want 3", rev, err)
	}
	if ev := <-s.Watch(ctx, 2); !errors.Is(ev.Err, ErrCompacted) {
		t.Fatalf("Watch from before the open = %+v, want ErrCompacted", ev)
	}
	ch := s.Watch(ctx, 3)
	res := commit(t, s, Batch{Deletes: []KV{{Bucket: hc, Key: "k"}}})
	if ev := <-ch; ev.Err != nil || ev.Rev != 4 || len(ev.Changes) != 1 || !ev.Changes[0].Deleted {
		t.Fatalf("watch after reopen = %+v, want the deletion at revision 4 (commit seqs %v)", ev, res)
	}
}

// TestBoltWatchReportsExpiry: a record with a TTL is reported deleted by
// the commit that prunes it.
func TestBoltWatchReportsExpiry(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	s, _ := openTest(t, BoltOptions{})
	s.now = clock.Now
	commit(t, s, Batch{Puts: []KV{ttlKV(BucketIdempotency, "r", "x")}})
	ch := s.Watch(ctx, 1)
	clock.Advance(2 * time.Hour)
	commit(t, s, Batch{Puts: []KV{put(hc, "a", "1")}})
	ev := <-ch
	if ev.Err != nil || len(ev.Changes) != 2 || ev.Changes[1].Key != "r" || !ev.Changes[1].Deleted || ev.Changes[1].Bucket != BucketIdempotency {
		t.Fatalf("watch event = %+v, want the put and then the expired record's deletion", ev)
	}
}
