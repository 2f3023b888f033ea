package store

import (
	"context"
	"sync"
)

// DefaultWatchBacklog is how many recent commits the bolt store keeps for
// watchers (BoltOptions.WatchBacklog): a watcher may start from, or fall
// behind by, that many commits before it gets ErrCompacted.
const DefaultWatchBacklog = 1024

// feed is the bolt store's change feed: an in-memory broadcast of
// committed revisions with a bounded backlog of the most recent ones.
// Commit publishes after the fsync and never waits for a watcher: each
// watcher copies what it has not seen under the lock and delivers it at
// its own pace, and one that falls out of the backlog gets ErrCompacted.
type feed struct {
	mu sync.Mutex
	// backlog holds the revisions last-len(backlog)+1 … last, one entry
	// per commit (empty ones included, so the span is known), oldest first.
	backlog []WatchEvent
	last    uint64
	max     int
	// changed is closed and replaced by every publish, waking watchers.
	changed chan struct{}
	closed  bool
	done    chan struct{} // closed by close
}

func newFeed(rev uint64, max int) *feed {
	return &feed{last: rev, max: max, changed: make(chan struct{}), done: make(chan struct{})}
}

// publish appends the next revision. The caller serialises publishes in
// revision order (the bolt store holds its commit lock).
func (f *feed) publish(ev WatchEvent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	if len(f.backlog) >= f.max {
		f.backlog[0] = WatchEvent{} // release the oldest now
		f.backlog = f.backlog[1:]
	}
	f.backlog = append(f.backlog, ev)
	f.last = ev.Rev
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *feed) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	f.closed = true
	f.backlog = nil
	close(f.done)
	close(f.changed)
}

// watch streams the revisions after afterRev (see Store.Watch).
func (f *feed) watch(ctx context.Context, afterRev uint64) <-chan WatchEvent {
	ch := make(chan WatchEvent, 16)
	go func() {
		defer close(ch)
		next := afterRev + 1
		for {
			batch, upTo, wait, err := f.since(next)
			if err != nil {
				select {
				case ch <- WatchEvent{Err: err}:
				case <-ctx.Done():
				}
				return
			}
			next = upTo + 1
		deliver:
			for _, ev := range batch {
				select {
				case ch <- ev:
				case <-ctx.Done():
					return
				case <-f.done:
					break deliver // the next round reports ErrClosed
				}
			}
			if wait != nil {
				select {
				case <-wait:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return ch
}

// since returns the non-empty revisions from next up to the last one
// published (upTo), and a channel closed at the next publish when there is
// nothing to deliver yet.
func (f *feed) since(next uint64) (batch []WatchEvent, upTo uint64, wait <-chan struct{}, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, 0, nil, ErrClosed
	}
	first := f.last + 1 - uint64(len(f.backlog))
	if next < first {
		return nil, 0, nil, ErrCompacted
	}
	if next > f.last {
		return nil, next - 1, f.changed, nil
	}
	for _, ev := range f.backlog[next-first:] {
		if len(ev.Changes) > 0 {
			batch = append(batch, ev)
		}
	}
	if len(batch) == 0 {
		// Only empty commits: nothing to deliver; wait past them.
		return nil, f.last, f.changed, nil
	}
	return batch, f.last, nil, nil
}
