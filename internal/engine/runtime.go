package engine

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/policy"
)

// Decision returns what a policy serves now.
func (e *Engine) Decision(name string) (api.Decision, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if _, ok := e.policies[name]; !ok {
		return api.Decision{}, false
	}
	rt := e.runtime[name]
	if rt == nil {
		return api.Decision{Policy: name, Serving: []api.ServingTarget{}}, true
	}
	return rt.Decision, true
}

// PreviewOverride returns the decision a policy would make with ov as its
// override (nil: without one), without changing anything. Called under
// Mutate, it is the decision the override will produce.
func (e *Engine) PreviewOverride(name string, ov *api.Override) (api.Decision, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	p, ok := e.policies[name]
	if !ok {
		return api.Decision{}, fmt.Errorf("no traffic policy %q", name)
	}
	rt := e.runtime[name]
	var prev policy.State
	var d api.Decision
	if rt != nil {
		prev, d = rt.State, rt.Decision
	}
	now := e.now()
	in := policy.Input{Policy: p, Health: e.targetHealthLocked(p), Now: now, Override: ov}
	if p.BurstToggle != "" {
		in.BurstEngaged = e.toggleOn[p.BurstToggle]
	}
	res := policy.Evaluate(in, prev)
	if res.Serving == nil {
		res.Serving = []api.ServingTarget{}
	}
	if !servingEqual(d.Serving, res.Serving) || !overrideEqual(d.Override, ov) {
		d.Generation++
		d.Since = now
		d.ObservedAt = now
	}
	d.Policy, d.Serving, d.Reason, d.Override = name, res.Serving, res.Reason, ov
	d.TTLSeconds = api.Int(p.TTLSeconds, api.DefaultTTLSeconds)
	return d, nil
}

// TargetHealth is the health of one target of a policy right now, by
// the rules the evaluator applies.
func (e *Engine) TargetHealth(policyName, target string) (policy.TargetHealth, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	p, ok := e.policies[policyName]
	if !ok {
		return policy.TargetHealth{}, false
	}
	t, ok := p.Targets[target]
	if !ok {
		return policy.TargetHealth{}, false
	}
	return e.targetHealthLocked(api.TrafficPolicy{Targets: map[string]api.PolicyTarget{target: t}})[target], true
}

// Override returns a policy's active override.
func (e *Engine) Override(name string) (api.Override, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	ov, ok := e.overrides[name]
	return ov, ok && e.now().Before(ov.ExpiresAt)
}

// HealthStatus returns a check's overall state and per-site observations;
// this site's observation is live (last probe), others as last reported.
func (e *Engine) HealthStatus(name string) (api.HealthStatus, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.healthStatusLocked(name)
}

func (e *Engine) healthStatusLocked(name string) (api.HealthStatus, bool) {
	if _, ok := e.checks[name]; !ok {
		return api.HealthStatus{}, false
	}
	cs := e.checkStates[name]
	st := api.HealthStatus{Check: name, State: cs.State, Since: cs.Since, Sites: map[string]api.SiteObservation{}}
	if st.State == "" {
		st.State = api.StateUnknown
	}
	for site, o := range e.obs[name] {
		st.Sites[site] = o
	}
	if o, ok := e.monitor.Observation(name); ok {
		st.Sites[e.opts.Site] = o
	}
	st.Reason = e.noProber[name]
	return st, true
}

// ReplicaSetStatus returns the live status of a replica set.
func (e *Engine) ReplicaSetStatus(name string) (api.ReplicaSetStatus, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	st, ok := e.rsStatus[name]
	return st, ok
}

// Status is the operator's one-screen view.
func (e *Engine) Status(version string) api.Status {
	e.mu.RLock()
	defer e.mu.RUnlock()
	s := api.Status{Site: e.opts.Site, Version: version, Started: e.started,
		Checks: []api.HealthStatus{}, Decisions: []api.Decision{}, Toggles: []api.BurstToggle{}}
	for _, n := range api.SortedKeys(e.checks) {
		if hs, ok := e.healthStatusLocked(n); ok {
			s.Checks = append(s.Checks, hs)
		}
	}
	for _, n := range api.SortedKeys(e.policies) {
		if rt := e.runtime[n]; rt != nil {
			s.Decisions = append(s.Decisions, rt.Decision)
		}
	}
	for _, n := range api.SortedKeys(e.toggles) {
		s.Toggles = append(s.Toggles, e.decorateLocked(e.toggles[n]).(api.BurstToggle))
	}
	cs := e.ClusterStatus()
	s.Cluster = &cs
	return s
}

// ClusterStatus is this node's place in the control plane and the store
// revision it has applied.
func (e *Engine) ClusterStatus() api.ClusterStatus {
	cs := e.node.Status()
	cs.Revision = e.Revision()
	return cs
}

// Events returns up to limit events with seq > after.
func (e *Engine) Events(ctx context.Context, after uint64, limit int) ([]api.Event, error) {
	raw, err := e.st.Events(ctx, after, limit)
	if err != nil {
		return nil, err
	}
	return decodeEvents(raw)
}

func decodeEvents(raw [][]byte) ([]api.Event, error) {
	out := make([]api.Event, 0, len(raw))
	for _, b := range raw {
		var ev api.Event
		if err := json.Unmarshal(b, &ev); err != nil {
			return nil, fmt.Errorf("decode event: %w", err)
		}
		out = append(out, ev)
	}
	return out, nil
}

// AuditEvents returns up to limit audit events with seq > after, from the
// audit log, which keeps them longer than the event log (see
// store.DefaultAuditRetention).
func (e *Engine) AuditEvents(ctx context.Context, after uint64, limit int) ([]api.Event, error) {
	raw, err := e.st.AuditEvents(ctx, after, limit)
	if err != nil {
		return nil, err
	}
	return decodeEvents(raw)
}

// WaitEvents returns a channel closed when newer events are durable, and
// the last durable sequence number now.
func (e *Engine) WaitEvents() (<-chan struct{}, uint64) { return e.notify.wait() }

// Emit appends an event to the log without changing anything else (audit
// records of refused requests). It does not wait for the disk; an audit
// event (api.EventAudit) is also kept in the audit log.
func (e *Engine) Emit(ev api.Event) {
	e.persist.event(encodeEvent(ev), ev.Type == api.EventAudit)
}
