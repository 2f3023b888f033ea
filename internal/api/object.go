package api

import (
	"encoding/json"
	"fmt"
)

// Object is any declared object: the four kinds share identity (name),
// optimistic concurrency (version) and storage.
type Object interface {
	ObjectKind() Kind
	ObjectName() string
	ObjectVersion() uint64
}

// KindSpec is everything generic code (the API server, the engine, the Go
// client) knows about one kind of declared object. The table of specs
// below is the one place that lists the kinds' Go types: a new kind is one
// entry here and its methods at the end of this file, not a case in every
// package's type switch (blackbox_exporter's Probers map is the model).
type KindSpec struct {
	Kind Kind
	// Noun names one object of the kind in messages: "health check".
	Noun string

	zero          func() Object
	decodeStored  func(b []byte) (Object, error)
	decodeRequest func(body []byte) (o Object, zeros, probs Problems)
	withName      func(o Object, name string) Object
	withVersion   func(o Object, v uint64) Object
	stripComputed func(o Object) Object
}

// specs is the table of kinds, in the order of Kinds.
var specs = map[Kind]*KindSpec{
	KindHealthCheck:   newSpec[HealthCheck](KindHealthCheck, "health check"),
	KindTrafficPolicy: newSpec[TrafficPolicy](KindTrafficPolicy, "traffic policy"),
	KindReplicaSet:    newSpec[ReplicaSet](KindReplicaSet, "replica set"),
	KindBurstToggle:   newSpec[BurstToggle](KindBurstToggle, "burst toggle"),
	KindWebhook:       newSpec[Webhook](KindWebhook, "webhook"),
}

// Spec returns the spec of kind k; nil for a kind that does not exist.
func Spec(k Kind) *KindSpec { return specs[k] }

// specOf is the spec of o's kind. Every Object is one of the table's types,
// so a miss is a programming error.
func specOf(o Object) *KindSpec {
	s := specs[o.ObjectKind()]
	if s == nil {
		panic(fmt.Sprintf("api: %T has no entry in the table of kinds", o))
	}
	return s
}

// New returns the zero value of the kind's type.
func (s *KindSpec) New() Object { return s.zero() }

// DecodeStored decodes a stored object (lenient: stored bytes were
// validated when written).
func (s *KindSpec) DecodeStored(b []byte) (Object, error) {
	o, err := s.decodeStored(b)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", s.Kind, err)
	}
	return o, nil
}

// DecodeRequest strictly decodes a request body (Decode), drops what
// failoverd assigns — its version, the fields it computes on every read,
// and assigned identities such as a replica set's member _ids — so a client
// may send back what it read, and fills the defaults. probs are the body's
// own problems (the object is not usable when there are any); zeros are
// those of explicit zeros where zero means "the default", to be listed
// with the object's other problems.
func (s *KindSpec) DecodeRequest(body []byte) (o Object, zeros, probs Problems) {
	return s.decodeRequest(body)
}

// DecodeObject decodes a stored object of kind k.
func DecodeObject(k Kind, b []byte) (Object, error) {
	s := specs[k]
	if s == nil {
		return nil, fmt.Errorf("unknown kind %q", k)
	}
	return s.DecodeStored(b)
}

// WithVersion returns a copy of o carrying version v.
func WithVersion(o Object, v uint64) Object { return specOf(o).withVersion(o, v) }

// WithName returns a copy of o named name.
func WithName(o Object, name string) Object { return specOf(o).withName(o, name) }

// StripComputed returns a copy of o without the fields failoverd computes
// on every read (a policy's fqdn, a replica set's analysis, a toggle's url
// and effective state): they are never stored, so they can never go stale.
func StripComputed(o Object) Object { return specOf(o).stripComputed(o) }

// KindOf parses a URL segment into a Kind.
func KindOf(s string) (Kind, bool) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, true
		}
	}
	return "", false
}

// object is what a kind's Go type provides to its table entry: the
// exported Object methods on the value, the rest on the pointer.
type object[T any] interface {
	*T
	Object
	NormalizeExplicit(ExplicitZeros) Problems
	setName(string)
	setVersion(uint64)
	// stripComputed clears the fields computed on every read.
	stripComputed()
	// stripAssigned clears every field failoverd assigns, the computed
	// ones included; a request cannot set them.
	stripAssigned()
}

// newSpec writes a table entry once for every kind.
func newSpec[T any, P object[T]](k Kind, noun string) *KindSpec {
	if got := Object(P(new(T))).ObjectKind(); got != k {
		panic(fmt.Sprintf("api: %T reports kind %q, not %q", *new(T), got, k))
	}
	return &KindSpec{
		Kind: k,
		Noun: noun,
		zero: func() Object { return value(*new(T)) },
		decodeStored: func(b []byte) (Object, error) {
			var x T
			if err := json.Unmarshal(b, &x); err != nil {
				return nil, err
			}
			return value(x), nil
		},
		decodeRequest: func(body []byte) (Object, Problems, Problems) {
			var x T
			explicit, probs := Decode(body, &x)
			P(&x).stripAssigned()
			zeros := P(&x).NormalizeExplicit(explicit)
			return value(x), zeros, probs
		},
		withName: func(o Object, name string) Object {
			x := o.(T)
			P(&x).setName(name)
			return value(x)
		},
		withVersion: func(o Object, v uint64) Object {
			x := o.(T)
			P(&x).setVersion(v)
			return value(x)
		},
		stripComputed: func(o Object) Object {
			x := o.(T)
			P(&x).stripComputed()
			return value(x)
		},
	}
}

// value is x as an Object: objects travel by value, so a copy held
// elsewhere never changes under its holder. (T's value methods make it an
// Object; object[T] guarantees them.)
func value[T any](x T) Object { return any(x).(Object) }

func (c HealthCheck) ObjectKind() Kind        { return KindHealthCheck }
func (c HealthCheck) ObjectName() string      { return c.Name }
func (c HealthCheck) ObjectVersion() uint64   { return c.Version }
func (c *HealthCheck) setName(n string)       { c.Name = n }
func (c *HealthCheck) setVersion(v uint64)    { c.Version = v }
func (c *HealthCheck) stripComputed()         { c.Warnings = nil }
func (c *HealthCheck) stripAssigned()         { c.Version = 0 }
func (p TrafficPolicy) ObjectKind() Kind      { return KindTrafficPolicy }
func (p TrafficPolicy) ObjectName() string    { return p.Name }
func (p TrafficPolicy) ObjectVersion() uint64 { return p.Version }
func (p *TrafficPolicy) setName(n string)     { p.Name = n }
func (p *TrafficPolicy) setVersion(v uint64)  { p.Version = v }
func (p *TrafficPolicy) stripComputed() {
	p.FQDN, p.WorstCaseFailoverSeconds, p.Warnings = "", 0, nil
}
func (p *TrafficPolicy) stripAssigned()    { p.stripComputed(); p.Version = 0 }
func (r ReplicaSet) ObjectKind() Kind      { return KindReplicaSet }
func (r ReplicaSet) ObjectName() string    { return r.Name }
func (r ReplicaSet) ObjectVersion() uint64 { return r.Version }
func (r *ReplicaSet) setName(n string)     { r.Name = n }
func (r *ReplicaSet) setVersion(v uint64)  { r.Version = v }
func (r *ReplicaSet) stripComputed()       { r.Analysis = nil }

// stripAssigned also drops member_ids: failoverd assigns them (stored,
// so an _id stays with its member), and a client never chooses them.
func (r *ReplicaSet) stripAssigned()        { r.stripComputed(); r.MemberIDs, r.Version = nil, 0 }
func (t BurstToggle) ObjectKind() Kind      { return KindBurstToggle }
func (t BurstToggle) ObjectName() string    { return t.Name }
func (t BurstToggle) ObjectVersion() uint64 { return t.Version }
func (t *BurstToggle) setName(n string)     { t.Name = n }
func (t *BurstToggle) setVersion(v uint64)  { t.Version = v }
func (t *BurstToggle) stripComputed()       { t.URL, t.Effective = "", nil }
func (t *BurstToggle) stripAssigned()       { t.stripComputed(); t.Version = 0 }
func (w Webhook) ObjectKind() Kind          { return KindWebhook }
func (w Webhook) ObjectName() string        { return w.Name }
func (w Webhook) ObjectVersion() uint64     { return w.Version }
func (w *Webhook) setName(n string)         { w.Name = n }
func (w *Webhook) setVersion(v uint64)      { w.Version = v }
func (w *Webhook) stripComputed()           {}
func (w *Webhook) stripAssigned()           { w.Version = 0 }
