package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/health"
	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// feedRetry spaces the attempts to watch again after the feed broke (the
// store lost contact with its cluster).
const feedRetry = 500 * time.Millisecond

// follow applies the store's change feed from rev on, whoever wrote the
// change — this node's API, another node, the store itself (an expired
// session's records) — until ctx ends. A broken feed resumes after the
// last revision applied; a feed that cannot resume (compacted) is replaced
// by a fresh load, applied as the difference with what is held.
func (e *Engine) follow(ctx context.Context, rev uint64) {
	defer close(e.feedDone)
	e.revs.advance(rev)
	for ctx.Err() == nil {
		var broken error
		for ev := range e.st.Watch(ctx, rev) {
			if ev.Err != nil {
				broken = ev.Err
				break
			}
			e.applyEvent(ev)
			rev = ev.Rev
		}
		switch {
		case ctx.Err() != nil || errors.Is(broken, store.ErrClosed):
			return
		case errors.Is(broken, store.ErrCompacted):
			e.log.Warn("store feed compacted: reloading", "after_revision", rev)
			if r, err := e.reload(ctx); err == nil {
				rev = r
				continue
			} else if ctx.Err() == nil {
				e.log.Warn("reload failed; retrying", "err", err)
			}
		case broken != nil:
			e.log.Warn("store feed broken; resuming", "after_revision", rev, "err", broken)
		}
		select {
		case <-ctx.Done():
		case <-time.After(feedRetry):
		}
	}
}

// applyEvent makes one revision of the store live.
func (e *Engine) applyEvent(ev store.WatchEvent) {
	e.confirmLeading()
	var monitorOps []func()
	var lastSeq uint64
	e.mu.Lock()
	now := e.now()
	changed := false
	for _, ch := range ev.Changes {
		switch {
		case ch.Bucket == store.BucketState:
			if e.applyStateLocked(ch, now) {
				changed = true
			}
		case ch.Bucket == store.BucketEvents:
			if seq, err := store.ParseSeqKey(ch.Key); err == nil && seq > lastSeq {
				lastSeq = seq
			}
		default:
			if k, ok := api.KindOf(ch.Bucket); ok {
				if op, did := e.applyObjectLocked(k, ch, now); did {
					changed = true
					if op != nil {
						monitorOps = append(monitorOps, op)
					}
				}
			}
		}
	}
	if changed {
		e.publishLocked()
	}
	e.mu.Unlock()
	// Outside e.mu: stopping a probe may wait for it, and a probe may be
	// handing a transition to the loop, which needs e.mu.
	for _, op := range monitorOps {
		op()
	}
	if changed {
		e.wakeLoop()
	}
	if lastSeq > 0 {
		e.notify.advance(lastSeq)
	}
	e.revs.advance(ev.Rev)
}

// applyObjectLocked applies a declared object's change. It returns what
// the monitor must do outside e.mu, and whether anything changed.
func (e *Engine) applyObjectLocked(k api.Kind, ch store.Change, now time.Time) (monitorOp func(), changed bool) {
	name := ch.Key
	cur, exists := e.raw[k][name]
	if ch.Deleted {
		if !exists {
			return nil, false
		}
		delete(e.raw[k], name)
		e.deleteObjectLocked(k, name)
		if k == api.KindHealthCheck {
			monitorOp = func() { e.monitor.Remove(name) }
		}
		return monitorOp, true
	}
	if exists && bytes.Equal(cur, ch.Value) {
		return nil, false
	}
	o, err := api.DecodeObject(k, ch.Value)
	if err != nil {
		// Written by a node that validated it: a newer failoverd's format,
		// or damage. Keep what is held rather than drop the object.
		e.log.Error("ignoring an unreadable object from the store", "kind", k, "name", name, "err", err)
		return nil, false
	}
	e.raw[k][name] = ch.Value
	e.setObjectLocked(o)
	switch x := o.(type) {
	case api.HealthCheck:
		monitorOp = func() { e.monitor.Upsert(x) }
		if _, known := e.checkStates[name]; !known {
			e.metrics.checkState(name, api.StateUnknown) // a series from the start, not the first transition
		}
		if !api.Bool(x.Enabled, true) || !e.monitor.ProbesHere(x) {
			// This site no longer observes it.
			if _, ok := e.obs[name][e.opts.Site]; ok {
				delete(e.obs[name], e.opts.Site)
				e.persist.delOwn(store.BucketState, healthKey(name, e.opts.Site))
			}
		}
		if !api.Bool(x.Enabled, true) {
			// A disabled check has no opinion: unknown, which counts as up,
			// so disabling a check never moves traffic away.
			if prev, ok := e.checkStates[name]; ok && prev.State != api.StateUnknown && e.leading {
				e.setCheckStateLocked(name, checkState{State: api.StateUnknown, Since: now, ObservedAt: now}, prev.State, "")
			}
			for site := range e.obs[name] {
				e.persist.del(store.BucketState, healthKey(name, site))
			}
			delete(e.obs, name)
		}
		if x.Type == api.CheckCalculated {
			// Computed at once from the children's states, not probed.
			e.reaggregateLocked(name, now, false, "")
		}
		e.refreshProberLocked(name, now)
		e.reactToCheckLocked(name, now, now)
	case api.TrafficPolicy:
		e.evaluateLocked(name, now, now, "policy updated")
	case api.BurstToggle:
		e.refreshToggleLocked(name, now)
	case api.ReplicaSet:
		delete(e.rsStatus, name)
		e.refreshReplicaStatusLocked(name, now)
	}
	return monitorOp, true
}

// applyStateLocked applies a runtime-state change: an override (any node
// writes them), another site's observation, or — on a follower — the
// leader's check states and decisions. What this node owns is skipped: its
// own observations (the monitor is their source) and, while it leads, the
// leader's records (its memory is their source; the feed only echoes them).
func (e *Engine) applyStateLocked(ch store.Change, now time.Time) bool {
	switch {
	case strings.HasPrefix(ch.Key, keyOverridePrefix):
		name := strings.TrimPrefix(ch.Key, keyOverridePrefix)
		if ch.Deleted {
			if _, ok := e.overrides[name]; !ok {
				return false
			}
			delete(e.overrides, name)
			e.evaluateLocked(name, now, now, "override cleared")
			return true
		}
		var ov api.Override
		if err := json.Unmarshal(ch.Value, &ov); err != nil {
			e.log.Warn("ignoring unreadable runtime state", "key", ch.Key, "err", err)
			return false
		}
		if cur, ok := e.overrides[name]; ok && cur == ov {
			return false
		}
		e.overrides[name] = ov
		e.evaluateLocked(name, now, now, "override set")
		return true

	case strings.HasPrefix(ch.Key, keyHealthPrefix):
		check, site, _ := strings.Cut(strings.TrimPrefix(ch.Key, keyHealthPrefix), "/")
		c, known := e.checks[check]
		if site == e.opts.Site {
			if ch.Deleted && known && api.Bool(c.Enabled, true) && e.monitor.ProbesHere(c) {
				// The record of a previous process of this site, gone with
				// its lease: this process's observation stands, write it.
				if o, ok := e.monitor.Observation(check); ok {
					e.persist.putOwn(store.BucketState, ch.Key, mustJSON(o), true)
				}
			}
			return false
		}
		if !known {
			return false
		}
		var o api.SiteObservation
		if ch.Deleted {
			if _, ok := e.obs[check][site]; !ok {
				return false
			}
			delete(e.obs[check], site)
		} else {
			if err := json.Unmarshal(ch.Value, &o); err != nil {
				e.log.Warn("ignoring unreadable runtime state", "key", ch.Key, "err", err)
				return false
			}
			e.obsFor(check)[site] = o
		}
		at := o.Since
		if at.IsZero() {
			at = now
		}
		return e.reaggregateLocked(check, at, health.LocalFailure(o), o.LastError)

	case strings.HasPrefix(ch.Key, keyCheckPrefix):
		e.noteLeaderRecordLocked(ch)
		if e.leading {
			return false
		}
		name := strings.TrimPrefix(ch.Key, keyCheckPrefix)
		if ch.Deleted {
			delete(e.checkStates, name)
			return false
		}
		var cs checkState
		if err := json.Unmarshal(ch.Value, &cs); err != nil {
			e.log.Warn("ignoring unreadable runtime state", "key", ch.Key, "err", err)
			return false
		}
		if _, ok := e.checks[name]; !ok || e.checkStates[name] == cs {
			return false
		}
		e.checkStates[name] = cs
		e.metrics.checkState(name, cs.State)
		e.reactToCheckLocked(name, cs.ObservedAt, now) // replica sets; policies are the leader's
		return true

	case strings.HasPrefix(ch.Key, keyPolicyPrefix):
		e.noteLeaderRecordLocked(ch)
		if e.leading {
			return false
		}
		name := strings.TrimPrefix(ch.Key, keyPolicyPrefix)
		if ch.Deleted {
			delete(e.runtime, name)
			e.touchPolicyLocked(name)
			return true
		}
		var rt policyRuntime
		if err := json.Unmarshal(ch.Value, &rt); err != nil {
			e.log.Warn("ignoring unreadable runtime state", "key", ch.Key, "err", err)
			return false
		}
		if _, ok := e.policies[name]; !ok {
			return false
		}
		if e.heldIsNewerLocked(ch.Key, ch.Value) {
			// An older decision than this node holds: the late echo of its
			// own earlier write, reaching it after it decided again and was
			// cut off before that decision could be stored. Going back
			// would flip its answers, and, were it to lead again, reset the
			// decision's clocks; the rule of stepDownLocked.
			return false
		}
		prev := e.runtime[name]
		e.runtime[name] = &rt
		e.touchPolicyLocked(name)
		moved := prev == nil || rt.Decision.Generation > prev.Decision.Generation
		e.metrics.decision(name, moved && prev != nil, 0, len(rt.Decision.Serving))
		e.checkAlignmentLocked(name, now)
		return true
	}
	return false
}

// noteLeaderRecordLocked keeps the store's value of a leader record.
func (e *Engine) noteLeaderRecordLocked(ch store.Change) {
	if ch.Deleted {
		delete(e.leaderRecords, ch.Key)
	} else {
		e.leaderRecords[ch.Key] = ch.Value
	}
}

// reload loads everything again (the feed could not resume) and applies
// the difference with what is held as one revision: every record that
// changed as a put, every record that is gone as a delete.
func (e *Engine) reload(ctx context.Context) (uint64, error) {
	rev, kvs, err := e.st.Load(ctx, loadBuckets()...)
	if err != nil {
		return 0, err
	}
	ev := store.WatchEvent{Rev: rev}
	e.mu.RLock()
	for _, k := range api.Kinds {
		seen := map[string]bool{}
		for _, kv := range kvs[string(k)] {
			seen[kv.Key] = true
			if !bytes.Equal(e.raw[k][kv.Key], kv.Value) {
				ev.Changes = append(ev.Changes, store.Change{Bucket: string(k), Key: kv.Key, Value: kv.Value})
			}
		}
		for name := range e.raw[k] {
			if !seen[name] {
				ev.Changes = append(ev.Changes, store.Change{Bucket: string(k), Key: name, Deleted: true})
			}
		}
	}
	seen := map[string]bool{}
	for _, kv := range kvs[store.BucketState] {
		seen[kv.Key] = true
		ev.Changes = append(ev.Changes, store.Change{Bucket: store.BucketState, Key: kv.Key, Value: kv.Value})
	}
	var held []string
	for name := range e.overrides {
		held = append(held, OverrideKey(name))
	}
	for check, sites := range e.obs {
		for site := range sites {
			held = append(held, healthKey(check, site))
		}
	}
	for name := range e.checkStates {
		held = append(held, keyCheckPrefix+name)
	}
	for name := range e.runtime {
		held = append(held, keyPolicyPrefix+name)
	}
	e.mu.RUnlock()
	for _, k := range held {
		if !seen[k] {
			ev.Changes = append(ev.Changes, store.Change{Bucket: store.BucketState, Key: k, Deleted: true})
		}
	}
	e.applyEvent(ev)
	return rev, nil
}
