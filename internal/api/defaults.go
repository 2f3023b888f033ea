package api

import (
	"fmt"
	"strconv"
)

// Defaults of DESIGN §5. The provider's schema defaults read these same
// constants, so an omitted attribute never shows up as a diff.
const (
	DefaultPath            = "/"
	DefaultMethod          = "GET"
	DefaultExpectedStatus  = "200-399"
	DefaultIntervalSeconds = 10.0
	DefaultTimeoutSeconds  = 2.0
	DefaultRise            = 2
	DefaultFall            = 3
	DefaultQuorum          = QuorumMajority
	DefaultHealthyWhen     = HealthyWhenAll

	DefaultTTLSeconds           = 30
	DefaultFailbackDelaySeconds = 60
	DefaultFailback             = FailbackAuto
	DefaultWeight               = 1
	// DefaultMinHealthy: a target with endpoints serves while any one of
	// them is up.
	DefaultMinHealthy = 1

	DefaultEngine = EngineMongoDB
	DefaultVotes  = 1
	// DefaultRequireMajorityWritesAfterSiteLoss is false so layouts that
	// only survive site loss for elections (PSA) keep planning, warned.
	DefaultRequireMajorityWritesAfterSiteLoss = false
	DefaultBodyEngaged                        = "burst"
	DefaultBodyReleased                       = "no-burst"
)

func ptr[T any](v T) *T { return &v }

// Bool reads an optional bool with its default.
func Bool(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

// Int reads an optional int with its default.
func Int(i *int, def int) int {
	if i == nil {
		return def
	}
	return *i
}

// Normalize fills every omitted field with its default. It never
// overrides a value the user set, so validation still sees bad input.
// A zero value reads as omitted: use NormalizeExplicit when the fields
// the user set are known.
func (c *HealthCheck) Normalize() { c.NormalizeExplicit(nil) }

// NormalizeExplicit is Normalize for a body or configuration whose
// explicit zeros are known (see Decode). The calls to defaultTo in the
// NormalizeExplicit methods are the one list of attributes whose zero
// value means "the default": setting one of them to that zero explicitly
// is reported, with the fix, and the default filled in so that no other
// rule reports it again.
func (c *HealthCheck) NormalizeExplicit(zeros ExplicitZeros) Problems {
	d := defaulter{zeros: zeros}
	defaultTo(&d, &c.Path, "path", DefaultPath, `set an absolute path such as "/healthz"`)
	defaultTo(&d, &c.Method, "method", DefaultMethod, `set a method such as "HEAD"`)
	if c.ExpectedStatus == nil { // an explicit [] is kept, and refused by validation
		c.ExpectedStatus = []string{DefaultExpectedStatus}
	}
	defaultTo(&d, &c.IntervalSeconds, "interval_seconds", DefaultIntervalSeconds, "set at least 1")
	defaultTo(&d, &c.TimeoutSeconds, "timeout_seconds", DefaultTimeoutSeconds, "set a value below interval_seconds, e.g. 0.5")
	defaultTo(&d, &c.Rise, "rise", DefaultRise, "set 1 to 100")
	defaultTo(&d, &c.Fall, "fall", DefaultFall, "set 1 to 100")
	defaultTo(&d, &c.Quorum, "quorum", DefaultQuorum, `set "all" or "any"`)
	if c.Type == CheckCalculated {
		defaultTo(&d, &c.HealthyWhen, "healthy_when", DefaultHealthyWhen, `set "any" or "at_least"`)
	}
	if c.Enabled == nil {
		c.Enabled = ptr(true)
	}
	return d.p
}

// defaulter fills omitted fields with their defaults, and reports the
// zeros the user wrote.
type defaulter struct {
	zeros ExplicitZeros
	p     Problems
}

// defaultTo sets *v to def when it is zero. An explicit zero is an error
// whose message says what omitting it gives and what else to set (fix,
// when there is anything else).
func defaultTo[T comparable](d *defaulter, v *T, field string, def T, fix string) {
	var zero T
	if *v != zero {
		return
	}
	switch {
	case !d.zeros.Has(field):
	case fix == "":
		d.p.Add(field, "%s is not allowed: omit it for the default %s", literal(zero), literal(def))
	default:
		d.p.Add(field, "%s is not allowed: omit it for the default %s, or %s", literal(zero), literal(def), fix)
	}
	*v = def
}

// literal renders a value as the user writes it.
func literal(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}

// Normalize fills every omitted field with its default.
func (p *TrafficPolicy) Normalize() { p.NormalizeExplicit(nil) }

// NormalizeExplicit is Normalize reporting explicit zeros, as
// (*HealthCheck).NormalizeExplicit. Zero is a value of its own for
// failover_delay_seconds (the default), rto_seconds (none), and for
// ttl_seconds, failback_delay_seconds and a target's weight (pointers:
// omitted is nil), so those are not listed.
func (p *TrafficPolicy) NormalizeExplicit(zeros ExplicitZeros) Problems {
	d := defaulter{zeros: zeros}
	if p.TTLSeconds == nil {
		p.TTLSeconds = ptr(DefaultTTLSeconds)
	}
	if p.FailbackDelaySeconds == nil {
		p.FailbackDelaySeconds = ptr(DefaultFailbackDelaySeconds)
	}
	defaultTo(&d, &p.Failback, "failback", DefaultFailback, `set "auto" or "manual"`)
	for k, t := range p.Targets {
		if t.Weight == nil {
			t.Weight = ptr(DefaultWeight)
		}
		if t.Enabled == nil {
			t.Enabled = ptr(true)
		}
		p.Targets[k] = t
	}
	return d.p
}

// DefaultPriority is a member's priority when omitted: 0 for members
// MongoDB never elects (arbiters, hidden, delayed and non-voting members),
// 1 otherwise.
func (m Member) DefaultPriority() float64 {
	if m.Arbiter || m.Hidden || m.SecondaryDelaySeconds > 0 || (m.Votes != nil && *m.Votes == 0) {
		return 0
	}
	return 1
}

// Normalize fills every omitted field with its default.
func (r *ReplicaSet) Normalize() { r.NormalizeExplicit(nil) }

// NormalizeExplicit is Normalize reporting explicit zeros, as
// (*HealthCheck).NormalizeExplicit. A member's votes and priority are
// pointers, so their explicit 0 is kept (non-voting, never primary).
func (r *ReplicaSet) NormalizeExplicit(zeros ExplicitZeros) Problems {
	d := defaulter{zeros: zeros}
	defaultTo(&d, &r.Engine, "engine", DefaultEngine, "") // the only engine
	if r.RequireSiteFaultTolerance == nil {
		r.RequireSiteFaultTolerance = ptr(true)
	}
	if r.RequireMajorityWritesAfterSiteLoss == nil {
		r.RequireMajorityWritesAfterSiteLoss = ptr(DefaultRequireMajorityWritesAfterSiteLoss)
	}
	for k, m := range r.Members {
		if m.Votes == nil {
			m.Votes = ptr(DefaultVotes)
		}
		if m.Priority == nil {
			m.Priority = ptr(m.DefaultPriority())
		}
		r.Members[k] = m
	}
	return d.p
}

// Normalize fills every omitted field with its default. Engaged is left
// alone: on update, an omitted engaged keeps the operator's current state.
func (t *BurstToggle) Normalize() { t.NormalizeExplicit(nil) }

// NormalizeExplicit is Normalize reporting explicit zeros, as
// (*HealthCheck).NormalizeExplicit.
func (t *BurstToggle) NormalizeExplicit(zeros ExplicitZeros) Problems {
	d := defaulter{zeros: zeros}
	defaultTo(&d, &t.BodyEngaged, "body_engaged", DefaultBodyEngaged, "set the text a load balancer matches while engaged")
	defaultTo(&d, &t.BodyReleased, "body_released", DefaultBodyReleased, "set the text a load balancer matches while released")
	return d.p
}

// DefaultWebhookEnabled: a webhook delivers unless disabled.
const DefaultWebhookEnabled = true

// NormalizeExplicit: a webhook has no attribute whose zero means "the
// default" (enabled is read with api.Bool(w.Enabled, DefaultWebhookEnabled)).
func (w *Webhook) NormalizeExplicit(ExplicitZeros) Problems { return nil }
