// Package drill runs game days: it fails a traffic policy over on purpose
// through the normal override path, measures what clients would see (the
// decision, then failoverd's own DNS answer, then every destination of the
// policy's publish block), holds, fails back, measures that too, and
// writes a report against the policy's declared worst case and RTO. Like the HTTP server it is a client of the engine; its records
// live in the store (bucket "drills"), so a restart mid-drill finds the
// drill and aborts it cleanly (the override cleared, automatic routing
// back) instead of leaving traffic pinned.
package drill

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/engine"
	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// Bucket holds one record per drill, keyed by id (ids sort by start time).
const Bucket = "drills"

// Defaults of Options.
const (
	defaultPoll = 5 * time.Millisecond
	// publishPoll is how often the publish status is read while waiting
	// for the publishers: it lists the outbox, so not every Poll. The
	// time reported is the status's own last success, not when it was
	// read, so this costs no precision.
	publishPoll = 100 * time.Millisecond
	// minSwitchWait bounds how long a switch is waited for when the
	// policy's own budget is shorter: a drill that gives up too early
	// reports nothing useful.
	minSwitchWait = 30 * time.Second
	// overrideMargin keeps the drill's override alive past the hold: the
	// drill clears it itself; expiry is the safety net if failoverd dies.
	overrideMargin = 2 * time.Minute
	// maxListed bounds GET /v1/drills.
	maxListed = 100
)

// Options configures a Runner.
type Options struct {
	Engine *engine.Engine
	Store  store.Store
	// DNSAddr is failoverd's own DNS server (host:port): the drill asks it
	// what clients would be told.
	DNSAddr string
	// Zone is the DNS zone policies answer in.
	Zone   string
	Logger *slog.Logger
	// Poll is how often the decision and DNS are read during a switch.
	Poll time.Duration
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
	// Registerer receives the drill metrics; optional.
	Registerer prometheus.Registerer
}

// Runner starts, tracks and aborts drills on this node.
type Runner struct {
	o      Options
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	running map[string]*run // by drill id
	wg      sync.WaitGroup

	ended      *prometheus.CounterVec
	lastPass   *prometheus.GaugeVec
	lastSwitch *prometheus.GaugeVec
}

type run struct {
	drill  api.Drill
	cancel context.CancelCauseFunc
	done   chan struct{}
}

// New returns a Runner; Recover it once the engine has started.
func New(o Options) *Runner {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Poll <= 0 {
		o.Poll = defaultPoll
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Runner{o: o, log: o.Logger, ctx: ctx, cancel: cancel, running: map[string]*run{},
		ended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "failover_drills_total", Help: "Drills ended, by policy and outcome (passed, failed, aborted).",
		}, []string{"policy", "state"}),
		lastPass: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "failover_drill_last_pass", Help: "Whether the policy's last completed drill met its RTO: 1 passed, 0 failed (alert on 0, or on no drill for too long).",
		}, []string{"policy"}),
		lastSwitch: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "failover_drill_last_switch_seconds", Help: "The client-visible switch time of the policy's last completed drill: from the request until failoverd's DNS and every publisher showed the new target.",
		}, []string{"policy"}),
	}
	if o.Registerer != nil {
		o.Registerer.MustRegister(r.ended, r.lastPass, r.lastSwitch)
	}
	return r
}

// Close aborts every running drill (restoring automatic routing) and waits
// for them, within ctx.
func (r *Runner) Close(ctx context.Context) error {
	r.mu.Lock()
	for _, x := range r.running {
		x.cancel(errShutdown)
	}
	r.mu.Unlock()
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
		r.cancel()
		return nil
	case <-ctx.Done():
		r.cancel()
		return ctx.Err()
	}
}

var (
	errShutdown = errors.New("failoverd is shutting down")
	errAborted  = errors.New("aborted by an operator")
)

// SetBy marks the overrides a drill sets, so that it only ever clears its
// own (an operator's pin set meanwhile is left alone).
func SetBy(id string) string { return "drill " + id }

func (r *Runner) node() string { return r.o.Engine.ClusterStatus().Node }

// Start validates and starts a drill of policy, run by who; it returns
// once the drill is recorded and its goroutine started. Client mistakes
// are *api.Problem errors.
func (r *Runner) Start(ctx context.Context, who, policyName string, req api.DrillRequest) (api.Drill, error) {
	hold, probs := req.Validate()
	o, ok := r.o.Engine.Get(api.KindTrafficPolicy, policyName)
	if !ok {
		return api.Drill{}, &api.Problem{Status: http.StatusNotFound, Title: "Not Found", Detail: fmt.Sprintf("no traffic policy named %q", policyName)}
	}
	pol := o.(api.TrafficPolicy)
	// A drill already running explains more than its effects would (its
	// target serving, its override set): say that first.
	if p := r.runningOn(policyName); p != nil {
		return api.Drill{}, p
	}
	dec, _ := r.o.Engine.Decision(policyName)
	from := first(dec)
	if req.Target != "" {
		t, ok := pol.Targets[req.Target]
		switch {
		case !ok:
			probs.Add("target", "policy %q has no target %q: use one of %v", policyName, req.Target, api.SortedKeys(pol.Targets))
		case req.Target == from:
			probs.Add("target", "%q already serves %s: drill to another target (one of %v)", req.Target, policyName, others(pol, from))
		case !r.targetUp(t):
			probs.Add("target", "%q is not healthy (its checks %v): a drill fails over to a target that can take the traffic; fix it or pick another", req.Target, t.HealthChecks)
		}
	}
	if len(probs) > 0 {
		return api.Drill{}, &api.Problem{Status: http.StatusBadRequest, Title: "Invalid Request",
			Detail: fmt.Sprintf("%d problem(s) with the request; each names its field and what to change", len(probs)), Errors: probs}
	}
	if ov, ok := r.o.Engine.Override(policyName); ok {
		return api.Drill{}, &api.Problem{Status: http.StatusConflict, Title: "Override Active",
			Detail: fmt.Sprintf("%s is pinned to %q by %s until %s: a drill would fight it; clear the override first", policyName, ov.Target, ov.SetBy, ov.ExpiresAt.Format(time.RFC3339))}
	}
	now := r.o.Now().UTC()
	d := api.Drill{ID: newID(now), Policy: policyName, Target: req.Target, From: from, HoldSeconds: hold.Seconds(),
		Reason: req.Reason, StartedBy: who, Node: r.node(), State: api.DrillRunning, Step: api.StepFailover, StartedAt: now}
	r.mu.Lock()
	if p := r.runningOnLocked(policyName); p != nil {
		r.mu.Unlock()
		return api.Drill{}, p
	}
	rctx, cancel := context.WithCancelCause(r.ctx)
	x := &run{drill: d, cancel: cancel, done: make(chan struct{})}
	r.running[d.ID] = x
	r.wg.Add(1)
	r.mu.Unlock()
	if err := r.save(ctx, d); err != nil {
		r.forget(d.ID)
		cancel(err)
		r.wg.Done()
		return api.Drill{}, err
	}
	r.emit(now, d, fmt.Sprintf("drill %s started by %s: %s fails over from %s to %s, holds %s, then fails back (%s)",
		d.ID, who, policyName, from, d.Target, hold, orNone(d.Reason)))
	go func() {
		defer r.wg.Done()
		defer close(x.done)
		defer r.forget(d.ID)
		r.run(rctx, d, pol, hold)
	}()
	return d, nil
}

// runningOn is the conflict of a drill already running on policy, or nil.
func (r *Runner) runningOn(policy string) *api.Problem {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.runningOnLocked(policy)
}

func (r *Runner) runningOnLocked(policy string) *api.Problem {
	for _, x := range r.running {
		if x.drill.Policy == policy {
			return &api.Problem{Status: http.StatusConflict, Title: "Drill Running",
				Detail: fmt.Sprintf("drill %s is already running on %s: wait for its report or abort it (POST /v1/drills/%s/abort)", x.drill.ID, policy, x.drill.ID)}
		}
	}
	return nil
}

func (r *Runner) forget(id string) {
	r.mu.Lock()
	delete(r.running, id)
	r.mu.Unlock()
}

// Abort stops a running drill and waits until automatic routing is back.
func (r *Runner) Abort(ctx context.Context, id string) (api.Drill, error) {
	r.mu.Lock()
	x, ok := r.running[id]
	r.mu.Unlock()
	if !ok {
		d, err := r.Get(ctx, id)
		if err != nil {
			return api.Drill{}, err
		}
		if d.State == api.DrillRunning {
			return d, &api.Problem{Status: http.StatusConflict, Title: "Drill Runs Elsewhere",
				Detail: fmt.Sprintf("drill %s runs on node %s: abort it there (this is %s)", id, d.Node, r.node())}
		}
		return d, &api.Problem{Status: http.StatusConflict, Title: "Drill Ended",
			Detail: fmt.Sprintf("drill %s already ended (%s): nothing to abort", id, d.State)}
	}
	x.cancel(errAborted)
	select {
	case <-x.done:
	case <-ctx.Done():
		return api.Drill{}, ctx.Err()
	}
	return r.Get(ctx, id)
}

// Get reads one drill.
func (r *Runner) Get(ctx context.Context, id string) (api.Drill, error) {
	b, err := r.o.Store.Get(ctx, Bucket, id)
	if errors.Is(err, store.ErrNotFound) {
		return api.Drill{}, &api.Problem{Status: http.StatusNotFound, Title: "Not Found", Detail: fmt.Sprintf("no drill %q: list them with GET /v1/drills", id)}
	}
	if err != nil {
		return api.Drill{}, err
	}
	var d api.Drill
	if err := json.Unmarshal(b, &d); err != nil {
		return api.Drill{}, fmt.Errorf("drill %s: %w: %v", id, store.ErrDamaged, err)
	}
	return d, nil
}

// List returns the newest drills first (at most maxListed), optionally of
// one policy.
func (r *Runner) List(ctx context.Context, policy string) ([]api.Drill, error) {
	kvs, err := r.o.Store.List(ctx, Bucket)
	if err != nil {
		return nil, err
	}
	out := []api.Drill{}
	for i := len(kvs) - 1; i >= 0 && len(out) < maxListed; i-- {
		var d api.Drill
		if err := json.Unmarshal(kvs[i].Value, &d); err != nil {
			return nil, fmt.Errorf("drill %s: %w: %v", kvs[i].Key, store.ErrDamaged, err)
		}
		if policy == "" || d.Policy == policy {
			out = append(out, d)
		}
	}
	return out, nil
}

// Recover aborts the drills this node was running when it stopped: their
// override is cleared (if it is still theirs) so routing is automatic
// again, and each gets an aborted report saying so. Call it once, after
// the engine started.
func (r *Runner) Recover(ctx context.Context) error {
	kvs, err := r.o.Store.List(ctx, Bucket)
	if err != nil {
		return err
	}
	standalone := r.o.Engine.ClusterStatus().Store.Kind == api.StoreBolt
	me := r.node()
	for _, kv := range kvs {
		var d api.Drill
		if err := json.Unmarshal(kv.Value, &d); err != nil {
			return fmt.Errorf("drill %s: %w: %v", kv.Key, store.ErrDamaged, err)
		}
		if d.State != api.DrillRunning || (!standalone && d.Node != me) {
			continue
		}
		why := fmt.Sprintf("failoverd restarted during step %s", d.Step)
		if err := r.restore(ctx, d); err != nil {
			return fmt.Errorf("recover drill %s: %w", d.ID, err)
		}
		r.finish(ctx, &d, api.DrillAborted, why+": override cleared, automatic routing restored")
		r.log.Warn("drill aborted at startup", "drill", d.ID, "policy", d.Policy, "step", d.Step)
	}
	return nil
}

// run is one drill from the override to the report.
func (r *Runner) run(ctx context.Context, d api.Drill, pol api.TrafficPolicy, hold time.Duration) {
	rep := &api.DrillReport{WorstCaseSeconds: pol.WorstCaseFailoverSeconds, RTOSeconds: pol.RTOSeconds}
	if dp, ok := r.o.Engine.Get(api.KindTrafficPolicy, d.Policy); ok {
		rep.WorstCaseSeconds = dp.(api.TrafficPolicy).WorstCaseFailoverSeconds
	}
	d.Report = rep
	startSeq := r.lastSeq()
	wait := switchWait(pol)
	// Whatever happens from here, the drill's override does not outlive it.
	aborted := func() bool {
		if ctx.Err() == nil {
			return false
		}
		bg := context.WithoutCancel(ctx)
		if err := r.restore(bg, d); err != nil {
			r.log.Error("drill could not clear its override", "drill", d.ID, "policy", d.Policy, "err", err)
			d.Error = "clearing the override failed: " + err.Error() + "; it expires by itself"
		}
		r.notes(bg, &d, startSeq)
		r.finish(bg, &d, api.DrillAborted, fmt.Sprintf("%v during step %s: override cleared, automatic routing restored", context.Cause(ctx), d.Step))
		return true
	}

	// 1. Fail over through the override path.
	requested, err := r.setOverride(ctx, d, hold)
	if err != nil {
		if aborted() {
			return
		}
		r.finish(context.WithoutCancel(ctx), &d, api.DrillFailed, "the override was refused: "+err.Error())
		return
	}
	rep.FailoverRequestedAt = requested
	dec, decided, dnsAt, why := r.measure(ctx, d.Policy, func(dec api.Decision) bool { return first(dec) == d.Target && dec.Override != nil }, wait)
	rep.FailoverDecidedAt, rep.FailoverDNSAt = decided, dnsAt
	rep.DecisionSeconds, rep.DNSSeconds = since(requested, decided), since(requested, dnsAt)
	if why != "" {
		rep.Notes = append(rep.Notes, "failover: "+why)
	}
	pubs := r.waitPublished(ctx, d.Policy, dec, decided != nil, requested, wait)
	rep.SwitchSeconds = switchTime(requested, dnsAt, pubs)
	recordPublished(rep, pubs, requested, false)
	if aborted() {
		return
	}
	r.step(ctx, &d, api.StepHold, fmt.Sprintf("drill %s: %s failed over to %s — decision %s, DNS %s%s after the request",
		d.ID, d.Policy, d.Target, secs(rep.DecisionSeconds), secs(rep.DNSSeconds), pubWords(pubs, requested)), dnsAt)

	// 2. Hold.
	select {
	case <-time.After(hold):
	case <-ctx.Done():
	}
	if aborted() {
		return
	}

	// 3. Fail back: clear the override; automatic routing decides.
	r.step(ctx, &d, api.StepFailback, fmt.Sprintf("drill %s: hold over, failing %s back", d.ID, d.Policy), nil)
	back, err := r.clearOverride(ctx, d)
	if err != nil {
		if aborted() {
			return
		}
		r.finish(context.WithoutCancel(ctx), &d, api.DrillFailed, "clearing the override failed: "+err.Error()+"; it expires by itself")
		return
	}
	rep.FailbackRequestedAt = &back
	dec, decided, dnsAt, why = r.measure(ctx, d.Policy, func(dec api.Decision) bool { return dec.Override == nil }, wait)
	rep.FailbackDecidedAt, rep.FailbackDNSAt = decided, dnsAt
	rep.FailbackDecisionSecs, rep.FailbackDNSSecs = since(back, decided), since(back, dnsAt)
	if why != "" {
		rep.Notes = append(rep.Notes, "failback: "+why)
	}
	pubs = r.waitPublished(ctx, d.Policy, dec, decided != nil, back, wait)
	rep.FailbackSwitchSecs = switchTime(back, dnsAt, pubs)
	recordPublished(rep, pubs, back, true)
	if aborted() {
		return
	}
	if dec, ok := r.o.Engine.Decision(d.Policy); ok {
		rep.FailbackTo = first(dec)
		if rep.FailbackTo != d.From {
			rep.Notes = append(rep.Notes, fmt.Sprintf("failed back to %s, not to %s which served before the drill (%s)", rep.FailbackTo, d.From, dec.Reason))
		}
	}
	bg := context.WithoutCancel(ctx)
	judgePublishers(rep)
	r.notes(bg, &d, startSeq)
	rep.Pass = pass(rep)
	state := api.DrillFailed
	if rep.Pass {
		state = api.DrillPassed
	}
	r.finish(bg, &d, state, "")
}

// switchWait is how long one switch is waited for: the policy's own
// budget, at least minSwitchWait.
func switchWait(p api.TrafficPolicy) time.Duration {
	w := time.Duration(max(float64(p.RTOSeconds), p.WorstCaseFailoverSeconds) * float64(time.Second))
	return max(w, minSwitchWait)
}

// budget is what a switch must beat: the RTO, or the worst case when no
// RTO is declared.
func budget(rep *api.DrillReport) float64 {
	if rep.RTOSeconds > 0 {
		return float64(rep.RTOSeconds)
	}
	return rep.WorstCaseSeconds
}

// pass: both switches seen — failoverd's DNS and every publisher (see
// switchTime) —, each within the budget.
func pass(rep *api.DrillReport) bool {
	b := budget(rep)
	return rep.SwitchSeconds != nil && rep.FailbackSwitchSecs != nil &&
		*rep.SwitchSeconds <= b && *rep.FailbackSwitchSecs <= b
}

// setOverride pins the policy to the drill's target through the engine's
// override path (as PUT .../override does), audited as the drill.
func (r *Runner) setOverride(ctx context.Context, d api.Drill, hold time.Duration) (time.Time, error) {
	var at time.Time
	err := r.o.Engine.Mutate(ctx, func() (*engine.Change, error) {
		at = r.o.Now().UTC()
		ov := &api.Override{Target: d.Target, ExpiresAt: at.Add(hold + overrideMargin), Reason: "drill " + d.ID + ": " + orNone(d.Reason), SetBy: SetBy(d.ID)}
		return &engine.Change{Override: &engine.OverrideChange{Policy: d.Policy, Set: ov},
			Audit: r.audit(at, d, "override set", fmt.Sprintf("drill %s pins %s to %s until %s", d.ID, d.Policy, d.Target, ov.ExpiresAt.Format(time.RFC3339)))}, nil
	})
	return at, err
}

// clearOverride clears the drill's override, if it is still the drill's.
func (r *Runner) clearOverride(ctx context.Context, d api.Drill) (time.Time, error) {
	var at time.Time
	err := r.o.Engine.Mutate(ctx, func() (*engine.Change, error) {
		at = r.o.Now().UTC()
		if ov, ok := r.o.Engine.Override(d.Policy); ok && ov.SetBy != SetBy(d.ID) {
			return nil, fmt.Errorf("%s is now pinned to %s by %s, not by the drill: left alone", d.Policy, ov.Target, ov.SetBy)
		}
		return &engine.Change{Override: &engine.OverrideChange{Policy: d.Policy},
			Audit: r.audit(at, d, "override clear", fmt.Sprintf("drill %s returns %s to automatic routing", d.ID, d.Policy))}, nil
	})
	return at, err
}

// restore clears the drill's override when it still holds one: automatic
// routing again.
func (r *Runner) restore(ctx context.Context, d api.Drill) error {
	ov, ok := r.o.Engine.Override(d.Policy)
	if !ok || ov.SetBy != SetBy(d.ID) {
		return nil
	}
	_, err := r.clearOverride(ctx, d)
	return err
}

func (r *Runner) audit(at time.Time, d api.Drill, action, msg string) api.Event {
	return api.Event{Time: at, Type: api.EventAudit, Object: "traffic-policies/" + d.Policy, Actor: d.StartedBy,
		Action: action, Outcome: "200 OK", Message: action + " traffic-policies/" + d.Policy + " by " + d.StartedBy + " (" + msg + "): 200 OK"}
}

// measure waits until the policy's decision satisfies moved, then until
// failoverd's DNS answers what that decision serves. It returns the
// decision, its own time (its Since, the decision event's time), when DNS
// first answered it, and why either was not seen.
func (r *Runner) measure(ctx context.Context, policy string, moved func(api.Decision) bool, within time.Duration) (dec api.Decision, decided, dnsAt *time.Time, why string) {
	deadline := r.o.Now().Add(within)
	tick := time.NewTicker(r.o.Poll)
	defer tick.Stop()
	for {
		d, ok := r.o.Engine.Decision(policy)
		if ok && moved(d) {
			dec = d
			t := d.Since.UTC()
			decided = &t
			break
		}
		if r.o.Now().After(deadline) {
			return d, nil, nil, fmt.Sprintf("the decision did not move within %s (serving %s: %s)", within, first(d), d.Reason)
		}
		select {
		case <-ctx.Done():
			return d, nil, nil, ""
		case <-tick.C:
		}
	}
	want := answerOf(dec)
	fqdn := dns.Fqdn(policy + "." + strings.TrimSuffix(r.o.Zone, "."))
	var got []string
	var err error
	for {
		got, err = r.askDNS(ctx, fqdn, want)
		if err == nil && slices.Equal(got, want) {
			t := r.o.Now().UTC()
			dnsAt = &t
			return dec, decided, dnsAt, ""
		}
		if r.o.Now().After(deadline) {
			if err != nil {
				return dec, decided, nil, fmt.Sprintf("failoverd's DNS did not answer %v within %s: %v", want, within, err)
			}
			return dec, decided, nil, fmt.Sprintf("failoverd's DNS still answered %v, not %v, after %s", got, want, within)
		}
		select {
		case <-ctx.Done():
			return dec, decided, nil, ""
		case <-tick.C:
		}
	}
}

// answerOf is what DNS should answer for a decision: the serving targets'
// addresses (or CNAMEs), sorted.
func answerOf(d api.Decision) []string {
	var out []string
	for _, s := range d.Serving {
		if s.CNAME != "" {
			out = append(out, dns.Fqdn(s.CNAME))
		}
		out = append(out, s.Addresses...)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// askDNS asks failoverd's DNS for fqdn the way a resolver would (A, and
// AAAA when the answer should hold IPv6 addresses) and returns the
// addresses and CNAME targets, sorted.
func (r *Runner) askDNS(ctx context.Context, fqdn string, want []string) ([]string, error) {
	types := []uint16{dns.TypeA}
	for _, w := range want {
		if a, err := netip.ParseAddr(w); err == nil && a.Is6() {
			types = append(types, dns.TypeAAAA)
			break
		}
	}
	c := &dns.Client{Net: "udp", Timeout: time.Second}
	var out []string
	for _, t := range types {
		m := new(dns.Msg)
		m.SetQuestion(fqdn, t)
		resp, _, err := c.ExchangeContext(ctx, m, r.o.DNSAddr)
		if err != nil {
			return nil, err
		}
		if resp.Rcode != dns.RcodeSuccess {
			return nil, fmt.Errorf("%s %s: %s", fqdn, dns.TypeToString[t], dns.RcodeToString[resp.Rcode])
		}
		for _, rr := range resp.Answer {
			switch v := rr.(type) {
			case *dns.A:
				out = append(out, v.A.String())
			case *dns.AAAA:
				out = append(out, v.AAAA.String())
			case *dns.CNAME:
				out = append(out, v.Target)
			}
		}
	}
	sort.Strings(out)
	return slices.Compact(out), nil
}

// notes adds what did not follow during the drill: checks of the policy
// that changed state (a flap), read from the event log since the start.
func (r *Runner) notes(ctx context.Context, d *api.Drill, after uint64) {
	o, ok := r.o.Engine.Get(api.KindTrafficPolicy, d.Policy)
	if !ok {
		d.Report.Notes = append(d.Report.Notes, "the policy was deleted during the drill")
		return
	}
	checks := map[string]bool{}
	for _, t := range o.(api.TrafficPolicy).Targets {
		for _, c := range t.HealthChecks {
			checks["health-checks/"+c] = true
		}
	}
	flips := map[string]int{}
	for {
		evs, err := r.o.Engine.Events(ctx, after, 1000)
		if err != nil || len(evs) == 0 {
			break
		}
		for _, ev := range evs {
			if ev.Type == api.EventHealth && checks[ev.Object] {
				flips[strings.TrimPrefix(ev.Object, "health-checks/")]++
			}
		}
		after = evs[len(evs)-1].Seq
	}
	for _, c := range api.SortedKeys(flips) {
		d.Report.Notes = append(d.Report.Notes, fmt.Sprintf("check %s changed state %d time(s) during the drill", c, flips[c]))
	}
	rep := d.Report
	if rep.FailoverDecidedAt != nil && rep.FailoverDNSAt != nil {
		if lag := rep.FailoverDNSAt.Sub(*rep.FailoverDecidedAt); lag > time.Second {
			rep.Notes = append(rep.Notes, fmt.Sprintf("DNS answered the failover %.3fs after the decision", lag.Seconds()))
		}
	}
}

func (r *Runner) lastSeq() uint64 {
	_, seq := r.o.Engine.WaitEvents()
	return seq
}

// step records the drill's progress.
func (r *Runner) step(ctx context.Context, d *api.Drill, step, msg string, at *time.Time) {
	d.Step = step
	if err := r.save(context.WithoutCancel(ctx), *d); err != nil {
		r.log.Error("drill record not saved", "drill", d.ID, "err", err)
	}
	t := r.o.Now().UTC()
	if at != nil {
		t = *at
	}
	r.emit(t, *d, msg)
}

// finish records the end of a drill and emits its report event.
func (r *Runner) finish(ctx context.Context, d *api.Drill, state, why string) {
	now := r.o.Now().UTC()
	d.State, d.Step, d.EndedAt = state, api.StepDone, &now
	if why != "" && d.Error == "" {
		d.Error = why
	}
	if err := r.save(ctx, *d); err != nil {
		r.log.Error("drill record not saved", "drill", d.ID, "err", err)
	}
	r.emit(now, *d, reportLine(*d))
	r.ended.WithLabelValues(d.Policy, state).Inc()
	if state != api.DrillAborted {
		pass := 0.0
		if state == api.DrillPassed {
			pass = 1
		}
		r.lastPass.WithLabelValues(d.Policy).Set(pass)
		if d.Report != nil && d.Report.SwitchSeconds != nil {
			r.lastSwitch.WithLabelValues(d.Policy).Set(*d.Report.SwitchSeconds)
		}
	}
	r.log.Info("drill ended", "drill", d.ID, "policy", d.Policy, "state", state, "why", why)
}

// reportLine is the one-line report of an ended drill.
func reportLine(d api.Drill) string {
	rep := d.Report
	if rep == nil {
		return fmt.Sprintf("drill %s %s: %s", d.ID, d.State, d.Error)
	}
	budget := "no RTO declared"
	if rep.RTOSeconds > 0 {
		budget = fmt.Sprintf("RTO %ds", rep.RTOSeconds)
	}
	s := fmt.Sprintf("drill %s report: %s (%s → %s): %s — switch %s, failback %s; worst case declared %.1fs, %s",
		d.ID, d.Policy, d.From, d.Target, strings.ToUpper(d.State), secs(rep.SwitchSeconds), secs(rep.FailbackSwitchSecs), rep.WorstCaseSeconds, budget)
	for _, p := range rep.Publishers {
		state := "followed"
		if !p.Followed {
			state = "DID NOT FOLLOW"
		}
		s += fmt.Sprintf("; publisher %s %s %s (failover %s, failback %s)", p.Destination, p.Record, state, secs(p.FailoverSeconds), secs(p.FailbackSeconds))
	}
	if d.Error != "" {
		s += "; " + d.Error
	}
	if len(rep.Notes) > 0 {
		s += "; " + strings.Join(rep.Notes, "; ")
	}
	return s
}

func (r *Runner) save(ctx context.Context, d api.Drill) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	_, err = r.o.Store.Commit(ctx, store.Batch{Puts: []store.KV{{Bucket: Bucket, Key: d.ID, Value: b}}})
	return err
}

func (r *Runner) emit(at time.Time, d api.Drill, msg string) {
	b, _ := json.Marshal(d)
	r.o.Engine.Emit(api.Event{Time: at, Type: api.EventDrill, Object: "drills/" + d.ID, Message: msg, Data: b})
}

func (r *Runner) targetUp(t api.PolicyTarget) bool {
	for _, c := range t.HealthChecks {
		if st, ok := r.o.Engine.HealthStatus(c); !ok || st.State != api.StateHealthy {
			return false
		}
	}
	return api.Bool(t.Enabled, true)
}

func first(d api.Decision) string {
	if len(d.Serving) == 0 {
		return "nothing"
	}
	return d.Serving[0].Target
}

func others(p api.TrafficPolicy, but string) []string {
	var out []string
	for _, n := range api.SortedKeys(p.Targets) {
		if n != but {
			out = append(out, n)
		}
	}
	return out
}

func since(from time.Time, to *time.Time) *float64 {
	if to == nil {
		return nil
	}
	s := to.Sub(from).Seconds()
	return &s
}

func secs(v *float64) string {
	if v == nil {
		return "not seen"
	}
	return fmt.Sprintf("%.3fs", *v)
}

func orNone(s string) string {
	if s == "" {
		return "no reason given"
	}
	return s
}

// newID is "d-" + the start time + 4 random hex digits: ids sort by start.
func newID(now time.Time) string {
	var b [2]byte
	rand.Read(b[:])
	return "d-" + now.Format("20060102-150405") + "-" + hex.EncodeToString(b[:])
}
