package engine

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/burst"
	"github.com/hatopo/terraform-provider-failover/internal/policy"
	"github.com/hatopo/terraform-provider-failover/internal/store"
	"github.com/hatopo/terraform-provider-failover/internal/topology"
)

// targetHealthLocked derives each target's health from its checks'
// overall states, by policy.TargetHealthOf's rules.
func (e *Engine) targetHealthLocked(p api.TrafficPolicy) map[string]policy.TargetHealth {
	out := make(map[string]policy.TargetHealth, len(p.Targets))
	lookup := func(c string) (policy.CheckState, bool) {
		cs, ok := e.checkStates[c]
		return policy.CheckState{State: cs.State, Since: cs.Since, ObservedAt: cs.ObservedAt}, ok
	}
	for name, t := range p.Targets {
		out[name] = policy.TargetHealthOf(t, lookup)
	}
	return out
}

// failsStatic reports whether a check whose overall state would go from
// unhealthy to unknown keeps unhealthy instead, because the site transition
// that caused it was a local failure (local: a node could not probe,
// e.g. it ran out of file descriptors). Nothing was learnt about the
// endpoint, and unknown counts as up: letting it through would send traffic
// back to an endpoint last seen down whenever failoverd itself is in
// trouble — the mirror image of the false failover that local failures must
// never cause. So the node fails static, as a partitioned node does: the
// check stays unhealthy until a site observes the endpoint again (or it is
// disabled). From healthy, unknown changes nothing that serves traffic, so
// it goes through and says why.
func failsStatic(prev, next string, local bool) bool {
	return local && prev == api.StateUnhealthy && next == api.StateUnknown
}

// evaluateLocked runs the evaluator for one policy and, when what it
// serves changes, records a new decision: a generation, an event carrying
// the triggering observation's time, metrics and a log line. It reports
// whether the decision changed.
//
// Only the leader evaluates: on a follower it does nothing (the leader's
// decision arrives through the feed).
func (e *Engine) evaluateLocked(name string, observedAt, now time.Time, why string) bool {
	p, ok := e.policies[name]
	if !ok || !e.leading {
		return false
	}
	rt := e.runtime[name]
	if rt == nil {
		rt = &policyRuntime{}
		e.runtime[name] = rt
	}
	in := policy.Input{
		Policy: p,
		Health: e.targetHealthLocked(p),
		Now:    now,
	}
	if p.BurstToggle != "" {
		in.BurstEngaged = e.toggleOn[p.BurstToggle]
	}
	if ov, ok := e.overrides[name]; ok && now.Before(ov.ExpiresAt) {
		in.Override = &ov
	}
	res := policy.Evaluate(in, rt.State)
	if !res.ObservedAt.IsZero() {
		// A delay that elapsed on a timer still owes its decision to the
		// observation that started it.
		observedAt = res.ObservedAt
	}
	rt.State = res.State
	rt.nextWake = res.NextWake

	prev := rt.Decision
	ttl := api.Int(p.TTLSeconds, api.DefaultTTLSeconds)
	serving := res.Serving
	if serving == nil {
		serving = []api.ServingTarget{}
	}
	changed := prev.Generation == 0 || !servingEqual(prev.Serving, serving) || prev.TTLSeconds != ttl ||
		!overrideEqual(prev.Override, in.Override)
	defer e.checkAlignmentLocked(name, now)
	if !changed {
		ws := e.outboxWritesLocked(name, p, rt.Decision) // the publish block may have changed
		if prev.Reason != res.Reason {
			rt.Decision.Reason = res.Reason
			ws = append(ws, write{store.BucketState, keyPolicyPrefix + name, mustJSON(rt)})
		}
		if len(ws) > 0 {
			e.persist.putAll(ws)
		}
		return false
	}
	d := api.Decision{
		Policy:     name,
		Serving:    serving,
		Reason:     res.Reason,
		Since:      now,
		Generation: prev.Generation + 1,
		ObservedAt: observedAt,
		TTLSeconds: ttl,
		Override:   in.Override,
	}
	rt.Decision = d
	e.touchPolicyLocked(name)
	// The decision, its publications and its event in one commit: the
	// outbox (internal/publish) holds them from then on, whatever happens
	// to this process.
	e.persist.putAll(append([]write{{store.BucketState, keyPolicyPrefix + name, mustJSON(rt)}}, e.outboxWritesLocked(name, p, d)...),
		encodeEvent(decisionEvent(prev, d, why)))
	e.log.Info("policy decision changed", "policy", name, "from", fromNames(prev), "to", servingNames(serving), "reason", res.Reason,
		"generation", d.Generation, "detect_to_decide", now.Sub(observedAt))
	e.metrics.decision(name, prev.Generation > 0, now.Sub(observedAt), len(serving))
	return true
}

// decisionEvent is the event of the decision d, which followed prev.
func decisionEvent(prev, d api.Decision, why string) api.Event {
	msg := fmt.Sprintf("policy %s now serves %s (was %s): %s", d.Policy, servingNames(d.Serving), fromNames(prev), d.Reason)
	if why != "" {
		msg += " [" + why + "]"
	}
	return api.Event{Time: d.Since, Type: api.EventDecision, Object: objectRef(api.KindTrafficPolicy, d.Policy),
		Message: msg, ObservedAt: ptrTime(d.ObservedAt), Data: mustJSON(d)}
}

// fromNames names what prev served, "(none)" before the first decision.
func fromNames(prev api.Decision) string {
	if prev.Generation == 0 {
		return "(none)"
	}
	return servingNames(prev.Serving)
}

func servingEqual(a, b []api.ServingTarget) bool {
	return slices.EqualFunc(a, b, func(x, y api.ServingTarget) bool {
		return x.Target == y.Target && x.CNAME == y.CNAME && x.Weight == y.Weight && slices.Equal(x.Addresses, y.Addresses)
	})
}

func overrideEqual(a, b *api.Override) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Target == b.Target && a.ExpiresAt.Equal(b.ExpiresAt)
}

func servingNames(s []api.ServingTarget) string {
	if len(s) == 0 {
		return "nothing"
	}
	names := make([]string, len(s))
	for i, t := range s {
		names[i] = t.Target
	}
	return strings.Join(names, "+")
}

// refreshToggleLocked recomputes a toggle's effective state; on a change it
// emits an event and re-evaluates the policies gated by the toggle.
func (e *Engine) refreshToggleLocked(name string, now time.Time) bool {
	t, ok := e.toggles[name]
	if !ok {
		return false
	}
	on, next := burst.Effective(t, api.Bool(t.Engaged, false), now)
	e.toggleNext[name] = next
	prev, known := e.toggleOn[name]
	e.toggleOn[name] = on
	e.touchToggleLocked(name)
	e.metrics.burst(name, on)
	if known && prev == on {
		return false
	}
	if known {
		state := "released"
		if on {
			state = "engaged"
		}
		e.emitLocked(api.Event{Time: now, Type: api.EventBurst, Object: objectRef(api.KindBurstToggle, name),
			Message: fmt.Sprintf("burst toggle %s is %s", name, state), Data: mustJSON(map[string]bool{"effective": on})})
		e.log.Info("burst toggle changed", "toggle", name, "effective", on)
	}
	for _, pn := range api.SortedKeys(e.policies) {
		if e.policies[pn].BurstToggle == name {
			e.evaluateLocked(pn, now, now, "burst toggle "+name)
		}
	}
	return true
}

// refreshReplicaStatusLocked recomputes the live status of a replica set
// from its members' health checks. Any change of what the status reports
// (a member's state, votes up, majority, risk, expected primary) is
// recorded with a new Since and is an event naming the members that
// changed: comparing only the counts would keep a stale per-member map when
// one member goes down as another comes up in the same refresh.
func (e *Engine) refreshReplicaStatusLocked(name string, now time.Time) {
	rs, ok := e.replicaSets[name]
	if !ok {
		return
	}
	up := make(map[string]bool, len(rs.Members))
	for mn, m := range rs.Members {
		up[mn] = m.HealthCheck == "" || e.checkStates[m.HealthCheck].State != api.StateUnhealthy
	}
	st := topology.ReplicaStatus(rs, up)
	st.ReplicaSet = name
	prev, known := e.rsStatus[name]
	if known && sameReplicaStatus(prev, st) {
		return
	}
	st.Since = now
	e.rsStatus[name] = st
	e.metrics.replicaSet(name, st)
	// The expected primary may have moved: judge the policies on it.
	for _, pn := range api.SortedKeys(e.policies) {
		if e.policies[pn].ReplicaSet == name {
			e.checkAlignmentLocked(pn, now)
		}
	}
	if !known {
		return
	}
	changes := memberChanges(prev.Members, st.Members)
	level := slog.LevelInfo
	if !st.HasMajority || st.AtRisk {
		level = slog.LevelWarn
	}
	e.log.Log(context.Background(), level, "replica set status changed", "replica_set", name, "members_changed", changes,
		"members_up", st.MembersUp, "has_majority", st.HasMajority, "at_risk", st.AtRisk, "expected_primary", st.ExpectedPrimary)
	e.emitLocked(api.Event{Time: now, Type: api.EventReplicaSet, Object: objectRef(api.KindReplicaSet, name),
		Message: fmt.Sprintf("replica set %s: %s; %d members up, majority held: %t, at risk: %t, expected primary %q",
			name, changes, st.MembersUp, st.HasMajority, st.AtRisk, st.ExpectedPrimary), Data: mustJSON(st)})
}

// sameReplicaStatus compares everything a status reports except Since.
func sameReplicaStatus(a, b api.ReplicaSetStatus) bool {
	a.Since, b.Since = time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}

// memberChanges lists the members whose state differs, sorted by name
// ("db-2 healthy, db-3 unhealthy"), or says that none did.
func memberChanges(prev, cur map[string]string) string {
	var out []string
	for _, n := range api.SortedKeys(cur) {
		if prev[n] != cur[n] {
			out = append(out, n+" "+cur[n])
		}
	}
	if len(out) == 0 {
		return "no member changed"
	}
	return strings.Join(out, ", ")
}

func (e *Engine) emitLocked(ev api.Event) {
	e.persist.event(encodeEvent(ev), false)
}
