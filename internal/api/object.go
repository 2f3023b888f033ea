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

func (c HealthCheck) ObjectKind() Kind        { return KindHealthCheck }
func (c HealthCheck) ObjectName() string      { return c.Name }
func (c HealthCheck) ObjectVersion() uint64   { return c.Version }
func (p TrafficPolicy) ObjectKind() Kind      { return KindTrafficPolicy }
func (p TrafficPolicy) ObjectName() string    { return p.Name }
func (p TrafficPolicy) ObjectVersion() uint64 { return p.Version }
func (r ReplicaSet) ObjectKind() Kind         { return KindReplicaSet }
func (r ReplicaSet) ObjectName() string       { return r.Name }
func (r ReplicaSet) ObjectVersion() uint64    { return r.Version }
func (t BurstToggle) ObjectKind() Kind        { return KindBurstToggle }
func (t BurstToggle) ObjectName() string      { return t.Name }
func (t BurstToggle) ObjectVersion() uint64   { return t.Version }

// WithVersion returns a copy of o carrying version v.
func WithVersion(o Object, v uint64) Object {
	switch x := o.(type) {
	case HealthCheck:
		x.Version = v
		return x
	case TrafficPolicy:
		x.Version = v
		return x
	case ReplicaSet:
		x.Version = v
		return x
	case BurstToggle:
		x.Version = v
		return x
	}
	panic(fmt.Sprintf("api.WithVersion: unknown object type %T", o))
}

// DecodeObject decodes a stored object of kind k (lenient: stored bytes
// were validated when written).
func DecodeObject(k Kind, b []byte) (Object, error) {
	var (
		o   Object
		err error
	)
	switch k {
	case KindHealthCheck:
		var x HealthCheck
		err = json.Unmarshal(b, &x)
		o = x
	case KindTrafficPolicy:
		var x TrafficPolicy
		err = json.Unmarshal(b, &x)
		o = x
	case KindReplicaSet:
		var x ReplicaSet
		err = json.Unmarshal(b, &x)
		o = x
	case KindBurstToggle:
		var x BurstToggle
		err = json.Unmarshal(b, &x)
		o = x
	default:
		return nil, fmt.Errorf("unknown kind %q", k)
	}
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", k, err)
	}
	return o, nil
}

// KindOf parses a URL segment into a Kind.
func KindOf(s string) (Kind, bool) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, true
		}
	}
	return "", false
}
