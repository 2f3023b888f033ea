package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/engine"
	"github.com/hatopo/terraform-provider-failover/internal/topology"
)

func notFound(k api.Kind, name string) *problem {
	return &problem{Status: http.StatusNotFound, Title: "Not Found",
		Detail: fmt.Sprintf("no %s named %q", kindNoun(k), name)}
}

// kindNoun names one object of kind k in messages: "health check".
func kindNoun(k api.Kind) string {
	if spec := api.Spec(k); spec != nil {
		return spec.Noun
	}
	return string(k)
}

func (s *Server) handleList(k api.Kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, api.List[api.Object]{Items: s.engine.List(k)})
	}
}

func (s *Server) handleGet(k api.Kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		o, ok := s.engine.Get(k, name)
		if !ok {
			writeProblem(w, notFound(k, name))
			return
		}
		w.Header().Set("ETag", etag(o.ObjectVersion()))
		writeJSON(w, http.StatusOK, o)
	}
}

// objectOutcome is the response to a successful write: the object as a
// GET will return it.
func (s *Server) objectOutcome(status int, o api.Object) *outcome {
	b, _ := json.Marshal(s.engine.Decorate(o))
	out := &outcome{Status: status, ETag: etag(o.ObjectVersion()), Body: append(b, '\n')}
	if status == http.StatusCreated {
		out.Location = api.ObjectPath(o.ObjectKind(), o.ObjectName())
	}
	return out
}

func (s *Server) handleCreate(k api.Kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mutate(w, r, "create", string(k), func(req *request) (*engine.Change, *outcome, *problem) {
			o, probs, decoded := decodeObject(k, req.body, "")
			req.object = string(k) + "/" + o.ObjectName()
			if !decoded {
				return nil, nil, invalid(probs)
			}
			if _, exists := s.engine.Get(k, o.ObjectName()); exists {
				return nil, nil, &problem{Status: http.StatusConflict, Title: "Already Exists",
					Detail: fmt.Sprintf("a %s named %q already exists: choose another name, update it with PUT, or import it into Terraform (terraform import <address> %s)",
						kindNoun(k), o.ObjectName(), o.ObjectName())}
			}
			if rs, ok := o.(api.ReplicaSet); ok {
				rs.MemberIDs = topology.AssignMemberIDs(nil, rs.Members)
				o = rs
			}
			// A bad name is one problem among the others: list them all.
			if probs = append(probs, s.validate(o)...); len(probs) > 0 {
				return nil, nil, invalid(probs)
			}
			o = api.WithVersion(o, 1)
			return &engine.Change{Kind: k, Name: o.ObjectName(), Object: o}, s.objectOutcome(http.StatusCreated, o), nil
		})
	}
}

// checkIfMatch enforces If-Match against the current version: 400 when it
// is malformed, 412 when no listed tag matches (RFC 9110 §13.1.1).
func checkIfMatch(r *http.Request, cur api.Object) *problem {
	m, err := parseIfMatch(r.Header)
	if err != nil {
		return &problem{Status: http.StatusBadRequest, Title: "Invalid If-Match", Detail: err.Error()}
	}
	if m.matches(cur.ObjectVersion()) {
		return nil
	}
	detail := fmt.Sprintf("%s %q is at version %d (ETag %s), which If-Match %s does not name: someone else changed it; read it again, reconcile, and retry (terraform: run plan/apply again to see the change)",
		kindNoun(cur.ObjectKind()), cur.ObjectName(), cur.ObjectVersion(), etag(cur.ObjectVersion()), clip(strings.Join(r.Header.Values("If-Match"), ", ")))
	for _, t := range m.tags {
		if t.weak && t.opaque == strconv.FormatUint(cur.ObjectVersion(), 10) {
			detail += "; a weak tag (W/) never matches If-Match: send the strong ETag " + etag(cur.ObjectVersion())
			break
		}
	}
	return &problem{Status: http.StatusPreconditionFailed, Title: "Precondition Failed", Detail: detail}
}

func (s *Server) handleUpdate(k api.Kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		s.mutate(w, r, "update", string(k)+"/"+name, func(req *request) (*engine.Change, *outcome, *problem) {
			cur, ok := s.engine.Get(k, name)
			if !ok {
				return nil, nil, notFound(k, name)
			}
			if p := checkIfMatch(r, cur); p != nil {
				return nil, nil, p
			}
			o, probs, decoded := decodeObject(k, req.body, name)
			if !decoded {
				return nil, nil, invalid(probs)
			}
			// The URL names the object being updated; a body naming another
			// one is reported above and judged as this one below.
			o = api.WithName(o, name)
			switch x := o.(type) {
			case api.BurstToggle:
				// Omitted engaged keeps the operator's state: Terraform
				// without `engaged` never reverts a 4 a.m. flip.
				if x.Engaged == nil {
					x.Engaged = cur.(api.BurstToggle).Engaged
				}
				o = x
			case api.ReplicaSet:
				x.MemberIDs = topology.AssignMemberIDs(cur.(api.ReplicaSet).MemberIDs, x.Members)
				o = x
			}
			if probs = append(probs, s.validate(o)...); len(probs) > 0 {
				return nil, nil, invalid(probs)
			}
			if sameObject(cur, o) {
				return nil, s.objectOutcome(http.StatusOK, cur), nil
			}
			o = api.WithVersion(o, cur.ObjectVersion()+1)
			return &engine.Change{Kind: k, Name: name, Object: o}, s.objectOutcome(http.StatusOK, o), nil
		})
	}
}

// sameObject reports whether an update changes nothing, so a no-op PUT
// neither bumps the version nor writes.
func sameObject(cur, next api.Object) bool {
	a, _ := json.Marshal(api.StripComputed(api.WithVersion(cur, 0)))
	b, _ := json.Marshal(api.StripComputed(api.WithVersion(next, 0)))
	return bytes.Equal(a, b)
}

func (s *Server) handleDelete(k api.Kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		s.mutate(w, r, "delete", string(k)+"/"+name, func(req *request) (*engine.Change, *outcome, *problem) {
			cur, ok := s.engine.Get(k, name)
			if !ok {
				return nil, nil, notFound(k, name)
			}
			if p := checkIfMatch(r, cur); p != nil {
				return nil, nil, p
			}
			if refs := s.engine.Referrers(k, name); len(refs) > 0 {
				return nil, nil, &problem{Status: http.StatusConflict, Title: "Still Referenced",
					Detail: fmt.Sprintf("%s %q is used by %v: remove those references first (in Terraform, delete or change the referrers in the same apply)",
						kindNoun(k), name, refs), Referrers: refs}
			}
			ch := &engine.Change{Kind: k, Name: name}
			if k == api.KindTrafficPolicy {
				ch.Override = &engine.OverrideChange{Policy: name}
			}
			return ch, &outcome{Status: http.StatusNoContent}, nil
		})
	}
}

// decodeObject strictly decodes a body of kind k, drops the fields the
// server computes (a client may send back what it read), fills defaults
// and checks the name. urlName, when set, must match the body's name.
// decoded reports whether the body itself was usable; when it was, the
// problems are the explicit zeros' and the name's only, to be listed with
// the object's others.
func decodeObject(k api.Kind, body []byte, urlName string) (o api.Object, probs api.Problems, decoded bool) {
	o, zeros, probs := api.Spec(k).DecodeRequest(body)
	name := o.ObjectName()
	if urlName != "" && name == "" {
		name = urlName
		o = api.WithName(o, name)
	}
	if len(probs) > 0 {
		return o, probs, false
	}
	probs = zeros
	if urlName != "" && name != urlName {
		probs.Add("name", "is %q but the URL names %q: names are immutable; create a new object to rename", name, urlName)
	}
	api.CheckName(&probs, "name", name)
	return o, probs, true
}
