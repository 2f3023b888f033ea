package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/burst"
	"github.com/hatopo/terraform-provider-failover/internal/store"
	"github.com/hatopo/terraform-provider-failover/internal/topology"
)

// Change is one mutation, committed atomically — object, override, audit
// event and the idempotency record land together or not at all.
type Change struct {
	Kind api.Kind
	Name string
	// Object is the new value, version already set; nil deletes Kind/Name.
	Object api.Object
	// Override, when set, sets or clears a policy's operator override.
	Override *OverrideChange
	Audit    api.Event
	// Extra records written in the same batch (the idempotency record).
	Extra []store.KV
}

// OverrideChange sets (Set non-nil) or clears a policy's override.
type OverrideChange struct {
	Policy string
	Set    *api.Override
}

// Mutate runs fn while holding the write lock, so fn's validation and
// referential checks see exactly the world the commit will change; then
// commits its Change durably and applies it. fn returning (nil, nil) means
// nothing to write (e.g. an idempotent replay).
func (e *Engine) Mutate(ctx context.Context, fn func() (*Change, error)) error {
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	ch, err := fn()
	if err != nil || ch == nil {
		return err
	}
	var b store.Batch
	var encoded []byte
	if ch.Kind != "" {
		e.mu.RLock()
		cur, exists := e.raw[ch.Kind][ch.Name]
		e.mu.RUnlock()
		// Compare-and-swap on the stored bytes: with a shared store a
		// concurrent writer elsewhere makes this commit fail, not vanish.
		b.Conditions = append(b.Conditions, store.Condition{Bucket: string(ch.Kind), Key: ch.Name, Value: cur, Absent: !exists})
		if ch.Object != nil {
			encoded, err = json.Marshal(StripComputed(ch.Object))
			if err != nil {
				return fmt.Errorf("encode %s/%s: %w", ch.Kind, ch.Name, err)
			}
			b.Puts = append(b.Puts, store.KV{Bucket: string(ch.Kind), Key: ch.Name, Value: encoded})
		} else {
			b.Deletes = append(b.Deletes, store.KV{Bucket: string(ch.Kind), Key: ch.Name})
		}
	}
	if ov := ch.Override; ov != nil {
		if ov.Set != nil {
			b.Puts = append(b.Puts, store.KV{Bucket: store.BucketState, Key: OverrideKey(ov.Policy), Value: mustJSON(ov.Set)})
		} else {
			b.Deletes = append(b.Deletes, store.KV{Bucket: store.BucketState, Key: OverrideKey(ov.Policy)})
		}
	}
	b.Puts = append(b.Puts, ch.Extra...)
	// The audit log keeps it beyond the event log's count-based pruning.
	b.Audit = append(b.Audit, encodeEvent(ch.Audit))
	seqs, err := e.st.Commit(ctx, b)
	if err != nil {
		return err
	}
	e.apply(ch, encoded)
	if len(seqs) > 0 {
		e.notify.advance(seqs[len(seqs)-1])
	}
	return nil
}

// StripComputed drops server-computed fields before storage: they are
// recomputed on every read so they can never go stale.
func StripComputed(o api.Object) api.Object {
	switch x := o.(type) {
	case api.TrafficPolicy:
		x.FQDN, x.WorstCaseFailoverSeconds, x.Warnings = "", 0, nil
		return x
	case api.ReplicaSet:
		x.Analysis = nil
		return x
	case api.BurstToggle:
		x.URL, x.Effective = "", nil
		return x
	}
	return o
}

// apply makes a committed change live.
func (e *Engine) apply(ch *Change, encoded []byte) {
	var monitorOp func()
	e.mu.Lock()
	now := e.now()
	if ch.Kind != "" {
		if ch.Object != nil {
			e.raw[ch.Kind][ch.Name] = encoded
			e.setObjectLocked(ch.Object)
		} else {
			delete(e.raw[ch.Kind], ch.Name)
			e.deleteObjectLocked(ch.Kind, ch.Name)
		}
		switch ch.Kind {
		case api.KindHealthCheck:
			name := ch.Name
			if c, ok := ch.Object.(api.HealthCheck); ok {
				monitorOp = func() { e.monitor.Upsert(c) }
				if _, known := e.checkStates[name]; !known {
					e.metrics.checkState(name, api.StateUnknown) // a series from the start, not the first transition
				}
				if !api.Bool(c.Enabled, true) {
					// A disabled check has no opinion: unknown, which counts
					// as up, so disabling a check never moves traffic away.
					if prev, ok := e.checkStates[name]; ok && prev.State != api.StateUnknown {
						e.setCheckStateLocked(name, checkState{State: api.StateUnknown, Since: now, ObservedAt: now}, prev.State, "")
					}
					for site := range e.obs[name] {
						e.persist.del(store.BucketState, healthKey(name, site))
					}
					delete(e.obs, name)
				}
				e.reactToCheckLocked(name, now, now)
			} else {
				monitorOp = func() { e.monitor.Remove(name) }
			}
		case api.KindTrafficPolicy:
			if ch.Object != nil {
				e.evaluateLocked(ch.Name, now, now, "policy updated")
			}
		case api.KindBurstToggle:
			if ch.Object != nil {
				e.refreshToggleLocked(ch.Name, now)
			}
		case api.KindReplicaSet:
			if ch.Object != nil {
				delete(e.rsStatus, ch.Name)
				e.refreshReplicaStatusLocked(ch.Name, now)
			}
		}
	}
	if ov := ch.Override; ov != nil {
		if ov.Set != nil {
			e.overrides[ov.Policy] = *ov.Set
			e.evaluateLocked(ov.Policy, now, now, "override set")
		} else {
			delete(e.overrides, ov.Policy)
			e.evaluateLocked(ov.Policy, now, now, "override cleared")
		}
	}
	e.publishLocked()
	e.mu.Unlock()
	// Outside e.mu: stopping a probe may wait for it, and a probe may be
	// handing a transition to the loop, which needs e.mu.
	if monitorOp != nil {
		monitorOp()
	}
	e.wakeLoop()
}

func (e *Engine) setObjectLocked(o api.Object) {
	switch x := o.(type) {
	case api.HealthCheck:
		e.checks[x.Name] = x
	case api.TrafficPolicy:
		e.policies[x.Name] = x
	case api.ReplicaSet:
		e.replicaSets[x.Name] = x
	case api.BurstToggle:
		e.toggles[x.Name] = x
	}
}

func (e *Engine) deleteObjectLocked(k api.Kind, name string) {
	e.metrics.forget(k, name)
	switch k {
	case api.KindHealthCheck:
		delete(e.checks, name)
		delete(e.checkStates, name)
		e.persist.del(store.BucketState, keyCheckPrefix+name)
		for site := range e.obs[name] {
			e.persist.del(store.BucketState, healthKey(name, site))
		}
		delete(e.obs, name)
	case api.KindTrafficPolicy:
		delete(e.policies, name)
		delete(e.runtime, name)
		delete(e.overrides, name)
		e.persist.del(store.BucketState, keyPolicyPrefix+name)
		e.persist.del(store.BucketState, OverrideKey(name))
	case api.KindReplicaSet:
		delete(e.replicaSets, name)
		delete(e.rsStatus, name)
	case api.KindBurstToggle:
		delete(e.toggles, name)
		delete(e.toggleOn, name)
		delete(e.toggleNext, name)
	}
}

// Get returns one object with its computed fields.
func (e *Engine) Get(k api.Kind, name string) (api.Object, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	o, ok := e.getLocked(k, name)
	if !ok {
		return nil, false
	}
	return e.decorateLocked(o), true
}

func (e *Engine) getLocked(k api.Kind, name string) (api.Object, bool) {
	var (
		o  api.Object
		ok bool
	)
	switch k {
	case api.KindHealthCheck:
		o, ok = e.checks[name]
	case api.KindTrafficPolicy:
		o, ok = e.policies[name]
	case api.KindReplicaSet:
		o, ok = e.replicaSets[name]
	case api.KindBurstToggle:
		o, ok = e.toggles[name]
	}
	return o, ok
}

// List returns every object of a kind, by name, with computed fields.
func (e *Engine) List(k api.Kind) []api.Object {
	e.mu.RLock()
	defer e.mu.RUnlock()
	names := make([]string, 0, len(e.raw[k]))
	for n := range e.raw[k] {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]api.Object, 0, len(names))
	for _, n := range names {
		if o, ok := e.getLocked(k, n); ok {
			out = append(out, e.decorateLocked(o))
		}
	}
	return out
}

// Decorate fills the computed fields of an object that may not be stored
// yet (the API answers a write with the object as it will read back).
func (e *Engine) Decorate(o api.Object) api.Object {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.decorateLocked(o)
}

func (e *Engine) decorateLocked(o api.Object) api.Object {
	switch x := o.(type) {
	case api.TrafficPolicy:
		x.FQDN = x.Name + "." + strings.TrimSuffix(e.opts.Zone, ".")
		x.WorstCaseFailoverSeconds = topology.WorstCaseFailoverSeconds(e.timingsLocked(x, nil),
			x.FailoverDelaySeconds, api.Int(x.TTLSeconds, api.DefaultTTLSeconds))
		x.Warnings = nil
		if x.ReplicaSet != "" {
			if rs, ok := e.replicaSets[x.ReplicaSet]; ok {
				if w := topology.AlignmentWarning(x.Name, PreferredSite(x), rs); w != "" {
					x.Warnings = append(x.Warnings, w)
				}
			}
		}
		return x
	case api.ReplicaSet:
		a := topology.Analyze(x)
		x.Analysis = &a
		return x
	case api.BurstToggle:
		engaged := api.Bool(x.Engaged, false)
		x.Engaged = &engaged
		on, _ := burst.Effective(x, engaged, e.now())
		x.Effective = &on
		x.URL = strings.TrimSuffix(e.opts.BaseURL, "/") + "/burst/" + x.Name
		return x
	}
	return o
}

// PreferredSite is the site of a policy's most preferred non-burst target
// (priority 1 first, ties by target name) — where traffic goes when
// everything is up.
func PreferredSite(p api.TrafficPolicy) string {
	best, bestPrio := "", 0
	for _, n := range api.SortedKeys(p.Targets) {
		t := p.Targets[n]
		if t.BurstOnly || !api.Bool(t.Enabled, true) {
			continue
		}
		if best == "" || (t.Priority > 0 && (bestPrio == 0 || t.Priority < bestPrio)) {
			best, bestPrio = t.Site, t.Priority
		}
	}
	return best
}

// Timings returns the detection timing of every health check a policy
// references, with replace standing in for the stored check of the same
// name (to judge an update before it is written).
func (e *Engine) Timings(p api.TrafficPolicy, replace *api.HealthCheck) []topology.CheckTiming {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.timingsLocked(p, replace)
}

func (e *Engine) timingsLocked(p api.TrafficPolicy, replace *api.HealthCheck) []topology.CheckTiming {
	var out []topology.CheckTiming
	seen := map[string]bool{}
	for _, tn := range api.SortedKeys(p.Targets) {
		for _, cn := range p.Targets[tn].HealthChecks {
			if seen[cn] {
				continue
			}
			seen[cn] = true
			c, ok := e.checks[cn]
			if replace != nil && replace.Name == cn {
				c, ok = *replace, true
			}
			if ok {
				out = append(out, topology.CheckTiming{IntervalSeconds: c.IntervalSeconds, TimeoutSeconds: c.TimeoutSeconds, Fall: c.Fall})
			}
		}
	}
	return out
}

// Referrers lists the objects ("<kind>/<name>") that reference k/name, so
// a delete can be refused with their names.
func (e *Engine) Referrers(k api.Kind, name string) []string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var out []string
	switch k {
	case api.KindHealthCheck:
		for _, pn := range api.SortedKeys(e.policies) {
			if policyUsesCheck(e.policies[pn], name) {
				out = append(out, objectRef(api.KindTrafficPolicy, pn))
			}
		}
		for _, rn := range api.SortedKeys(e.replicaSets) {
			for _, mn := range api.SortedKeys(e.replicaSets[rn].Members) {
				if e.replicaSets[rn].Members[mn].HealthCheck == name {
					out = append(out, objectRef(api.KindReplicaSet, rn))
					break
				}
			}
		}
	case api.KindBurstToggle:
		for _, pn := range api.SortedKeys(e.policies) {
			if e.policies[pn].BurstToggle == name {
				out = append(out, objectRef(api.KindTrafficPolicy, pn))
			}
		}
	case api.KindReplicaSet:
		for _, pn := range api.SortedKeys(e.policies) {
			if e.policies[pn].ReplicaSet == name {
				out = append(out, objectRef(api.KindTrafficPolicy, pn))
			}
		}
	}
	return out
}

// PoliciesUsing returns the policies that reference a health check.
func (e *Engine) PoliciesUsing(check string) []api.TrafficPolicy {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var out []api.TrafficPolicy
	for _, pn := range api.SortedKeys(e.policies) {
		if policyUsesCheck(e.policies[pn], check) {
			out = append(out, e.policies[pn])
		}
	}
	return out
}
