package engine

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// probersLocked lists the probe_sites of c where no failoverd runs now,
// and reports whether at least one site probes it. A site probes while its
// failoverd holds a cluster lease; standalone, only this node's site does.
// A check without probe_sites is probed by every node, so by this one.
func (e *Engine) probersLocked(c api.HealthCheck) (missing []string, live bool) {
	if c.Type == api.CheckCalculated || len(c.ProbeSites) == 0 {
		return nil, true
	}
	for _, s := range c.ProbeSites {
		fresh, _ := e.node.SiteFresh(s)
		if s == e.opts.Site || fresh {
			live = true
		} else {
			missing = append(missing, s)
		}
	}
	slices.Sort(missing)
	return missing, live
}

// refreshProberLocked marks a check whose probe_sites have no live prober:
// nothing observes it, so without this its last state would stand (or it
// would stay unknown, which counts as up) with nobody the wiser. The state
// becomes unknown with the reason "no prober for site X", an event says
// so (on the leader, which owns check states), and
// failover_check_no_prober follows on every node. It reports whether the
// state changed.
func (e *Engine) refreshProberLocked(name string, now time.Time) bool {
	c, ok := e.checks[name]
	missing, live := e.probersLocked(c)
	if !ok || live || !api.Bool(c.Enabled, true) {
		e.metrics.noProber.WithLabelValues(name).Set(0)
		if _, was := e.noProber[name]; was {
			delete(e.noProber, name)
			if e.leading {
				e.emitLocked(api.Event{Time: now, Type: api.EventHealth, Object: objectRef(api.KindHealthCheck, name),
					Message: fmt.Sprintf("check %s has a prober again", name)})
			}
		}
		return false
	}
	reason := "no prober for site " + strings.Join(missing, ", ")
	e.metrics.noProber.WithLabelValues(name).Set(1)
	if e.noProber[name] != reason {
		e.noProber[name] = reason
		e.log.Warn("check has no prober", "check", name, "probe_sites", c.ProbeSites)
		if e.leading {
			e.emitLocked(api.Event{Time: now, Type: api.EventHealth, Object: objectRef(api.KindHealthCheck, name),
				Message: fmt.Sprintf("check %s: %s: its state is unknown (counts as up) until a failoverd runs in one of its probe_sites", name, reason)})
		}
	}
	prev := e.checkStates[name]
	if !e.leading || prev.State == api.StateUnknown || prev.State == "" {
		return false
	}
	e.setCheckStateLocked(name, checkState{State: api.StateUnknown, Since: now, ObservedAt: now}, prev.State, reason)
	e.reactToCheckLocked(name, now, now)
	return true
}
