package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// Audit. Every mutating request from a caller with a token leaves an audit
// event (token name, action, object, outcome) in the event log, and every
// audit event is also a log line with the constant message "audit" and the
// fields actor, action, object, outcome, route and count.
//
//   - An applied mutation (or a no-op one) is one event, committed in the
//     same atomic batch as the change itself.
//   - Requests that change nothing — refusals (403 by scope; 4xx by
//     validation, precondition, conflict, media type, size; 5xx when the
//     store fails) and replays of an Idempotency-Key — are aggregated per
//     token, route pattern and kind ("refused" or "replayed") over
//     auditWindow (one minute): the first is stored and logged at once, in
//     full; the others are counted, and when the window ends one summary
//     event carries their count and the last of them. So however many such
//     requests a token sends, it adds at most two events per route and
//     minute — a read token can no longer push the admins' real mutations
//     out of the log — and the count still says how many there were.
//
// Requests without a valid token (401) are not audited: there is no one to
// attribute them to (failover_api_requests_total counts them).

// auditWindow is how long refusals and replays are counted into one summary.
const auditWindow = time.Minute

// Kinds of aggregated audit events.
const (
	auditRefused  = "refused"
	auditReplayed = "replayed"
)

// aggKey is what aggregated audit events are grouped by. Every part comes
// from a closed set (token names of the token file, route patterns), so
// the open windows are bounded too.
type aggKey struct{ actor, route, kind string }

// aggWindow counts the requests after the first of one key's window.
type aggWindow struct {
	start time.Time
	more  int
	last  api.Event
	timer *time.Timer
}

// auditAggregator holds the open windows.
type auditAggregator struct {
	window time.Duration
	emit   func(ev api.Event, route string, count int)

	mu   sync.Mutex
	open map[aggKey]*aggWindow
}

func newAuditAggregator(window time.Duration, emit func(api.Event, string, int)) *auditAggregator {
	return &auditAggregator{window: window, emit: emit, open: map[aggKey]*aggWindow{}}
}

// aggData is the Data of an aggregated audit event.
type aggData struct {
	Kind  string    `json:"kind"`
	Route string    `json:"route"`
	Count int       `json:"count"`
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
}

// record stores ev at once if it opens its key's window, or counts it.
func (a *auditAggregator) record(k aggKey, ev api.Event) {
	a.mu.Lock()
	if w, ok := a.open[k]; ok {
		w.more++
		w.last = ev
		a.mu.Unlock()
		return
	}
	w := &aggWindow{start: ev.Time}
	a.open[k] = w
	w.timer = time.AfterFunc(a.window, func() { a.end(k, w) })
	a.mu.Unlock()
	ev.Data, _ = json.Marshal(aggData{Kind: k.kind, Route: k.route, Count: 1, From: ev.Time, To: ev.Time})
	a.emit(ev, k.route, 1)
}

// end closes k's window w and stores its summary, if it counted any.
func (a *auditAggregator) end(k aggKey, w *aggWindow) {
	a.mu.Lock()
	if a.open[k] != w {
		a.mu.Unlock()
		return
	}
	delete(a.open, k)
	a.mu.Unlock()
	a.summarize(k, w)
}

func (a *auditAggregator) summarize(k aggKey, w *aggWindow) {
	if w.more == 0 {
		return
	}
	now := time.Now()
	ev := w.last
	ev.Time = now
	ev.Message = fmt.Sprintf("%d more %s request(s) by %s to %s since %s; the last: %s",
		w.more, k.kind, k.actor, k.route, w.start.UTC().Format(time.RFC3339), w.last.Message)
	ev.Data, _ = json.Marshal(aggData{Kind: k.kind, Route: k.route, Count: w.more, From: w.start, To: now})
	a.emit(ev, k.route, w.more)
}

// flush ends every open window now (at shutdown).
func (a *auditAggregator) flush() {
	a.mu.Lock()
	open := a.open
	a.open = map[aggKey]*aggWindow{}
	a.mu.Unlock()
	for k, w := range open {
		w.timer.Stop()
		a.summarize(k, w)
	}
}

// auditEvent is the audit event of req answered status.
func auditEvent(req *request, status int, detail string) api.Event {
	outcome := fmt.Sprintf("%d %s", status, http.StatusText(status))
	msg := fmt.Sprintf("%s %s by %s: %s", req.action, req.object, req.who.Name, outcome)
	if detail != "" {
		msg += " (" + clip(detail) + ")"
	}
	return api.Event{Time: time.Now(), Type: api.EventAudit, Object: req.object, Actor: req.who.Name,
		Action: req.action, Outcome: outcome, Message: msg}
}

// auditRefusal records a refused mutating request (aggregated).
func (s *Server) auditRefusal(req *request, p *problem) {
	s.audits.record(aggKey{req.who.Name, req.r.Pattern, auditRefused}, auditEvent(req, p.Status, p.Detail))
}

// auditReplay records a replayed Idempotency-Key (aggregated).
func (s *Server) auditReplay(req *request, out *outcome) {
	if out.Location != "" {
		// A create names its object in the body, which a replay does not
		// decode: the recorded Location names it.
		req.object = strings.TrimPrefix(out.Location, "/v1/")
	}
	ev := auditEvent(req, out.Status, "")
	ev.Outcome += " (replayed)"
	ev.Message = fmt.Sprintf("%s %s by %s: %s, replayed from its Idempotency-Key", req.action, req.object, req.who.Name, ev.Outcome)
	s.audits.record(aggKey{req.who.Name, req.r.Pattern, auditReplayed}, ev)
}

// emitAudit stores an aggregated audit event in the background and logs it.
func (s *Server) emitAudit(ev api.Event, route string, count int) {
	s.engine.Emit(ev)
	s.logAudit(ev, route, count)
}

// logAudit writes the log line of an audit event.
func (s *Server) logAudit(ev api.Event, route string, count int) {
	s.log.Info("audit", "actor", ev.Actor, "action", ev.Action, "object", ev.Object, "outcome", ev.Outcome,
		"route", route, "count", count)
}

// Close ends the open audit windows, storing their summaries. Call it
// after the HTTP server stopped and before the engine closes.
func (s *Server) Close() { s.audits.flush() }
