package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/engine"
	"github.com/hatopo/terraform-provider-failover/internal/publish"
	"github.com/hatopo/terraform-provider-failover/internal/topology"
	"github.com/hatopo/terraform-provider-failover/internal/webhook"
)

func (s *Server) handlePatchBurst(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	s.mutate(w, r, "patch", string(api.KindBurstToggle)+"/"+name, func(req *request) (*engine.Change, *outcome, *problem) {
		var patch api.BurstPatch
		if probs := decodeStrict(req.body, &patch); len(probs) > 0 {
			return nil, nil, invalid(probs)
		}
		if patch.Engaged == nil {
			var p api.Problems
			p.Add("engaged", "is required: send {\"engaged\": true} to engage or {\"engaged\": false} to release")
			return nil, nil, invalid(p)
		}
		if *patch.Engaged {
			req.action = "engage"
		} else {
			req.action = "release"
		}
		cur, ok := s.engine.Get(api.KindBurstToggle, name)
		if !ok {
			return nil, nil, notFound(api.KindBurstToggle, name)
		}
		if p := checkIfMatch(r, cur); p != nil {
			return nil, nil, p
		}
		t := api.StripComputed(cur).(api.BurstToggle)
		if api.Bool(t.Engaged, false) == *patch.Engaged {
			return nil, s.objectOutcome(http.StatusOK, cur), nil
		}
		t.Engaged = patch.Engaged
		t.Version++
		return &engine.Change{Kind: api.KindBurstToggle, Name: name, Object: t}, s.objectOutcome(http.StatusOK, t), nil
	})
}

func (s *Server) handleHealthStatus(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	st, ok := s.engine.HealthStatus(name)
	if !ok {
		writeProblem(w, notFound(api.KindHealthCheck, name))
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) handleDecision(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	d, ok := s.engine.Decision(name)
	if !ok {
		writeProblem(w, notFound(api.KindTrafficPolicy, name))
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// handlePolicyStatus answers the decision and where its publication
// stands at each destination of the policy's publish block, read from
// the store, so every node of a cluster answers what the leader's
// publisher last recorded.
func (s *Server) handlePolicyStatus(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	d, ok := s.engine.Decision(name)
	if !ok {
		writeProblem(w, notFound(api.KindTrafficPolicy, name))
		return
	}
	ps, err := publish.ReadStatus(r.Context(), s.store, name, time.Now())
	if err != nil {
		writeProblem(w, &problem{Status: http.StatusServiceUnavailable, Title: "Store Unavailable",
			Detail: "cannot read the publication status: " + err.Error() + "; retry, or ask another node"})
		return
	}
	writeJSON(w, http.StatusOK, api.PolicyStatus{Policy: name, Decision: d, Publish: ps})
}

// handleWebhookStatus answers where delivery to a webhook stands, read
// from the store (the leader's dispatcher records it).
func (s *Server) handleWebhookStatus(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if _, ok := s.engine.Get(api.KindWebhook, name); !ok {
		writeProblem(w, notFound(api.KindWebhook, name))
		return
	}
	st, err := webhook.ReadStatus(r.Context(), s.store, name, time.Now())
	if err != nil {
		writeProblem(w, &problem{Status: http.StatusServiceUnavailable, Title: "Store Unavailable",
			Detail: "cannot read the webhook's delivery status: " + err.Error() + "; retry, or ask another node"})
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) decisionOutcome(d api.Decision) *outcome {
	b, _ := json.Marshal(d)
	return &outcome{Status: http.StatusOK, Body: append(b, '\n')}
}

func (s *Server) handleSetOverride(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	s.mutate(w, r, "override set", string(api.KindTrafficPolicy)+"/"+name, func(req *request) (*engine.Change, *outcome, *problem) {
		var ov api.Override
		if probs := decodeStrict(req.body, &ov); len(probs) > 0 {
			return nil, nil, invalid(probs)
		}
		o, ok := s.engine.Get(api.KindTrafficPolicy, name)
		if !ok {
			return nil, nil, notFound(api.KindTrafficPolicy, name)
		}
		pol := o.(api.TrafficPolicy)
		now := time.Now()
		var p api.Problems
		if _, ok := pol.Targets[ov.Target]; !ok {
			p.Add("target", "policy %q has no target %q: use one of %v", name, ov.Target, api.SortedKeys(pol.Targets))
		} else if th, _ := s.engine.TargetHealth(name, ov.Target); !th.Up && !ov.Force {
			// Pinning traffic to a dead target at 4 a.m. must be a choice,
			// not a typo.
			p.Add("force", "target %q is down right now (its health checks say so, since %s): an override would send every client to it; if the checks are wrong, set force = true with a reason (CLI: --force --reason TEXT), or pin another target",
				ov.Target, th.Since.UTC().Format(time.RFC3339))
		}
		if ov.Force && strings.TrimSpace(ov.Reason) == "" {
			p.Add("reason", "is required with force: say why traffic goes to a target that may be down (e.g. a ticket number), for the event log")
		}
		switch {
		case ov.ExpiresAt.IsZero():
			p.Add("expires_at", "is required: an override must end by itself (e.g. now + 30m) so a forgotten pin never outlives the incident")
		case !ov.ExpiresAt.After(now):
			p.Add("expires_at", "%s is in the past: set a future time", ov.ExpiresAt.Format(time.RFC3339))
		case ov.ExpiresAt.Sub(now) > s.maxOverride:
			p.Add("expires_at", "is more than %s ahead: pin for less, or change the policy itself for a lasting change", s.maxOverride)
		}
		if len(ov.Reason) > 1024 {
			p.Add("reason", "is longer than 1024 characters: shorten it")
		}
		if len(p) > 0 {
			return nil, nil, invalid(p)
		}
		ov.SetBy = req.who.Name
		ov.ExpiresAt = ov.ExpiresAt.UTC()
		d, err := s.engine.PreviewOverride(name, &ov)
		if err != nil {
			return nil, nil, notFound(api.KindTrafficPolicy, name)
		}
		return &engine.Change{Override: &engine.OverrideChange{Policy: name, Set: &ov}}, s.decisionOutcome(d), nil
	})
}

func (s *Server) handleClearOverride(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	s.mutate(w, r, "override clear", string(api.KindTrafficPolicy)+"/"+name, func(req *request) (*engine.Change, *outcome, *problem) {
		if _, ok := s.engine.Get(api.KindTrafficPolicy, name); !ok {
			return nil, nil, notFound(api.KindTrafficPolicy, name)
		}
		d, err := s.engine.PreviewOverride(name, nil)
		if err != nil {
			return nil, nil, notFound(api.KindTrafficPolicy, name)
		}
		// Clearing is also how an operator performs a manual failback, so
		// it always re-evaluates, override or not.
		return &engine.Change{Override: &engine.OverrideChange{Policy: name}}, s.decisionOutcome(d), nil
	})
}

func (s *Server) handleReplicaStatus(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	st, ok := s.engine.ReplicaSetStatus(name)
	if !ok {
		writeProblem(w, notFound(api.KindReplicaSet, name))
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) handleReplicaConfig(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	o, ok := s.engine.Get(api.KindReplicaSet, name)
	if !ok {
		writeProblem(w, notFound(api.KindReplicaSet, name))
		return
	}
	rs := o.(api.ReplicaSet)
	writeJSON(w, http.StatusOK, topology.RenderConfig(rs, rs.MemberIDs, int(rs.Version)))
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	st := s.engine.Status(s.version)
	// Publications and deliveries are read from the store, where the
	// leader records them. A store that cannot answer leaves them out:
	// the rest of the status is what an operator needs most at 4 a.m.
	now := time.Now()
	if ps, err := publish.ReadStatus(r.Context(), s.store, "", now); err == nil {
		st.Publish = ps
	}
	for _, w := range s.engine.Webhooks() {
		if ws, err := webhook.ReadStatus(r.Context(), s.store, w.Name, now); err == nil {
			st.Webhooks = append(st.Webhooks, ws)
		}
	}
	writeJSON(w, http.StatusOK, st)
}

// handleWhoami names the caller's token and scope (the console shows the
// buttons an operate token may use), and the newest event's sequence
// number, so a client can follow the event stream from now.
func (s *Server) handleWhoami(w http.ResponseWriter, r *http.Request) {
	id := identityFrom(r.Context())
	_, last := s.engine.WaitEvents()
	writeJSON(w, http.StatusOK, api.Whoami{Name: id.Name, Scope: id.Scope.String(), LastEventSeq: last})
}

// handleCluster answers this node's view of the control plane: its role,
// the leader, the members and their freshness, its link to the store.
func (s *Server) handleCluster(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.engine.ClusterStatus())
}

// handleBurst answers a load balancer's health check from the current
// snapshot: no auth (LBs cannot send tokens), no lock, no store read.
func (s *Server) handleBurst(w http.ResponseWriter, r *http.Request) {
	a, ok := s.engine.Snapshot().Burst(r.PathValue("name"))
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	status := http.StatusServiceUnavailable
	switch {
	case !ok:
		writeRaw(w, http.StatusNotFound, "text/plain; charset=utf-8", []byte("unknown burst toggle"))
		return
	case a.Engaged:
		status = http.StatusOK
	}
	// The body is exactly the configured string, no trailing newline: load
	// balancers' receive strings often match the whole body.
	h.Set("Content-Length", strconv.Itoa(len(a.Body)))
	w.WriteHeader(status)
	w.Write([]byte(a.Body))
}

const (
	defaultEventLimit = 100
	maxEventLimit     = 1000
	sseKeepalive      = 15 * time.Second
)

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var p api.Problems
	since, limit := uint64(0), defaultEventLimit
	if v := q.Get("since"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			p.Add("since", "%q is not an event sequence number: use the seq of the last event you saw (0 for all)", v)
		}
		since = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxEventLimit {
			p.Add("limit", "must be a whole number from 1 to %d", maxEventLimit)
		}
		limit = n
	}
	follow := q.Get("follow") == "1" || q.Get("follow") == "true"
	read := s.engine.Events
	switch v := q.Get("type"); v {
	case "":
	case api.EventAudit:
		// The audit log: every mutation, kept for at least 400 days
		// however many other events there are.
		read = s.engine.AuditEvents
	default:
		p.Add("type", "%q cannot be selected: use type=audit for the audit log, or leave type out for every event", v)
	}
	if len(p) > 0 {
		writeProblem(w, invalid(p))
		return
	}
	if !follow {
		evs, err := read(r.Context(), since, limit)
		if err != nil {
			writeProblem(w, storeError(err))
			return
		}
		writeJSON(w, http.StatusOK, api.List[api.Event]{Items: evs})
		return
	}
	s.followEvents(w, r, since, read)
}

// eventReader reads one of the logs: Engine.Events or Engine.AuditEvents.
type eventReader func(ctx context.Context, after uint64, limit int) ([]api.Event, error)

// followEvents streams events as server-sent events. It re-reads the log
// from the store after each wake-up, so a slow reader never blocks the
// engine and never misses an event; Last-Event-ID resumes a dropped stream.
//
// A stream outlives the server's WriteTimeout, so each write gets its own
// WriteTimeout instead: a client that stops reading is dropped rather than
// held forever. (ReadTimeout does not end it: once the request is read,
// net/http watches the connection without a deadline, and a client that
// leaves cancels the request.)
func (s *Server) followEvents(w http.ResponseWriter, r *http.Request, since uint64, read eventReader) {
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		if n, err := strconv.ParseUint(id, 10, 64); err == nil {
			since = n
		}
	}
	if _, ok := w.(http.Flusher); !ok {
		writeProblem(w, &problem{Status: http.StatusInternalServerError, Title: "Streaming Unsupported"})
		return
	}
	rc := http.NewResponseController(w)
	// send writes what fn writes with a fresh write deadline, and reports
	// whether it reached the client.
	send := func(fn func()) bool {
		rc.SetWriteDeadline(time.Now().Add(WriteTimeout))
		fn()
		return rc.Flush() == nil
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	if !send(func() { w.WriteHeader(http.StatusOK) }) {
		return
	}
	keepalive := time.NewTicker(sseKeepalive)
	defer keepalive.Stop()
	for {
		wake, _ := s.engine.WaitEvents()
		for {
			evs, err := read(r.Context(), since, maxEventLimit)
			if err != nil {
				return
			}
			ok := send(func() {
				for _, ev := range evs {
					b, _ := json.Marshal(ev)
					fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", ev.Seq, ev.Type, b)
					since = ev.Seq
				}
			})
			if !ok {
				return
			}
			if len(evs) < maxEventLimit {
				break
			}
		}
		select {
		case <-r.Context().Done():
			return
		case <-wake:
		case <-keepalive.C:
			if !send(func() { fmt.Fprint(w, ": keepalive\n\n") }) {
				return
			}
		}
	}
}
