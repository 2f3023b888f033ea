package engine

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// encodeEvent returns the store encoder of ev: the store assigns the
// sequence number inside its transaction, so stored bytes carry it.
func encodeEvent(ev api.Event) func(uint64) []byte {
	return func(seq uint64) []byte {
		ev.Seq = seq
		b, err := json.Marshal(ev)
		if err != nil {
			// api.Event holds only marshalable fields; Data is RawMessage
			// produced by json.Marshal.
			panic(err)
		}
		return b
	}
}

// notifier wakes event followers when new events are durable. Followers
// read the events themselves from the store by sequence number, so a slow
// follower never blocks the engine and never misses an event.
type notifier struct {
	mu   sync.Mutex
	last uint64
	ch   chan struct{}
}

func newNotifier() *notifier { return &notifier{ch: make(chan struct{})} }

func (n *notifier) advance(seq uint64) {
	n.mu.Lock()
	if seq > n.last {
		n.last = seq
		close(n.ch)
		n.ch = make(chan struct{})
	}
	n.mu.Unlock()
}

// wait returns a channel closed after the next advance, and the last
// durable sequence at the time of the call.
func (n *notifier) wait() (<-chan struct{}, uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ch, n.last
}

func ptrTime(t time.Time) *time.Time { return &t }

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
