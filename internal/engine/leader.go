package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// ErrNoContact is returned by Mutate while this node is cut off from the
// store's majority: it fails static and takes no writes.
var ErrNoContact = errors.New("this node lost contact with the etcd majority; retry on another node")

// catchUpTimeout bounds how long a new leader waits for the feed to reach
// the store's current revision before it decides; on timeout it tries
// again (takeoverRetry later) rather than decide from a stale view.
const (
	catchUpTimeout = 2 * time.Second
	takeoverRetry  = 500 * time.Millisecond
)

// followCluster brings the engine in line with the cluster after a change
// of leadership, contact, membership or session. It runs in the loop.
func (e *Engine) followCluster(ctx context.Context) {
	if ep := e.node.Epoch(); ep != e.epoch {
		// A new session: this node's ephemeral observations vanished with
		// the old lease. Write them again, or the leader would count this
		// site as abstaining until its next transition.
		e.epoch = ep
		e.writeOwnObservations()
	}
	fence, ok := e.node.Leading()
	e.mu.Lock()
	leading, cur := e.leading, e.term
	if leading && (!ok || cur.fence != fence) {
		e.stepDownLocked()
		leading = false
	}
	if leading {
		// Membership may have changed: a site that left no longer votes,
		// one that came back votes again.
		if e.reaggregateAllLocked() {
			e.publishLocked()
		}
	}
	e.mu.Unlock()
	if !leading && ok {
		e.takeover(ctx, fence)
	}
}

// takeover makes this node decide. A new leader first catches up: the
// previous leader's last writes happened before it lost its election key,
// so before this node won, and are in the store at or below the current
// revision; once the feed has applied that revision, this node holds every
// check state, decision and evaluator memory the previous leader wrote.
func (e *Engine) takeover(ctx context.Context, fence *store.Condition) {
	lctx, cancel := context.WithTimeout(ctx, catchUpTimeout)
	defer cancel()
	target, kvs, err := e.st.Load(lctx, store.BucketState)
	if err == nil {
		err = e.waitApplied(lctx, target)
	}
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warn("elected, but not caught up with the store yet; trying again", "err", err)
			time.AfterFunc(takeoverRetry, func() {
				select {
				case e.recheck <- struct{}{}:
				default:
				}
			})
		}
		return
	}
	if f, ok := e.node.Leading(); !ok || f != fence {
		return // lost it while catching up
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lead(fence, "new leader")
	e.collectGarbageLocked(kvs[store.BucketState])
}

// lead starts a term: from now on this node aggregates, evaluates and
// writes under fence. It carries on from the state it holds: every check
// is re-aggregated from the current votes and every policy evaluated with
// its stored evaluator memory, so the same inputs give the same decision
// and a handover never flips or resets a decision by itself.
func (e *Engine) lead(fence *store.Condition, why string) {
	e.leading = true
	e.term = &term{fence: fence}
	// A new term writes every outbox entry once more: the outbox may hold
	// a predecessor's older ones.
	e.outboxSent = map[string][]byte{}
	e.persist.setTerm(e.term)
	e.log.Info("deciding: this node leads", "site", e.opts.Site)
	// Before evaluating: what this term decides is written (with its
	// events) by the evaluation itself.
	e.storeHeldRecordsLocked()
	now := e.now()
	e.reaggregateAllLocked()
	for _, name := range api.SortedKeys(e.policies) {
		e.evaluateLocked(name, now, now, why)
	}
	e.publishLocked()
}

// storeHeldRecordsLocked writes every check state and decision this node
// holds that the store does not, with the events of the changes: decided
// in an earlier term of this node whose writes were dropped when it ended
// (cut off for a moment, then elected again). Evaluating again finds no
// change in them, so nothing else would write them, and the followers
// would serve the older record for as long as this node leads.
func (e *Engine) storeHeldRecordsLocked() {
	const why = "stored when this node led again"
	for _, name := range api.SortedKeys(e.checks) {
		cs, ok := e.checkStates[name]
		stored := e.leaderRecords[keyCheckPrefix+name]
		v := mustJSON(cs)
		if !ok || bytes.Equal(v, stored) {
			continue
		}
		e.persist.put(store.BucketState, keyCheckPrefix+name, v)
		var prev checkState
		if json.Unmarshal(stored, &prev) != nil || prev.State != cs.State {
			e.emitLocked(healthEvent(name, cs, prev.State, why, e.now()))
		}
	}
	for _, name := range api.SortedKeys(e.policies) {
		rt := e.runtime[name]
		stored := e.leaderRecords[keyPolicyPrefix+name]
		if rt == nil {
			continue
		}
		v := mustJSON(rt)
		if bytes.Equal(v, stored) {
			continue
		}
		e.persist.put(store.BucketState, keyPolicyPrefix+name, v)
		var prev policyRuntime
		if json.Unmarshal(stored, &prev) != nil || prev.Decision.Generation < rt.Decision.Generation {
			e.emitLocked(decisionEvent(prev.Decision, rt.Decision, why))
		}
	}
}

// reaggregateAllLocked re-aggregates every check. A vote count that gives
// "unknown" (no site decides: this node was just restarted, or the votes
// are not in yet) keeps the known state: no information is no change.
func (e *Engine) reaggregateAllLocked() bool {
	now := e.now()
	changed := false
	for _, name := range api.SortedKeys(e.checks) {
		c := e.checks[name]
		if !api.Bool(c.Enabled, true) {
			continue
		}
		if e.refreshProberLocked(name, now) {
			changed = true
			continue
		}
		if e.aggregateLocked(c, now) == api.StateUnknown {
			continue
		}
		if e.reaggregateLocked(name, now, false, "") {
			changed = true
		}
	}
	return changed
}

// stepDownLocked ends the term: pending leader writes are dropped, and the
// Snapshot stays as it is (fail static) until the next leader's decisions
// arrive through the feed. Records the feed brought while this node still
// believed it led (another node's, once this one was deposed) were not
// applied then: they are now, where they are at least as new as what this
// node holds — a decision of its own still on its way to the store (or
// lost with its term) is not undone by an older one.
func (e *Engine) stepDownLocked() {
	e.leading, e.term = false, nil
	e.persist.setTerm(nil)
	e.log.Warn("not deciding: this node no longer leads", "site", e.opts.Site, "in_contact", e.node.InContact())
	now := e.now()
	changed := false
	for _, k := range api.SortedKeys(e.leaderRecords) {
		v := e.leaderRecords[k]
		if e.heldIsNewerLocked(k, v) {
			continue
		}
		if e.applyStateLocked(store.Change{Bucket: store.BucketState, Key: k, Value: v}, now) {
			changed = true
		}
	}
	if changed {
		e.publishLocked()
	}
}

// heldIsNewerLocked reports whether this node holds a newer value of the
// leader record k than stored: a higher decision generation, a later
// observed check state.
func (e *Engine) heldIsNewerLocked(k string, stored []byte) bool {
	switch {
	case strings.HasPrefix(k, keyPolicyPrefix):
		var rt policyRuntime
		held := e.runtime[strings.TrimPrefix(k, keyPolicyPrefix)]
		return held != nil && json.Unmarshal(stored, &rt) == nil && held.Decision.Generation > rt.Decision.Generation
	case strings.HasPrefix(k, keyCheckPrefix):
		var cs checkState
		held, ok := e.checkStates[strings.TrimPrefix(k, keyCheckPrefix)]
		return ok && json.Unmarshal(stored, &cs) == nil && held.ObservedAt.After(cs.ObservedAt)
	}
	return false
}

// confirmLeading steps down at once when the cluster no longer lets this
// node decide. It runs before the node acts on a timer, a probe or the
// feed: a node frozen for a while (SIGSTOP, a hung host) wakes up with its
// timers due and its term still set while another node may lead by now;
// the fence would refuse its writes, but it must not decide even in its
// own memory (its DNS would answer its own stale decision).
func (e *Engine) confirmLeading() {
	e.mu.RLock()
	t := e.term
	e.mu.RUnlock()
	if t == nil {
		return
	}
	if f, ok := e.node.Leading(); ok && f == t.fence {
		return
	}
	e.mu.Lock()
	if e.term == t {
		e.stepDownLocked()
	}
	e.mu.Unlock()
}

// collectGarbageLocked deletes the leader's state records of objects that
// no longer exist: a leader that lost its term between an object's delete
// and its own cleanup leaves them behind.
func (e *Engine) collectGarbageLocked(state []store.KV) {
	for _, kv := range state {
		var gone bool
		switch {
		case strings.HasPrefix(kv.Key, keyCheckPrefix):
			_, ok := e.checks[strings.TrimPrefix(kv.Key, keyCheckPrefix)]
			gone = !ok
		case strings.HasPrefix(kv.Key, keyHealthPrefix):
			check, _, _ := strings.Cut(strings.TrimPrefix(kv.Key, keyHealthPrefix), "/")
			_, ok := e.checks[check]
			gone = !ok
		case strings.HasPrefix(kv.Key, keyPolicyPrefix):
			_, ok := e.policies[strings.TrimPrefix(kv.Key, keyPolicyPrefix)]
			gone = !ok
		}
		if gone {
			e.persist.del(store.BucketState, kv.Key)
		}
	}
}

// writeOwnObservations writes this site's current observation of every
// check it probes, as ephemeral records of this node's session.
func (e *Engine) writeOwnObservations() {
	e.mu.RLock()
	defer e.mu.RUnlock()
	for name, c := range e.checks {
		if !api.Bool(c.Enabled, true) || !e.monitor.ProbesHere(c) {
			continue
		}
		if o, ok := e.monitor.Observation(name); ok {
			e.persist.putOwn(store.BucketState, healthKey(name, e.opts.Site), mustJSON(o), true)
		}
	}
}

// Readiness reports whether this node serves as it should, and if not why:
// starting, or cut off from the store's majority (then it fails static:
// DNS and /burst answer the last decisions, writes are refused).
func (e *Engine) Readiness() (ready bool, reason string) {
	if !e.Ready() {
		return false, "starting"
	}
	if st := e.node.Status(); !st.Store.InContact {
		return false, fmt.Sprintf("lost contact with the etcd majority at %s (%s); serving the last decisions, refusing writes",
			st.Store.Since.UTC().Format(time.RFC3339), st.Store.Reason)
	}
	return true, ""
}

// Revision is the store revision this node has applied.
func (e *Engine) Revision() uint64 {
	_, rev := e.revs.wait()
	return rev
}

// waitApplied waits until the feed has applied rev.
func (e *Engine) waitApplied(ctx context.Context, rev uint64) error {
	for {
		ch, applied := e.revs.wait()
		if applied >= rev {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("store revision %d not applied yet (at %d): %w", rev, applied, ctx.Err())
		}
	}
}
