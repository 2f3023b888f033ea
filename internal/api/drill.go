package api

import (
	"time"
)

// EventDrill is the event type of a drill's start, steps and report.
const EventDrill = "drill"

// Drill states.
const (
	DrillRunning = "running"
	DrillPassed  = "passed"
	DrillFailed  = "failed"
	DrillAborted = "aborted"
)

// Drill steps, in order.
const (
	StepFailover = "failing_over"
	StepHold     = "holding"
	StepFailback = "failing_back"
	StepDone     = "done"
)

// Drill bounds and defaults.
const (
	DefaultDrillHold = 10 * time.Minute
	MaxDrillHold     = 24 * time.Hour
)

// DrillRequest is the body of POST /v1/traffic-policies/{name}/drills.
type DrillRequest struct {
	// Target is the target to fail over to.
	Target string `json:"target"`
	// Hold is how long to stay failed over (Go duration, e.g. "10m"; 0s
	// fails back at once); default DefaultDrillHold.
	Hold   string `json:"hold,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// HoldDuration validates and returns the request's hold.
func (r DrillRequest) HoldDuration(p *Problems) time.Duration {
	if r.Hold == "" {
		return DefaultDrillHold
	}
	d, err := time.ParseDuration(r.Hold)
	switch {
	case err != nil:
		p.Add("hold", "%q is not a duration: use a number and a unit, e.g. \"10m\", \"90s\" or \"1h\"", clipText(r.Hold))
	case d < 0:
		p.Add("hold", "%s is negative: use 0s to fail back at once, or a positive duration", r.Hold)
	case d > MaxDrillHold:
		p.Add("hold", "%s is longer than %s: a drill is a game day, not a migration; change the policy for a lasting move", r.Hold, MaxDrillHold)
	}
	return d
}

// Validate lists the request's problems that need no policy to check.
func (r DrillRequest) Validate() (time.Duration, Problems) {
	var p Problems
	if r.Target == "" {
		p.Add("target", "is required: name the target to fail over to")
	}
	if len(r.Reason) > 1024 {
		p.Add("reason", "is longer than 1024 characters: shorten it")
	}
	return r.HoldDuration(&p), p
}

func clipText(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// Drill is one game day: a failover on purpose, measured, held, and failed
// back (GET /v1/drills/{id}).
type Drill struct {
	ID          string  `json:"id"`
	Policy      string  `json:"policy"`
	Target      string  `json:"target"`
	From        string  `json:"from"`
	HoldSeconds float64 `json:"hold_seconds"`
	Reason      string  `json:"reason,omitempty"`
	StartedBy   string  `json:"started_by"`
	// Node is the failoverd that runs the drill.
	Node      string       `json:"node"`
	State     string       `json:"state"`
	Step      string       `json:"step"`
	StartedAt time.Time    `json:"started_at"`
	EndedAt   *time.Time   `json:"ended_at,omitempty"`
	Report    *DrillReport `json:"report,omitempty"`
	// Error says why a drill failed or was aborted.
	Error string `json:"error,omitempty"`
}

// DrillReport is what a drill measured against what the policy declares.
// Times are failoverd's clock; the decided times are the decision events'.
type DrillReport struct {
	WorstCaseSeconds float64 `json:"worst_case_seconds"`
	RTOSeconds       int     `json:"rto_seconds,omitempty"`
	// Failover: the override is committed (requested), the policy's
	// decision moves (decided), failoverd's DNS answers the new target
	// (dns), and each publisher confirms it (Publishers). The switch is
	// complete when the last of them shows the new target: SwitchSeconds
	// is measured from the request to that moment, and is absent when one
	// of them never showed it (a client of that DNS never switched).
	FailoverRequestedAt  time.Time  `json:"failover_requested_at"`
	FailoverDecidedAt    *time.Time `json:"failover_decided_at,omitempty"`
	FailoverDNSAt        *time.Time `json:"failover_dns_at,omitempty"`
	DecisionSeconds      *float64   `json:"decision_seconds,omitempty"`
	DNSSeconds           *float64   `json:"dns_seconds,omitempty"`
	SwitchSeconds        *float64   `json:"switch_seconds,omitempty"`
	FailbackRequestedAt  *time.Time `json:"failback_requested_at,omitempty"`
	FailbackDecidedAt    *time.Time `json:"failback_decided_at,omitempty"`
	FailbackDNSAt        *time.Time `json:"failback_dns_at,omitempty"`
	FailbackDecisionSecs *float64   `json:"failback_decision_seconds,omitempty"`
	FailbackDNSSecs      *float64   `json:"failback_dns_seconds,omitempty"`
	FailbackSwitchSecs   *float64   `json:"failback_switch_seconds,omitempty"`
	// FailbackTo is what serves once automatic routing is back.
	FailbackTo string `json:"failback_to,omitempty"`
	// Publishers: how each destination of the policy's publish block
	// followed the drill (none without a publish block).
	Publishers []DrillPublisher `json:"publishers,omitempty"`
	// Pass: both switches completed — failoverd's DNS and every publisher
	// showing the new target — within the RTO (the worst case when no RTO
	// is declared).
	Pass bool `json:"pass"`
	// Notes are what did not follow: a publisher that lagged or failed, a
	// check that flapped, a DNS answer that lagged its decision, a
	// failback to another target.
	Notes []string `json:"notes,omitempty"`
}

// DrillPublisher is how one publishing destination followed a drill: when
// it confirmed holding each switch's decision (the last_success of its
// publish status once published_generation reached the decision's),
// measured from that switch's request.
type DrillPublisher struct {
	Destination         string     `json:"destination"`
	Record              string     `json:"record"`
	FailoverPublishedAt *time.Time `json:"failover_published_at,omitempty"`
	FailoverSeconds     *float64   `json:"failover_seconds,omitempty"`
	FailbackPublishedAt *time.Time `json:"failback_published_at,omitempty"`
	FailbackSeconds     *float64   `json:"failback_seconds,omitempty"`
	// Followed: it published both switches, each within the budget.
	Followed bool `json:"followed"`
	// Problem says what did not follow (not published within the wait,
	// published after the RTO); LastError is the destination's last
	// publishing error while the drill waited for it.
	Problem   string `json:"problem,omitempty"`
	LastError string `json:"last_error,omitempty"`
}

// DrillSchedule is a policy's recurring game day: a drill to Target at
// every Cron time (holding HoldSeconds), or in each of the Windows
// ("START/END", RFC 3339: the drill starts at START and fails back at END).
// Exactly one of Cron and Windows. A time failoverd was not running for is
// skipped, never run late.
type DrillSchedule struct {
	Target      string   `json:"target"`
	Cron        string   `json:"cron,omitempty"`
	Windows     []string `json:"windows,omitempty"`
	HoldSeconds int      `json:"hold_seconds,omitempty"`
	Reason      string   `json:"reason,omitempty"`
}

// DefaultDrillHoldSeconds is a cron drill's hold when hold_seconds is
// omitted.
const DefaultDrillHoldSeconds = 600
