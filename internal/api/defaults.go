package api

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

	DefaultTTLSeconds           = 30
	DefaultFailbackDelaySeconds = 60
	DefaultFailback             = FailbackAuto
	DefaultWeight               = 1

	DefaultEngine       = EngineMongoDB
	DefaultVotes        = 1
	DefaultBodyEngaged  = "burst"
	DefaultBodyReleased = "no-burst"
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
func (c *HealthCheck) Normalize() {
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if c.Method == "" {
		c.Method = DefaultMethod
	}
	if c.ExpectedStatus == nil {
		c.ExpectedStatus = []string{DefaultExpectedStatus}
	}
	if c.IntervalSeconds == 0 {
		c.IntervalSeconds = DefaultIntervalSeconds
	}
	if c.TimeoutSeconds == 0 {
		c.TimeoutSeconds = DefaultTimeoutSeconds
	}
	if c.Rise == 0 {
		c.Rise = DefaultRise
	}
	if c.Fall == 0 {
		c.Fall = DefaultFall
	}
	if c.Quorum == "" {
		c.Quorum = DefaultQuorum
	}
	if c.Enabled == nil {
		c.Enabled = ptr(true)
	}
}

// Normalize fills every omitted field with its default.
func (p *TrafficPolicy) Normalize() {
	if p.TTLSeconds == nil {
		p.TTLSeconds = ptr(DefaultTTLSeconds)
	}
	if p.FailbackDelaySeconds == nil {
		p.FailbackDelaySeconds = ptr(DefaultFailbackDelaySeconds)
	}
	if p.Failback == "" {
		p.Failback = DefaultFailback
	}
	for k, t := range p.Targets {
		if t.Weight == nil {
			t.Weight = ptr(DefaultWeight)
		}
		if t.Enabled == nil {
			t.Enabled = ptr(true)
		}
		p.Targets[k] = t
	}
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
func (r *ReplicaSet) Normalize() {
	if r.Engine == "" {
		r.Engine = DefaultEngine
	}
	if r.RequireSiteFaultTolerance == nil {
		r.RequireSiteFaultTolerance = ptr(true)
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
}

// Normalize fills every omitted field with its default. Engaged is left
// alone: on update, an omitted engaged keeps the operator's current state.
func (t *BurstToggle) Normalize() {
	if t.BodyEngaged == "" {
		t.BodyEngaged = DefaultBodyEngaged
	}
	if t.BodyReleased == "" {
		t.BodyReleased = DefaultBodyReleased
	}
}
