package engine

import (
	"strings"
	"sync/atomic"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/pmap"
)

// Snapshot is an immutable view of what failoverd answers right now. DNS
// and /burst read the current Snapshot with one atomic load per request —
// never a lock, never a store read. The engine publishes a new one after
// every change, copy-on-write per entry: a decision or toggle change
// copies that entry's path in a persistent map (O(log n)), never the
// other policies, so at 10,000 policies a failover is as quick to publish
// as at ten.
type Snapshot struct {
	// Zone is the DNS zone, lower case, with the trailing dot.
	Zone string
	// Version increases with every published snapshot.
	Version uint64
	// AnswerVersion increases with every published snapshot in which a
	// policy's decision changed, appeared or went away: the DNS answers
	// changed exactly when it moved.
	AnswerVersion uint64
	// Newest is the Since of the newest decision published (deleting that
	// policy does not move it back).
	Newest time.Time

	decisions pmap.Map[*PolicyAnswer]
	burst     pmap.Map[BurstAnswer]
}

// PolicyAnswer is one policy's entry in a Snapshot: its current decision
// (generation ≥ 1). It is immutable, apart from a slot where a reader keeps
// what it derives from the decision (see Derived).
type PolicyAnswer struct {
	Decision api.Decision
	derived  atomic.Pointer[derived]
}

type derived struct {
	owner any
	value any
}

// Derived returns what build makes of the decision, building it once per
// decision and owner: the DNS server compiles a decision into its answer
// on the first query after it changes, and every later query of the same
// decision loads it with one atomic read. owner tells readers that derive
// different things apart; should two alternate, each rebuilds in turn
// (failoverd runs one DNS server per engine).
func (a *PolicyAnswer) Derived(owner any, build func(api.Decision) any) any {
	if d := a.derived.Load(); d != nil && d.owner == owner {
		return d.value
	}
	v := build(a.Decision)
	a.derived.Store(&derived{owner: owner, value: v})
	return v
}

// BurstAnswer is what /burst/{name} answers.
type BurstAnswer struct {
	Engaged bool
	Body    string
}

// NewSnapshot is a first snapshot of zone answering decisions (those of
// generation 0, not yet decided, are left out), for readers' tests.
func NewSnapshot(zone string, decisions ...api.Decision) *Snapshot {
	s := &Snapshot{Zone: strings.ToLower(zone)}
	return s.WithDecisions(decisions...)
}

// WithDecisions is a successor of s in which each of decisions replaces
// its policy's entry — a decision of generation 0 removes it — for
// readers' tests.
func (s *Snapshot) WithDecisions(decisions ...api.Decision) *Snapshot {
	next := *s
	next.Version++
	for _, d := range decisions {
		next.setDecision(d.Policy, d, d.Generation > 0)
	}
	return &next
}

// Decision returns a policy's entry.
func (s *Snapshot) Decision(policy string) (*PolicyAnswer, bool) {
	return s.decisions.Get(policy)
}

// DecisionBytes is Decision with the name as bytes (straight from a DNS
// query, without a copy).
func (s *Snapshot) DecisionBytes(policy []byte) (*PolicyAnswer, bool) {
	return s.decisions.GetBytes(policy)
}

// Decisions is the number of policies with a decision.
func (s *Snapshot) Decisions() int { return s.decisions.Len() }

// RangeDecisions calls fn for every policy's entry, in no particular
// order, until it returns false.
func (s *Snapshot) RangeDecisions(fn func(policy string, a *PolicyAnswer) bool) {
	s.decisions.Range(fn)
}

// Burst returns what /burst/{toggle} answers.
func (s *Snapshot) Burst(toggle string) (BurstAnswer, bool) {
	return s.burst.Get(toggle)
}

// setDecision puts (ok) or removes a policy's entry and keeps
// AnswerVersion and Newest; s must not be published yet.
func (s *Snapshot) setDecision(policy string, d api.Decision, ok bool) {
	cur, had := s.decisions.Get(policy)
	switch {
	case ok && had && sameAnswer(cur.Decision, d):
		return // only the reason moved: DNS answers the same
	case ok:
		s.decisions = s.decisions.Set(policy, &PolicyAnswer{Decision: d})
		if d.Since.After(s.Newest) {
			s.Newest = d.Since
		}
	case had:
		s.decisions = s.decisions.Delete(policy)
	default:
		return
	}
	s.AnswerVersion++
}

// sameAnswer: a and b answer the same in DNS.
func sameAnswer(a, b api.Decision) bool {
	return a.Generation == b.Generation && a.TTLSeconds == b.TTLSeconds && servingEqual(a.Serving, b.Serving)
}

// Snapshot returns the current snapshot; never nil after New.
func (e *Engine) Snapshot() *Snapshot { return e.snap.Load() }

// touched names the entries whose answer may have changed since the last
// publish.
type touched struct {
	policies, toggles map[string]struct{}
}

// touchPolicyLocked records that a policy's decision may have changed (or
// the policy is gone); the next publishLocked updates its entry.
func (e *Engine) touchPolicyLocked(name string) {
	if e.touched.policies == nil {
		e.touched.policies = map[string]struct{}{}
	}
	e.touched.policies[name] = struct{}{}
}

// touchToggleLocked is touchPolicyLocked for a burst toggle.
func (e *Engine) touchToggleLocked(name string) {
	if e.touched.toggles == nil {
		e.touched.toggles = map[string]struct{}{}
	}
	e.touched.toggles[name] = struct{}{}
}

// publishLocked makes the touched entries visible: a new Snapshot sharing
// every other entry with the current one. The first one is built whole.
func (e *Engine) publishLocked() {
	prev := e.snap.Load()
	if prev == nil {
		prev = &Snapshot{Zone: strings.ToLower(e.opts.Zone)}
		for name := range e.runtime {
			e.touchPolicyLocked(name)
		}
		for name := range e.toggles {
			e.touchToggleLocked(name)
		}
	} else if len(e.touched.policies) == 0 && len(e.touched.toggles) == 0 {
		return
	}
	s := *prev
	s.Version++
	for name := range e.touched.policies {
		rt := e.runtime[name]
		_, declared := e.policies[name]
		ok := declared && rt != nil && rt.Decision.Generation > 0
		var d api.Decision
		if ok {
			d = rt.Decision
		}
		s.setDecision(name, d, ok)
	}
	for name := range e.touched.toggles {
		t, ok := e.toggles[name]
		if !ok {
			s.burst = s.burst.Delete(name)
			continue
		}
		on := e.toggleOn[name]
		body := t.BodyReleased
		if on {
			body = t.BodyEngaged
		}
		s.burst = s.burst.Set(name, BurstAnswer{Engaged: on, Body: body})
	}
	// New sets, not clear(): clearing a map costs its capacity, and the
	// first publish touched every entry.
	e.touched = touched{}
	e.snap.Store(&s)
}
