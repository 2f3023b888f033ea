package engine

import (
	"bytes"
	"encoding/json"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/publish"
)

// destinations are every destination an outbox key can name.
var destinations = []string{api.DestinationRFC2136, api.DestinationRoute53}

// outboxWritesLocked returns the outbox writes that mirror policy name's
// decision d into its publish destinations: an entry per destination
// whose content changed since this leader last wrote it, and deletes for
// destinations the policy no longer publishes to (the record there is
// then left as it is: failoverd stops managing it). The caller commits
// them with the decision (persister.putAll), so a decision is never
// stored without its publication, nor the reverse.
func (e *Engine) outboxWritesLocked(name string, p api.TrafficPolicy, d api.Decision) []write {
	var ws []write
	want := map[string]bool{}
	for _, en := range publish.Entries(p, d) {
		k := publish.EntryKey(name, en.Destination)
		want[k] = true
		b, err := json.Marshal(en)
		if err != nil {
			panic(err) // plain data
		}
		if bytes.Equal(e.outboxSent[k], b) {
			continue
		}
		e.outboxSent[k] = b
		ws = append(ws, write{publish.BucketOutbox, k, b})
	}
	for _, dest := range destinations {
		k := publish.EntryKey(name, dest)
		if _, sent := e.outboxSent[k]; sent && !want[k] {
			delete(e.outboxSent, k)
			ws = append(ws, write{publish.BucketOutbox, k, nil}, write{publish.BucketOutbox, publish.StatusKey(name, dest), nil})
		}
	}
	return ws
}

// forgetOutboxLocked deletes a deleted policy's outbox entries and their
// status. Its published records are left as they are.
func (e *Engine) forgetOutboxLocked(name string) {
	var ws []write
	for _, dest := range destinations {
		k := publish.EntryKey(name, dest)
		delete(e.outboxSent, k)
		ws = append(ws, write{publish.BucketOutbox, k, nil}, write{publish.BucketOutbox, publish.StatusKey(name, dest), nil})
	}
	e.persist.putAll(ws)
}

// Leading reports whether this node decides (and so publishes).
func (e *Engine) Leading() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.leading
}

// WriteOutbox queues a leader write of an outbox record (value nil:
// delete). It is dropped unless this node leads, and committed under the
// leadership's fence, so a deposed leader's publisher cannot overwrite its
// successor's status.
func (e *Engine) WriteOutbox(key string, value []byte) {
	e.persist.put(publish.BucketOutbox, key, value)
}

// OnCommit sets f to be called after each commit of leader writes: the
// publisher drains the outbox then.
func (e *Engine) OnCommit(f func()) { e.onCommit.Store(&f) }
