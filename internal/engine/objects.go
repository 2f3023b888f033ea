package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/burst"
	"github.com/hatopo/terraform-provider-failover/internal/publish"
	"github.com/hatopo/terraform-provider-failover/internal/store"
	"github.com/hatopo/terraform-provider-failover/internal/topology"
	"github.com/hatopo/terraform-provider-failover/internal/webhook"
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
	// Extra records written in the same batch (the idempotency record),
	// and Conditions the batch must also meet (that record is new).
	Extra      []store.KV
	Conditions []store.Condition
}

// OverrideChange sets (Set non-nil) or clears a policy's override.
type OverrideChange struct {
	Policy string
	Set    *api.Override
}

// Mutate runs fn while holding the write lock, so fn's validation and
// referential checks see exactly the world the commit will change; then
// commits its Change durably and waits until the feed has applied it, so
// this node reads its own writes when Mutate returns. fn returning
// (nil, nil) means nothing to write (e.g. an idempotent replay).
//
// A node cut off from the store's majority refuses at once (ErrNoContact):
// its view may be stale, and its commit could not be acknowledged anyway.
func (e *Engine) Mutate(ctx context.Context, fn func() (*Change, error)) error {
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	if !e.node.InContact() {
		return ErrNoContact
	}
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
			encoded, err = json.Marshal(api.StripComputed(ch.Object))
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
	b.Conditions = append(b.Conditions, ch.Conditions...)
	// The audit log keeps it beyond the event log's count-based pruning.
	b.Audit = append(b.Audit, encodeEvent(ch.Audit))
	res, err := e.st.Commit(ctx, b)
	if err != nil {
		return err
	}
	if len(res.Seqs) > 0 {
		e.notify.advance(res.Seqs[len(res.Seqs)-1])
	}
	// The write is durable: what is left is this node's view of it. A feed
	// that does not get there in time (the store lost contact just now)
	// catches up by itself; the write stands either way.
	wctx, cancel := context.WithTimeout(context.Background(), applyTimeout)
	defer cancel()
	if err := e.waitApplied(wctx, res.Rev); err != nil {
		e.log.Warn("write committed but not applied on this node yet", "kind", ch.Kind, "name", ch.Name, "err", err)
	}
	return nil
}

// applyTimeout bounds how long Mutate waits for the feed to apply its own
// commit.
const applyTimeout = 5 * time.Second

func (e *Engine) setObjectLocked(o api.Object) {
	if p, ok := o.(api.TrafficPolicy); ok {
		if old, ok := e.policies[p.Name]; ok {
			e.checkUsers.remove(old)
		}
		e.checkUsers.add(p)
	}
	if c, ok := o.(api.HealthCheck); ok {
		if old, ok := e.checks[c.Name]; ok {
			e.calcParents.removeRefs(c.Name, old.ChildChecks)
		}
		e.calcParents.addRefs(c.Name, c.ChildChecks)
	}
	e.objects[o.ObjectKind()].set(o)
}

func (e *Engine) deleteObjectLocked(k api.Kind, name string) {
	e.metrics.forget(k, name)
	if p, ok := e.policies[name]; ok && k == api.KindTrafficPolicy {
		e.checkUsers.remove(p)
	}
	if c, ok := e.checks[name]; ok && k == api.KindHealthCheck {
		e.calcParents.removeRefs(name, c.ChildChecks)
	}
	e.objects[k].del(name)
	switch k {
	case api.KindHealthCheck:
		// Each node deletes its own observation; the leader deletes the
		// check's state and every site's observation, which also covers
		// the sites whose node is gone.
		delete(e.checkStates, name)
		delete(e.noProber, name)
		e.persist.del(store.BucketState, keyCheckPrefix+name)
		if _, ok := e.obs[name][e.opts.Site]; ok {
			e.persist.delOwn(store.BucketState, healthKey(name, e.opts.Site))
		}
		for site := range e.obs[name] {
			e.persist.del(store.BucketState, healthKey(name, site))
		}
		delete(e.obs, name)
	case api.KindTrafficPolicy:
		e.touchPolicyLocked(name)
		delete(e.runtime, name)
		delete(e.overrides, name)
		delete(e.misaligned, name)
		e.persist.del(store.BucketState, keyPolicyPrefix+name)
		e.persist.del(store.BucketState, OverrideKey(name))
		e.forgetOutboxLocked(name)
	case api.KindReplicaSet:
		delete(e.rsStatus, name)
	case api.KindBurstToggle:
		e.touchToggleLocked(name)
		delete(e.toggleOn, name)
		delete(e.toggleNext, name)
	case api.KindWebhook:
		// Its delivery cursor goes with it: a webhook created again under
		// the same name starts from the events after its creation.
		e.persist.del(publish.BucketOutbox, webhook.CursorKey(name))
	}
}

// Webhooks returns the declared webhooks.
func (e *Engine) Webhooks() []api.Webhook {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]api.Webhook, 0, len(e.webhooks))
	for _, w := range e.webhooks {
		out = append(out, w)
	}
	return out
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
	if c := e.objects[k]; c != nil {
		return c.get(name)
	}
	return nil, false
}

// collection holds the declared objects of one kind. The engine reads its
// typed maps (e.checks, e.policies, …) directly; generic code (get, set,
// delete by kind) goes through e.objects, which holds the same maps.
type collection interface {
	get(name string) (api.Object, bool)
	set(o api.Object)
	del(name string)
}

// objects is the collection of one kind's objects, by name.
type objects[T api.Object] map[string]T

func (m objects[T]) get(name string) (api.Object, bool) {
	o, ok := m[name]
	if !ok {
		return nil, false
	}
	return o, true
}

func (m objects[T]) set(o api.Object) { m[o.ObjectName()] = o.(T) }
func (m objects[T]) del(name string)  { delete(m, name) }

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
	case api.HealthCheck:
		x.Warnings = nil
		if missing, live := e.probersLocked(x); len(missing) > 0 {
			what := "its other probe_sites vote without them"
			if !live {
				what = "no site probes it, so its state stays unknown (which counts as up) and it can never move traffic"
			}
			x.Warnings = append(x.Warnings, fmt.Sprintf("no failoverd runs in probe site(s) %s right now (this node runs in %q): %s; start failoverd --site there, or list sites that run one in probe_sites",
				strings.Join(missing, ", "), e.opts.Site, what))
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
		for _, cn := range p.Targets[tn].AllHealthChecks() {
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
		for _, pn := range e.checkUsers.of(name) {
			out = append(out, objectRef(api.KindTrafficPolicy, pn))
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
	for _, pn := range e.checkUsers.of(check) {
		out = append(out, e.policies[pn])
	}
	return out
}
