package engine

import (
	"strings"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// Snapshot is an immutable view of what failoverd answers right now. DNS
// and /burst read the current Snapshot with one atomic load per request —
// never a lock, never a store read; the engine replaces it on every change.
type Snapshot struct {
	// Zone is the DNS zone, lower case, with the trailing dot.
	Zone string
	// Decisions by policy name.
	Decisions map[string]api.Decision
	// Burst answers by toggle name.
	Burst map[string]BurstAnswer
	// Version increases with every published snapshot.
	Version uint64
}

// BurstAnswer is what /burst/{name} answers.
type BurstAnswer struct {
	Engaged bool
	Body    string
}

// Snapshot returns the current snapshot; never nil after New.
func (e *Engine) Snapshot() *Snapshot { return e.snap.Load() }

func (e *Engine) publishLocked() {
	prev := e.snap.Load()
	s := &Snapshot{
		Zone:      strings.ToLower(e.opts.Zone),
		Decisions: make(map[string]api.Decision, len(e.runtime)),
		Burst:     make(map[string]BurstAnswer, len(e.toggles)),
	}
	if prev != nil {
		s.Version = prev.Version + 1
	}
	for name, rt := range e.runtime {
		if _, ok := e.policies[name]; ok && rt.Decision.Generation > 0 {
			s.Decisions[name] = rt.Decision
		}
	}
	for name, t := range e.toggles {
		on := e.toggleOn[name]
		body := t.BodyReleased
		if on {
			body = t.BodyEngaged
		}
		s.Burst[name] = BurstAnswer{Engaged: on, Body: body}
	}
	e.snap.Store(s)
}
