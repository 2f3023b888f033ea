package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// The drill routes: a client of the drill runner, as the other routes are
// of the engine. Without a runner (Options.Drills nil) they answer 503.

// abortWait bounds how long an abort waits for the drill to restore
// automatic routing before answering.
const abortWait = 30 * time.Second

func (s *Server) noDrills(w http.ResponseWriter) bool {
	if s.drills != nil {
		return false
	}
	writeProblem(w, &problem{Status: http.StatusServiceUnavailable, Title: "Drills Unavailable",
		Detail: "this failoverd runs no drill runner"})
	return true
}

// drillProblem answers a runner error: its own problem, or a store failure.
func drillProblem(err error) *problem {
	var p *api.Problem
	if errors.As(err, &p) {
		return p
	}
	return storeError(err)
}

func (s *Server) handleStartDrill(w http.ResponseWriter, r *http.Request) {
	if s.noDrills(w) {
		return
	}
	name := r.PathValue("name")
	req := &request{r: r, who: identityFrom(r.Context()), action: "drill run", object: string(api.KindTrafficPolicy) + "/" + name}
	if p := checkContentType(r); p != nil {
		w.Header().Set("Accept", "application/json")
		s.reject(req, p, w)
		return
	}
	body, err := readBody(r, s.maxBody)
	if errors.Is(err, errTooLarge) {
		s.reject(req, &problem{Status: http.StatusRequestEntityTooLarge, Title: "Request Too Large",
			Detail: fmt.Sprintf("the body is over %d bytes", s.maxBody)}, w)
		return
	}
	if err != nil {
		s.reject(req, &problem{Status: http.StatusBadRequest, Title: "Unreadable Body", Detail: err.Error()}, w)
		return
	}
	req.body = body
	var dr api.DrillRequest
	if probs := decodeStrict(body, &dr); len(probs) > 0 {
		s.reject(req, invalid(probs), w)
		return
	}
	// A retried POST cannot start a second drill: one runs per policy at a
	// time, and the retry is refused with 409 naming the first.
	d, err := s.drills.Start(r.Context(), req.who.Name, name, dr)
	if err != nil {
		s.reject(req, drillProblem(err), w)
		return
	}
	ev := auditEvent(req, http.StatusAccepted, "drill "+d.ID)
	s.emitAudit(ev, r.Pattern, 1)
	w.Header().Set("Location", "/v1/drills/"+d.ID)
	writeJSON(w, http.StatusAccepted, d)
}

func (s *Server) handleListDrills(w http.ResponseWriter, r *http.Request) {
	if s.noDrills(w) {
		return
	}
	ds, err := s.drills.List(r.Context(), r.URL.Query().Get("policy"))
	if err != nil {
		writeProblem(w, drillProblem(err))
		return
	}
	writeJSON(w, http.StatusOK, api.List[api.Drill]{Items: ds})
}

func (s *Server) handleGetDrill(w http.ResponseWriter, r *http.Request) {
	if s.noDrills(w) {
		return
	}
	d, err := s.drills.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		writeProblem(w, drillProblem(err))
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) handleAbortDrill(w http.ResponseWriter, r *http.Request) {
	if s.noDrills(w) {
		return
	}
	id := r.PathValue("id")
	req := &request{r: r, who: identityFrom(r.Context()), action: "drill abort", object: "drills/" + id}
	ctx, cancel := context.WithTimeout(r.Context(), abortWait)
	defer cancel()
	d, err := s.drills.Abort(ctx, id)
	if err != nil {
		s.reject(req, drillProblem(err), w)
		return
	}
	s.emitAudit(auditEvent(req, http.StatusOK, ""), r.Pattern, 1)
	writeJSON(w, http.StatusOK, d)
}
