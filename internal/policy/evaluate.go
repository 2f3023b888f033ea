package policy

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// TargetHealth is the aggregate health of one target (see TargetHealthOf,
// which the caller uses to compute it).
type TargetHealth struct {
	Up bool
	// Since is when Up last changed; zero means up (or down) since forever.
	Since time.Time
	// ObservedAt is the time of the observation behind the latest change.
	ObservedAt time.Time
	// Endpoints is the health of each endpoint of a target declared with
	// endpoints; a missing entry is up. The answer drops the addresses of
	// the endpoints that are down.
	Endpoints map[string]EndpointHealth
}

// Input is everything one evaluation depends on besides the previous State.
type Input struct {
	// Policy should be normalized (see (*api.TrafficPolicy).Normalize);
	// omitted fields read as their defaults anyway.
	Policy api.TrafficPolicy
	// Health is keyed by target name; a missing entry is up since forever.
	Health map[string]TargetHealth
	// BurstEngaged is the effective state of Policy.BurstToggle.
	BurstEngaged bool
	// Override is the operator's pin; ignored once Now ≥ ExpiresAt.
	Override *api.Override
	Now      time.Time
}

// State is the evaluator's memory between calls. The caller persists it as
// JSON and passes it back unchanged, so a restart resumes exactly. The zero
// State means "never evaluated".
type State struct {
	// Active is the chosen active-passive target; empty when none is chosen
	// (never evaluated, all down, or just after an override ended).
	Active string `json:"active,omitempty"`
	// InRotation and OutOfRotation hold the rotation state of active-active
	// targets and of active-passive burst_only targets, sorted by name. A
	// target in neither has never been seen and joins at once if up.
	InRotation    []string `json:"in_rotation,omitempty"`
	OutOfRotation []string `json:"out_of_rotation,omitempty"`
	// Held lists the targets waiting for a manual failback, sorted: with
	// failback = "manual", the active-passive targets more preferred than
	// Active, and the targets that left rotation. Released when an
	// override ends.
	Held []string `json:"held,omitempty"`
	// Override is the target pinned by the override in force at the last
	// evaluation, so the evaluation after it ends knows to start over.
	Override string `json:"override,omitempty"`
}

// Result is one evaluation's answer.
type Result struct {
	// Serving is sorted deterministically: active-passive lists the active
	// target first, then burst targets by name; active-active sorts by name.
	Serving []api.ServingTarget
	// Reason is one human sentence for the operator paged at 4 a.m.
	Reason string
	// State is to be persisted and passed to the next evaluation.
	State State
	// NextWake is the earliest instant at which the result may change
	// without new input (a delay elapsing, an override expiring); zero if
	// none.
	NextWake time.Time
	// ObservedAt is the ObservedAt of the health change that moved traffic
	// in this evaluation (the latest, if several did): the failed target's
	// on a failover, the recovered target's on a failback or return, the
	// chosen target's when none was active. Zero when no health change
	// moved anything (an override, a toggle, a policy edit). Decision
	// events carry it so the detection-to-decision latency is measurable.
	ObservedAt time.Time
}

// maxDelay bounds delays so that converting seconds to a time.Duration can
// never overflow, whatever an unvalidated policy says (about 68 years).
const maxDelay = (1<<31 - 1) * time.Second

// Evaluate decides what the policy serves now. It is pure: the same Input
// and State always give the same Result. See the package documentation for
// the rules.
func Evaluate(in Input, prev State) Result {
	e := newEval(in)
	var notes []string

	if ov := in.Override; ov != nil && in.Now.Before(ov.ExpiresAt) {
		t, ok := e.p.Targets[ov.Target]
		switch {
		case !ok:
			notes = append(notes, fmt.Sprintf("override to %q ignored: the policy has no such target", ov.Target))
		case !enabled(t):
			notes = append(notes, fmt.Sprintf("override to %q ignored: the target is disabled", ov.Target))
		default:
			return e.pinned(*ov, t, prev)
		}
	}
	if prev.Override != "" {
		// The override ended: start over as on a first evaluation, which
		// also releases every manual-failback hold.
		notes = append(notes, fmt.Sprintf("override to %q ended: automatic selection restarted and manual-failback holds released", prev.Override))
		prev = State{}
	}

	var serving []api.ServingTarget
	var reason string
	var st State
	if e.p.Mode == api.ModeActiveActive {
		serving, reason, st = e.activeActive(prev)
	} else {
		serving, reason, st = e.activePassive(prev)
	}
	// Override news comes first: it explains everything after it.
	if len(notes) > 0 {
		reason = strings.Join(notes, "; ") + "; " + reason
	}
	if len(e.notes) > 0 {
		reason += "; " + strings.Join(e.notes, "; ")
	}
	return Result{Serving: serving, Reason: reason, State: st, NextWake: e.wake, ObservedAt: e.observed}
}

// eval carries one evaluation's inputs and what it learns on the way.
type eval struct {
	in       Input
	p        *api.TrafficPolicy
	now      time.Time
	failover time.Duration
	failback time.Duration
	manual   bool
	engaged  bool

	wake     time.Time
	observed time.Time
	notes    []string
}

func newEval(in Input) *eval {
	return &eval{
		in:       in,
		p:        &in.Policy,
		now:      in.Now,
		failover: seconds(in.Policy.FailoverDelaySeconds),
		failback: seconds(api.Int(in.Policy.FailbackDelaySeconds, api.DefaultFailbackDelaySeconds)),
		manual:   in.Policy.Failback == api.FailbackManual,
		// A toggle is only meaningful when the policy names one.
		engaged: in.BurstEngaged && in.Policy.BurstToggle != "",
	}
}

func seconds(s int) time.Duration {
	switch {
	case s <= 0:
		return 0
	case s >= int(maxDelay/time.Second):
		return maxDelay
	}
	return time.Duration(s) * time.Second
}

func enabled(t api.PolicyTarget) bool { return api.Bool(t.Enabled, true) }

func weight(t api.PolicyTarget) int { return max(api.Int(t.Weight, api.DefaultWeight), 0) }

// serve answers a target, without the addresses of its dead endpoints.
// The addresses are copies, so a caller mutating the decision never
// corrupts the policy.
func (e *eval) serve(name string) api.ServingTarget {
	t := e.p.Targets[name]
	h := e.health(name)
	if len(t.Endpoints) > 0 {
		e.endpointNote(name, t, h)
	}
	return api.ServingTarget{Target: name, Addresses: servingAddresses(t, h), CNAME: t.CNAME, Weight: weight(t)}
}

// deadEndpoints lists, in name order, the endpoints of name that are
// down, and counts those up.
func (e *eval) deadEndpoints(name string) (dead []string, up int) {
	t, h := e.p.Targets[name], e.health(name)
	for _, n := range api.SortedKeys(t.Endpoints) {
		if eh, ok := h.Endpoints[n]; ok && !eh.Up {
			dead = append(dead, n)
		} else {
			up++
		}
	}
	return dead, up
}

// quoted renders names as `"a", "b"`.
func quoted(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// endpointNote says, for a serving target, which endpoints are down and
// why the site keeps serving (or serves them all anyway).
func (e *eval) endpointNote(name string, t api.PolicyTarget, h TargetHealth) {
	dead, up := e.deadEndpoints(name)
	if len(dead) == 0 {
		return
	}
	since := ""
	if eh := h.Endpoints[dead[0]]; len(dead) == 1 && !eh.Since.IsZero() {
		since = " for " + dur(e.now.Sub(eh.Since))
	}
	need := EndpointsNeeded(t)
	switch {
	case up == 0:
		e.note("target %q: every endpoint is down (%s), so all their addresses are answered", name, quoted(dead))
	case up >= need:
		e.note("target %q: endpoint %s down%s, its addresses dropped from the answer; %d of %d endpoints up (min_healthy %d), so the site keeps serving",
			name, quoted(dead), since, up, len(t.Endpoints), need)
	default:
		e.note("target %q: endpoint %s down%s, its addresses dropped from the answer; %d of %d endpoints up, below min_healthy %d",
			name, quoted(dead), since, up, len(t.Endpoints), need)
	}
}

// downDetail explains a down target that has endpoints, e.g. `, endpoints
// "az1" and "az2" down: 0 of 2 up, below min_healthy 1`; "" otherwise.
func (e *eval) downDetail(name string) string {
	t := e.p.Targets[name]
	if len(t.Endpoints) == 0 || e.health(name).Up {
		return ""
	}
	dead, up := e.deadEndpoints(name)
	need := EndpointsNeeded(t)
	if up >= need {
		return " (one of its own health_checks is unhealthy)"
	}
	return fmt.Sprintf(" (endpoint %s down: %d of %d endpoints up, below min_healthy %d)", quoted(dead), up, len(t.Endpoints), need)
}

func (e *eval) health(name string) TargetHealth {
	if h, ok := e.in.Health[name]; ok {
		return h
	}
	return TargetHealth{Up: true}
}

// lasted reports whether h's current state has lasted at least d.
func (e *eval) lasted(h TargetHealth, d time.Duration) bool {
	return h.Since.IsZero() || !e.now.Before(h.Since.Add(d))
}

// pending schedules a wake-up for when h's current state will have lasted
// d. Wake-ups are derived from the final decision only, never from
// candidates considered on the way, so a restart computes the same ones.
func (e *eval) pending(h TargetHealth, d time.Duration) time.Time {
	at := h.Since.Add(d)
	e.wakeAt(at)
	return at
}

func (e *eval) wakeAt(t time.Time) {
	if t.After(e.now) && (e.wake.IsZero() || t.Before(e.wake)) {
		e.wake = t
	}
}

func (e *eval) observe(h TargetHealth) {
	if h.ObservedAt.After(e.observed) {
		e.observed = h.ObservedAt
	}
}

func (e *eval) note(format string, args ...any) {
	e.notes = append(e.notes, fmt.Sprintf(format, args...))
}

// state renders how long h's state has lasted: "down for 12s".
func (e *eval) state(h TargetHealth) string {
	s := "down"
	if h.Up {
		s = "up"
	}
	if h.Since.IsZero() {
		return s + " since before records began"
	}
	return s + " for " + dur(e.now.Sub(h.Since))
}

func dur(d time.Duration) string {
	return max(d, 0).Truncate(time.Second).String()
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// pinned answers an override in force: exactly the pinned target.
func (e *eval) pinned(ov api.Override, t api.PolicyTarget, prev State) Result {
	reason := fmt.Sprintf("operator override: serving %q regardless of health until %s", ov.Target, stamp(ov.ExpiresAt))
	if ov.Force {
		reason += ", forced while the target was down"
	}
	switch {
	case ov.SetBy != "" && ov.Reason != "":
		reason += fmt.Sprintf(" (set by %q: %q)", ov.SetBy, ov.Reason)
	case ov.SetBy != "":
		reason += fmt.Sprintf(" (set by %q)", ov.SetBy)
	case ov.Reason != "":
		reason += fmt.Sprintf(" (%q)", ov.Reason)
	}
	// The automatic state is frozen: it is discarded when the override
	// ends anyway, but cleaning it keeps the persisted JSON canonical.
	st := State{
		Active:        prev.Active,
		InRotation:    e.clean(prev.InRotation),
		OutOfRotation: e.clean(prev.OutOfRotation),
		Held:          e.clean(prev.Held),
		Override:      ov.Target,
	}
	if _, ok := e.p.Targets[st.Active]; !ok {
		st.Active = ""
	}
	return Result{
		Serving:  []api.ServingTarget{e.serve(ov.Target)},
		Reason:   reason,
		State:    st,
		NextWake: ov.ExpiresAt,
	}
}

// clean returns names sorted, deduplicated and restricted to the policy's
// targets; nil when empty so the State round-trips through JSON unchanged.
func (e *eval) clean(names []string) []string {
	var out []string
	for _, n := range names {
		if _, ok := e.p.Targets[n]; ok {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func set(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// ranked returns the enabled, non-burst_only targets in order of
// preference: priority, then name.
func (e *eval) ranked() []string {
	var out []string
	for _, n := range api.SortedKeys(e.p.Targets) {
		if t := e.p.Targets[n]; enabled(t) && !t.BurstOnly {
			out = append(out, n)
		}
	}
	slices.SortStableFunc(out, func(a, b string) int {
		return cmp.Compare(e.p.Targets[a].Priority, e.p.Targets[b].Priority)
	})
	return out
}

func (e *eval) describe(name string) string {
	return fmt.Sprintf("%q (priority %d)", name, e.p.Targets[name].Priority)
}

func (e *eval) activePassive(prev State) ([]api.ServingTarget, string, State) {
	ranked := e.ranked()
	rank := make(map[string]int, len(ranked))
	for i, n := range ranked {
		rank[n] = i
	}

	// left is the target just failed away from; the cause already says
	// why, so it gets no separate note.
	cur, cause, left := prev.Active, "", ""
	if _, ok := rank[cur]; cur != "" && !ok {
		t, exists := e.p.Targets[cur]
		switch {
		case !exists:
			cause = fmt.Sprintf("target %q was removed from the policy", cur)
		case !enabled(t):
			cause = fmt.Sprintf("target %q is disabled", cur)
		default:
			cause = fmt.Sprintf("target %q is burst_only", cur)
		}
		cur = ""
	}
	bestUp := func(except string) string {
		for _, n := range ranked {
			if n != except && e.health(n).Up {
				return n
			}
		}
		return ""
	}

	if cur != "" {
		h := e.health(cur)
		moved := false
		if !e.manual {
			// Fail back to the most preferred target that has been up for
			// the failback delay.
			for _, n := range ranked[:rank[cur]] {
				hn := e.health(n)
				if hn.Up && e.lasted(hn, e.failback) {
					cause = fmt.Sprintf("target %q %s (failback delay %s)", n, e.state(hn), dur(e.failback))
					e.observe(hn)
					cur, moved = n, true
					break
				}
			}
		}
		if !moved && !h.Up {
			if e.lasted(h, e.failover) {
				cause = fmt.Sprintf("target %q %s%s (failover delay %s)", cur, e.state(h), e.downDetail(cur), dur(e.failover))
				e.observe(h)
				left, cur = cur, bestUp(cur)
			} else {
				e.note("%s %s%s: failing over at %s (failover delay %s)", e.describe(cur), e.state(h), e.downDetail(cur), stamp(e.pending(h, e.failover)), dur(e.failover))
			}
		}
	}
	if cur == "" {
		// Nothing to protect from a flap: take the best up target now.
		// Coming out of all-down, its recovery is what moved traffic.
		if cur = bestUp(""); cur != "" && prev.Active == "" {
			e.observe(e.health(cur))
		}
	}

	var st State
	if cur != "" {
		st.Active = cur
		if e.manual && rank[cur] > 0 {
			// Every more preferred target waits for a manual failback,
			// whether or not it has recovered yet.
			st.Held = slices.Clone(ranked[:rank[cur]])
			slices.Sort(st.Held)
		}
		// Say why a more preferred target is not serving.
		for _, n := range ranked[:rank[cur]] {
			hn := e.health(n)
			switch {
			case n == left:
			case !hn.Up:
				e.note("%s %s%s", e.describe(n), e.state(hn), e.downDetail(n))
			case e.manual:
				e.note("%s %s, but failback is manual: set and clear an override to return to it", e.describe(n), e.state(hn))
			default:
				e.note("%s %s: failing back at %s (failback delay %s)", e.describe(n), e.state(hn), stamp(e.pending(hn, e.failback)), dur(e.failback))
			}
		}
	}

	// burst_only targets keep a rotation state whether or not the toggle
	// is engaged, so engaging it takes effect at once.
	var bursts []string
	for _, n := range api.SortedKeys(e.p.Targets) {
		if e.p.Targets[n].BurstOnly {
			bursts = append(bursts, n)
		}
	}
	relevant := func(n string) bool { return e.engaged && enabled(e.p.Targets[n]) }
	rot := e.rotate(bursts, prev, relevant)
	e.settle(bursts, rot, relevant, &st)
	changes := strings.Join(rot.changes, ", ")
	var serving []api.ServingTarget
	if cur != "" {
		serving = append(serving, e.serve(cur))
	}
	var burstNames []string
	for _, n := range bursts {
		if rot.in[n] && relevant(n) {
			serving = append(serving, e.serve(n))
			burstNames = append(burstNames, fmt.Sprintf("%q", n))
		}
	}

	var reason string
	switch {
	case cur != "":
		reason = "serving " + e.describe(cur)
	case len(serving) > 0:
		reason = "no failover target is up, so serving only the burst targets"
	default:
		reason, serving = e.allDown("no failover target is up", ranked, bursts)
	}
	if cause != "" {
		reason = cause + ": " + reason
	}
	if changes != "" {
		reason += "; " + changes
	}
	if e.engaged {
		if len(burstNames) > 0 {
			reason += fmt.Sprintf("; burst toggle %q engaged: also serving %s", e.p.BurstToggle, strings.Join(burstNames, ", "))
		} else {
			reason += fmt.Sprintf("; burst toggle %q engaged, but no burst_only target is in rotation", e.p.BurstToggle)
		}
	}
	return serving, reason, st
}

func (e *eval) activeActive(prev State) ([]api.ServingTarget, string, State) {
	names := api.SortedKeys(e.p.Targets)
	relevant := func(n string) bool {
		t := e.p.Targets[n]
		return enabled(t) && weight(t) > 0 && (!t.BurstOnly || e.engaged)
	}
	rot := e.rotate(names, prev, relevant)
	if !slices.ContainsFunc(names, func(n string) bool { return rot.in[n] && relevant(n) }) {
		// Nothing would serve: any healthy target beats the when_all_down
		// answer, so every up target rejoins at once, held or still in
		// its failback delay (as active-passive takes the best up target).
		for _, n := range names {
			if h := e.health(n); relevant(n) && h.Up && !rot.in[n] {
				rot.in[n], rot.held[n] = true, false
				rot.changes = append(rot.changes, fmt.Sprintf("target %q rejoined rotation at once (%s) because no other target can serve", n, e.state(h)))
				e.observe(h)
			}
		}
	}
	var st State
	e.settle(names, rot, relevant, &st)

	var serving []api.ServingTarget
	var parts []string
	for _, n := range names {
		if rot.in[n] && relevant(n) {
			t := e.p.Targets[n]
			serving = append(serving, e.serve(n))
			parts = append(parts, fmt.Sprintf("%q (weight %d)", n, weight(t)))
		}
	}
	var reason string
	if len(serving) > 0 {
		reason = "serving " + strings.Join(parts, ", ")
	} else {
		reason, serving = e.allDown("no target is in rotation", names, nil)
	}
	if len(rot.changes) > 0 {
		reason = strings.Join(rot.changes, ", ") + ": " + reason
	}
	return serving, reason, st
}

// rotation is the outcome of advancing the rotation state of some targets.
type rotation struct {
	in, held map[string]bool
	changes  []string // transitions, for the reason
}

// rotate advances the rotation state of names (sorted) by the leave and
// return rules. relevant says whether a target could serve if in rotation;
// only those are worth a word in the reason or an ObservedAt.
func (e *eval) rotate(names []string, prev State, relevant func(string) bool) rotation {
	wasIn, wasOut, wasHeld := set(prev.InRotation), set(prev.OutOfRotation), set(prev.Held)
	r := rotation{in: map[string]bool{}, held: map[string]bool{}}
	for _, n := range names {
		h := e.health(n)
		switch {
		case wasIn[n] && !h.Up:
			if !e.lasted(h, e.failover) {
				r.in[n] = true
				break
			}
			r.held[n] = e.manual
			if relevant(n) {
				r.changes = append(r.changes, fmt.Sprintf("target %q left rotation (%s%s, failover delay %s)", n, e.state(h), e.downDetail(n), dur(e.failover)))
				e.observe(h)
			}
		case wasIn[n]:
			r.in[n] = true
		case wasOut[n] && e.manual && wasHeld[n]:
			r.held[n] = true
		case wasOut[n] && h.Up && e.lasted(h, e.failback):
			r.in[n] = true
			if relevant(n) {
				r.changes = append(r.changes, fmt.Sprintf("target %q returned to rotation (%s, failback delay %s)", n, e.state(h), dur(e.failback)))
				e.observe(h)
			}
		default:
			// Out and down, out and still in its failback delay, or never
			// seen: a new target joins at once if up.
			r.in[n] = !wasOut[n] && h.Up
		}
	}
	return r
}

// settle records r in st and derives the wake-ups and notes from the final
// rotation only, so a restart computes the same ones.
func (e *eval) settle(names []string, r rotation, relevant func(string) bool, st *State) {
	for _, n := range names {
		h, say := e.health(n), relevant(n)
		switch {
		case r.in[n] && !h.Up:
			at := e.pending(h, e.failover)
			if say {
				e.note("%q %s: leaves rotation at %s (failover delay %s)", n, e.state(h), stamp(at), dur(e.failover))
			}
		case r.in[n]:
		case r.held[n]:
			if say {
				e.note("%q %s, held out of rotation: failback is manual, set and clear an override to return it", n, e.state(h))
			}
		case h.Up:
			at := e.pending(h, e.failback)
			if say {
				e.note("%q %s: returns to rotation at %s (failback delay %s)", n, e.state(h), stamp(at), dur(e.failback))
			}
		case say:
			e.note("%q %s", n, e.state(h))
		}
		switch {
		case r.in[n]:
			st.InRotation = append(st.InRotation, n)
		default:
			st.OutOfRotation = append(st.OutOfRotation, n)
			if r.held[n] {
				st.Held = append(st.Held, n)
			}
		}
	}
	slices.Sort(st.Held)
	st.Held = slices.Compact(st.Held)
}

// allDown answers when_all_down. order lists the candidate targets for
// fail_open in serving order; extra (burst_only targets, active-passive)
// follow them.
func (e *eval) allDown(why string, order, extra []string) (string, []api.ServingTarget) {
	switch e.p.WhenAllDown {
	case api.AllDownFallback:
		f := e.p.Fallback
		if f == nil || (len(f.Addresses) == 0 && f.CNAME == "") {
			return why + `, and when_all_down = "fallback" but the policy has no fallback, so serving nothing`, nil
		}
		return why + `, so serving the fallback (when_all_down = "fallback")`,
			[]api.ServingTarget{{Target: api.AllDownFallback, Addresses: slices.Clone(f.Addresses), CNAME: f.CNAME, Weight: 1}}
	case api.AllDownFailOpen:
		var out []api.ServingTarget
		for _, n := range slices.Concat(order, extra) {
			t := e.p.Targets[n]
			if !enabled(t) || (t.BurstOnly && !e.engaged) {
				continue
			}
			if e.p.Mode == api.ModeActiveActive && weight(t) == 0 {
				continue
			}
			out = append(out, e.serve(n))
		}
		if len(out) == 0 {
			return why + `, and when_all_down = "fail_open" but no target is enabled, so serving nothing`, nil
		}
		return why + `, so serving every enabled target regardless of health (when_all_down = "fail_open")`, out
	case api.AllDownFailClosed:
		return why + `, so serving nothing (when_all_down = "fail_closed")`, nil
	default:
		return why + fmt.Sprintf(", so serving nothing (when_all_down = %q is not a known answer, treated as \"fail_closed\")", e.p.WhenAllDown), nil
	}
}
