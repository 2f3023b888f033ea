package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/engine"
	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// request is one mutating API request as build functions see it.
type request struct {
	r    *http.Request
	body []byte
	who  Identity
	// action and object name the audit event.
	action, object string
}

// buildFn validates a request against the current world (it runs under
// the engine's write lock) and returns the change to commit and the
// response to send — or a problem. A nil change with an outcome answers
// without changing any object (a no-op update); only its audit event and
// idempotency record are written.
type buildFn func(req *request) (*engine.Change, *outcome, *problem)

// mutate runs every mutating request the same way: a JSON media type,
// bounded body, Idempotency-Key replay, validation and commit under one
// lock, an audit event in the same atomic batch as the change, and one
// response.
func (s *Server) mutate(w http.ResponseWriter, r *http.Request, action, object string, build buildFn) {
	req := &request{r: r, who: identityFrom(r.Context()), action: action, object: object}
	// Refused before a byte of the body is read (instrument then ends the
	// connection rather than read the body).
	if p := checkContentType(r); p != nil {
		w.Header().Set("Accept", "application/json")
		s.reject(req, p, w)
		return
	}
	body, err := readBody(r, s.maxBody)
	if errors.Is(err, errTooLarge) {
		s.reject(req, &problem{Status: http.StatusRequestEntityTooLarge, Title: "Request Too Large",
			Detail: fmt.Sprintf("the body is over %d bytes: split the object or shorten it", s.maxBody)}, w)
		return
	}
	if err != nil {
		s.reject(req, &problem{Status: http.StatusBadRequest, Title: "Unreadable Body", Detail: err.Error()}, w)
		return
	}
	req.body = body
	key := r.Header.Get("Idempotency-Key")
	if key != "" && !validIdempotencyKey(key) {
		s.reject(req, &problem{Status: http.StatusBadRequest, Title: "Invalid Idempotency-Key",
			Detail: fmt.Sprintf("use 1–%d printable ASCII characters without spaces, e.g. a UUID", maxIdempotencyKey)}, w)
		return
	}
	fp := fingerprint(r, body)
	var (
		out      *outcome
		prob     *problem
		replayed bool
		applied  api.Event
	)
	// recorded looks for the outcome recorded under the request's key: a
	// replay of it, or a problem when the key was used for another request.
	recorded := func(ctx context.Context) (bool, error) {
		if key == "" {
			return false, nil
		}
		rec, err := s.lookupOutcome(ctx, idemKey(req.who.Name, key))
		switch {
		case err != nil:
			return false, err
		case rec == nil:
			return false, nil
		case rec.Fingerprint != fp:
			prob = &problem{Status: http.StatusUnprocessableEntity, Title: "Idempotency-Key Reused",
				Detail: "this Idempotency-Key was already used for a different request: send a new key for a new request"}
		default:
			out, replayed = rec, true
		}
		return true, nil
	}
	err = s.engine.Mutate(r.Context(), func() (*engine.Change, error) {
		if found, err := recorded(r.Context()); found || err != nil {
			return nil, err
		}
		ch, o, p := build(req)
		if p != nil {
			prob = p
			return nil, nil
		}
		out = o
		if ch == nil {
			// A no-op (identical PUT, engaging an engaged toggle) writes no
			// object but is still a mutating request: commit its audit
			// event and outcome, so a retry replays it instead of applying
			// the body over a change made in between.
			ch = &engine.Change{}
		}
		applied = auditEvent(req, o.Status, "")
		ch.Audit = applied
		if key != "" {
			o.Fingerprint = fp
			k := idemKey(req.who.Name, key)
			ch.Extra = append(ch.Extra, o.kv(k))
			// Another node may be applying the same request right now
			// (a client retrying on another endpoint): only one outcome
			// is recorded, and the loser replays it below.
			ch.Conditions = append(ch.Conditions, store.Condition{Bucket: store.BucketIdempotency, Key: k, Absent: true})
		}
		return ch, nil
	})
	if errors.Is(err, store.ErrConflict) {
		// The conflict may be the outcome another node recorded for this
		// key meanwhile: answer with it, as a replay. Nothing of this
		// request was written, so its own outcome is dropped.
		out, prob = nil, nil
		if found, lerr := recorded(context.WithoutCancel(r.Context())); found {
			err = nil
		} else if lerr != nil {
			err = lerr
		}
	}
	switch {
	case err != nil && errors.Is(err, context.Canceled):
		return // the client went away before anything was written
	case err != nil:
		s.log.Error("mutation failed", "action", action, "object", object, "err", err)
		s.reject(req, storeError(err), w)
	case prob != nil:
		s.reject(req, prob, w)
	case replayed:
		s.auditReplay(req, out)
		out.write(w, true)
	default:
		s.logAudit(applied, r.Pattern, 1)
		out.write(w, false)
	}
}

// reject answers a refused mutation and records it in the audit log.
func (s *Server) reject(req *request, p *problem, w http.ResponseWriter) {
	s.auditRefusal(req, p)
	writeProblemFor(w, p, len(req.body))
}
