// Package api holds the v1 wire types shared by failoverd, its Go client and
// the Terraform provider: one schema, two faces. Field names, defaults and
// enums here are the contract of DESIGN §4.2 and §5; changing one is a
// breaking change for users' state files.
package api

import (
	"encoding/json"
	"time"
)

// Kind names a collection of declared objects. The string is the URL
// segment under /v1/ and the store bucket.
type Kind string

const (
	KindHealthCheck   Kind = "health-checks"
	KindTrafficPolicy Kind = "traffic-policies"
	KindReplicaSet    Kind = "replica-sets"
	KindBurstToggle   Kind = "burst-toggles"
	KindWebhook       Kind = "webhooks"
)

// Kinds lists every declared kind in a stable order.
var Kinds = []Kind{KindHealthCheck, KindTrafficPolicy, KindReplicaSet, KindBurstToggle, KindWebhook}

// Health check types.
const (
	CheckHTTP  = "http"
	CheckHTTPS = "https"
	CheckTCP   = "tcp"
	// CheckCalculated probes nothing: its state is computed from its
	// child checks' overall states (HealthyWhen).
	CheckCalculated = "calculated"
)

// How a calculated check combines its children.
const (
	HealthyWhenAll     = "all"
	HealthyWhenAny     = "any"
	HealthyWhenAtLeast = "at_least"
)

// Body match modes. Exact matters: "no-burst" contains "burst".
const (
	MatchExact    = "exact"
	MatchContains = "contains"
	MatchRegex    = "regex"
)

// Quorum rules across probing sites.
const (
	QuorumMajority = "majority"
	QuorumAll      = "all"
	QuorumAny      = "any"
)

// HealthCheck is a declared probe of one endpoint.
type HealthCheck struct {
	Name           string            `json:"name"`
	Site           string            `json:"site"`
	Type           string            `json:"type"`
	Address        string            `json:"address"`
	Path           string            `json:"path,omitempty"`
	Method         string            `json:"method,omitempty"`
	HostHeader     string            `json:"host_header,omitempty"`
	Headers        map[string]string `json:"headers,omitempty"`
	ExpectedStatus []string          `json:"expected_status,omitempty"`
	BodyMatch      *BodyMatch        `json:"body_match,omitempty"`
	TLS            *TLSConfig        `json:"tls,omitempty"`
	// IntervalSeconds is the probe period from each site (min 1).
	IntervalSeconds float64 `json:"interval_seconds,omitempty"`
	// TimeoutSeconds bounds one probe; fractions allowed; must be < interval.
	TimeoutSeconds float64  `json:"timeout_seconds,omitempty"`
	Rise           int      `json:"rise,omitempty"`
	Fall           int      `json:"fall,omitempty"`
	ProbeSites     []string `json:"probe_sites,omitempty"`
	Quorum         string   `json:"quorum,omitempty"`
	Enabled        *bool    `json:"enabled,omitempty"`
	// Warnings are computed by failoverd: findings that do not block a
	// write, e.g. a probe site where no failoverd runs.
	Warnings []string `json:"warnings,omitempty"`
	// Invert makes the check healthy when the probe fails and unhealthy
	// when it succeeds (e.g. a maintenance flag URL that answers 200 while
	// maintenance is on). A local failure is never inverted: it is not an
	// observation of the endpoint. A calculated check inverts its result.
	Invert bool `json:"invert,omitempty"`
	// ChildChecks, HealthyWhen and AtLeast define a calculated check.
	ChildChecks []string `json:"child_checks,omitempty"`
	HealthyWhen string   `json:"healthy_when,omitempty"`
	AtLeast     int      `json:"at_least,omitempty"`

	// Version is assigned by failoverd; it is the ETag.
	Version uint64 `json:"version,omitempty"`
}

// BodyMatch asserts on the response body of an http(s) probe.
type BodyMatch struct {
	Mode  string `json:"mode"`
	Value string `json:"value"`
}

// TLSConfig tunes certificate verification of https probes.
type TLSConfig struct {
	ServerName         string `json:"server_name,omitempty"`
	CACertPEM          string `json:"ca_cert_pem,omitempty"`
	InsecureSkipVerify bool   `json:"insecure_skip_verify,omitempty"`
}

// Traffic policy modes.
const (
	ModeActivePassive = "active-passive"
	ModeActiveActive  = "active-active"
)

// Failback modes.
const (
	FailbackAuto   = "auto"
	FailbackManual = "manual"
)

// What a policy answers when no target is up.
const (
	AllDownFallback   = "fallback"
	AllDownFailOpen   = "fail_open"
	AllDownFailClosed = "fail_closed"
)

// TrafficPolicy decides which site serves.
type TrafficPolicy struct {
	Name                 string                  `json:"name"`
	Mode                 string                  `json:"mode"`
	TTLSeconds           *int                    `json:"ttl_seconds,omitempty"`
	FailoverDelaySeconds int                     `json:"failover_delay_seconds,omitempty"`
	FailbackDelaySeconds *int                    `json:"failback_delay_seconds,omitempty"`
	Failback             string                  `json:"failback,omitempty"`
	Targets              map[string]PolicyTarget `json:"targets"`
	BurstToggle          string                  `json:"burst_toggle,omitempty"`
	WhenAllDown          string                  `json:"when_all_down"`
	Fallback             *Fallback               `json:"fallback,omitempty"`
	// RTOSeconds, when set, bounds WorstCaseFailoverSeconds.
	RTOSeconds int `json:"rto_seconds,omitempty"`
	// ReplicaSet links the policy to the replica set whose primary should
	// sit where traffic goes (traffic/data alignment warning).
	ReplicaSet string `json:"replica_set,omitempty"`
	// DrillSchedule declares recurring game days failoverd runs itself.
	DrillSchedule *DrillSchedule `json:"drill_schedule,omitempty"`
	// Publish mirrors every decision into DNS servers failoverd does not
	// run (DESIGN §8).
	Publish *Publish `json:"publish,omitempty"`

	// Computed by failoverd.
	FQDN                     string   `json:"fqdn,omitempty"`
	WorstCaseFailoverSeconds float64  `json:"worst_case_failover_seconds,omitempty"`
	Warnings                 []string `json:"warnings,omitempty"`
	Version                  uint64   `json:"version,omitempty"`
}

// PolicyTarget is one site a policy may send traffic to.
type PolicyTarget struct {
	Site         string   `json:"site"`
	Addresses    []string `json:"addresses,omitempty"`
	CNAME        string   `json:"cname,omitempty"`
	HealthChecks []string `json:"health_checks,omitempty"`
	// Priority orders active-passive targets; 1 is preferred.
	Priority int `json:"priority,omitempty"`
	// Weight is the active-active share (0–1000, default 1).
	Weight    *int  `json:"weight,omitempty"`
	Enabled   *bool `json:"enabled,omitempty"`
	BurstOnly bool  `json:"burst_only,omitempty"`
	// Endpoints split a target into parts that fail independently, e.g.
	// one load balancer per availability zone, each with the checks that
	// cover it. A dead endpoint's addresses leave the answer while at
	// least MinHealthy endpoints are up; below that the target is down.
	// Used instead of Addresses (HealthChecks then gate the whole target).
	Endpoints map[string]TargetEndpoint `json:"endpoints,omitempty"`
	// MinHealthy is how many endpoints must be up for the target to serve
	// (default DefaultMinHealthy; see MinHealthyEndpoints).
	MinHealthy *int `json:"min_healthy,omitempty"`
}

// TargetEndpoint is one independently failing part of a target.
type TargetEndpoint struct {
	Addresses    []string `json:"addresses"`
	HealthChecks []string `json:"health_checks,omitempty"`
}

// MinHealthyEndpoints is MinHealthy with its default.
func (t PolicyTarget) MinHealthyEndpoints() int { return Int(t.MinHealthy, DefaultMinHealthy) }

// AllAddresses lists every address the target may answer: Addresses, then
// each endpoint's in endpoint name order.
func (t PolicyTarget) AllAddresses() []string {
	out := append([]string(nil), t.Addresses...)
	for _, n := range SortedKeys(t.Endpoints) {
		out = append(out, t.Endpoints[n].Addresses...)
	}
	return out
}

// AllHealthChecks lists, without duplicates, every check the target's
// health reads: its own, then each endpoint's in endpoint name order.
func (t PolicyTarget) AllHealthChecks() []string {
	out := append([]string(nil), t.HealthChecks...)
	seen := map[string]bool{}
	for _, c := range out {
		seen[c] = true
	}
	for _, n := range SortedKeys(t.Endpoints) {
		for _, c := range t.Endpoints[n].HealthChecks {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// Fallback is what a policy answers when nothing is up and
// when_all_down = "fallback".
type Fallback struct {
	Addresses []string `json:"addresses,omitempty"`
	CNAME     string   `json:"cname,omitempty"`
}

// Publish names the DNS servers a policy's decisions are mirrored into.
// It carries no secret: AWS credentials come from the SDK's default chain
// and TSIG keys from failoverd's --tsig-keys file, named here.
type Publish struct {
	Route53 *PublishRoute53 `json:"route53,omitempty"`
	RFC2136 *PublishRFC2136 `json:"rfc2136,omitempty"`
}

// PublishRoute53 is one record set in a Route 53 hosted zone.
type PublishRoute53 struct {
	ZoneID     string `json:"zone_id"`
	RecordName string `json:"record_name"`
	// SetIdentifier, when set, names the record of a routing-policy set
	// (weighted, latency...) that failoverd owns; the other records of the
	// set are left alone.
	SetIdentifier string `json:"set_identifier,omitempty"`
}

// PublishRFC2136 is one record in a zone of a DNS server that accepts
// dynamic updates (BIND, knot, PowerDNS, Infoblox, AD).
type PublishRFC2136 struct {
	// Server is host:port (port 53 when omitted) of the primary server.
	Server     string `json:"server"`
	Zone       string `json:"zone"`
	RecordName string `json:"record_name"`
	// TSIGKey names a key of failoverd's --tsig-keys file.
	TSIGKey string `json:"tsig_key"`
}

// Publish destinations, as statuses and metrics name them.
const (
	DestinationRoute53 = "route53"
	DestinationRFC2136 = "rfc2136"
)

// PublishStatus is where the mirroring of a policy's decision into one
// destination stands.
type PublishStatus struct {
	Policy      string `json:"policy"`
	Destination string `json:"destination"`
	// Record is the record's name at the destination.
	Record string `json:"record"`
	// Generation is the decision generation the destination should hold;
	// PublishedGeneration the one it was last confirmed to hold.
	Generation          uint64 `json:"generation"`
	PublishedGeneration uint64 `json:"published_generation"`
	InSync              bool   `json:"in_sync"`
	// LagSeconds is how long the newest decision has waited to be
	// published (0 when in sync).
	LagSeconds  float64    `json:"lag_seconds"`
	LastSuccess *time.Time `json:"last_success,omitempty"`
	LastAttempt *time.Time `json:"last_attempt,omitempty"`
	// Attempts counts the failed attempts since the last success.
	Attempts  int    `json:"attempts"`
	LastError string `json:"last_error,omitempty"`
	// LastRepair is when reconciliation last found the record changed
	// outside failoverd and wrote it back.
	LastRepair *time.Time `json:"last_repair,omitempty"`
}

// PolicyStatus is GET /v1/traffic-policies/{name}/status: the decision
// and where its publication stands in each destination.
type PolicyStatus struct {
	Policy   string          `json:"policy"`
	Decision Decision        `json:"decision"`
	Publish  []PublishStatus `json:"publish"`
}

// Member is one replica-set member.
type Member struct {
	Host                  string            `json:"host"`
	Site                  string            `json:"site"`
	Zone                  string            `json:"zone,omitempty"`
	Priority              *float64          `json:"priority,omitempty"`
	Votes                 *int              `json:"votes,omitempty"`
	Arbiter               bool              `json:"arbiter,omitempty"`
	Hidden                bool              `json:"hidden,omitempty"`
	SecondaryDelaySeconds int               `json:"secondary_delay_seconds,omitempty"`
	Tags                  map[string]string `json:"tags,omitempty"`
	HealthCheck           string            `json:"health_check,omitempty"`
}

// ReplicaSet is a declared database replica-set topology.
type ReplicaSet struct {
	Name                      string            `json:"name"`
	Engine                    string            `json:"engine,omitempty"`
	Members                   map[string]Member `json:"members"`
	RequireSiteFaultTolerance *bool             `json:"require_site_fault_tolerance,omitempty"`
	// RequireMajorityWritesAfterSiteLoss turns "a site loss leaves an
	// election possible but w:majority writes unacknowledged" from a
	// warning into an error (default false).
	RequireMajorityWritesAfterSiteLoss *bool `json:"require_majority_writes_after_site_loss,omitempty"`

	// Computed by failoverd.
	// MemberIDs maps member name to its replSetConfig _id; an _id stays
	// with its member for as long as the member exists.
	MemberIDs map[string]int   `json:"member_ids,omitempty"`
	Analysis  *ReplicaAnalysis `json:"analysis,omitempty"`
	Version   uint64           `json:"version,omitempty"`
}

// EngineMongoDB is the only replica-set engine today.
const EngineMongoDB = "mongodb"

// ReplicaAnalysis is the computed quorum analysis of a replica set.
type ReplicaAnalysis struct {
	VotingMembers        int                 `json:"voting_members"`
	Majority             int                 `json:"majority"`
	FaultTolerance       int                 `json:"fault_tolerance"`
	PreferredPrimarySite string              `json:"preferred_primary_site"`
	SiteLoss             map[string]SiteLoss `json:"site_loss"`
	// DefaultWriteConcern is MongoDB's implicit default write concern for
	// this configuration: WriteConcernMajority or WriteConcernW1.
	DefaultWriteConcern string `json:"default_write_concern"`
	// WriteMajority is how many data-bearing voting members must
	// acknowledge a w:"majority" write.
	WriteMajority int      `json:"write_majority"`
	Warnings      []string `json:"warnings,omitempty"`
}

// Implicit default write concerns (MongoDB ≥ 5.0).
const (
	WriteConcernMajority = "majority"
	WriteConcernW1       = "1"
)

// SiteLoss is what happens to the replica set when one site is lost.
type SiteLoss struct {
	Survives   bool   `json:"survives"`
	NewPrimary string `json:"new_primary,omitempty"`
	VotesLost  int    `json:"votes_lost"`
	VotesLeft  int    `json:"votes_left"`
	// MajorityWrites: after the loss a primary can still be elected and
	// enough data-bearing voting members remain to acknowledge
	// w:"majority" writes, so the majority commit point keeps advancing.
	MajorityWrites bool `json:"majority_writes"`
	// DataVotersLeft is the number of data-bearing voting members left
	// that acknowledge without delay; MajorityWrites needs WriteMajority.
	DataVotersLeft int `json:"data_voters_left"`
	// WriteConcernBefore is the implicit default write concern of the
	// configuration; it stays in force while the site is down, since a
	// lost site changes no configuration.
	WriteConcernBefore string `json:"write_concern_before"`
	// WriteConcernAfter is the implicit default write concern once the
	// lost site's members are removed by a (forced) reconfiguration.
	WriteConcernAfter string `json:"write_concern_after"`
	// CriticalMembers are the members left after the loss any one of
	// which, lost too, stops majority-committed writes from advancing
	// (empty when there is slack, or when writes already stall).
	CriticalMembers []string `json:"critical_members,omitempty"`
}

// ReplicaSetStatus is the live view of a replica set from its members'
// health checks.
type ReplicaSetStatus struct {
	ReplicaSet      string            `json:"replica_set"`
	MembersUp       int               `json:"members_up"`
	VotesUp         int               `json:"votes_up"`
	HasMajority     bool              `json:"has_majority"`
	ExpectedPrimary string            `json:"expected_primary,omitempty"`
	AtRisk          bool              `json:"at_risk"`
	Members         map[string]string `json:"members,omitempty"` // name → healthy|unhealthy|unknown
	Since           time.Time         `json:"since"`
}

// BurstToggle gates burst_only targets and answers /burst/{name}.
type BurstToggle struct {
	Name         string     `json:"name"`
	Site         string     `json:"site"`
	Engaged      *bool      `json:"engaged,omitempty"`
	Schedule     []Window   `json:"schedule,omitempty"`
	ExpiresAt    *time.Time `json:"expires_at,omitempty"`
	BodyEngaged  string     `json:"body_engaged,omitempty"`
	BodyReleased string     `json:"body_released,omitempty"`

	// Computed by failoverd.
	URL string `json:"url,omitempty"`
	// Effective is engaged-or-scheduled and not expired, evaluated now.
	Effective *bool  `json:"effective,omitempty"`
	Version   uint64 `json:"version,omitempty"`
}

// Webhook delivers events to an HTTP receiver, signed (DESIGN §8).
type Webhook struct {
	Name string `json:"name"`
	// URL receives a POST per event (http or https).
	URL string `json:"url"`
	// Events filters by event type (health, decision, burst, replica_set,
	// audit, publish); empty: every type.
	Events  []string `json:"events,omitempty"`
	Enabled *bool    `json:"enabled,omitempty"`
	// Secret names the signing secret in failoverd's --webhook-secrets
	// file; the secret itself never goes through the API.
	Secret  string `json:"secret"`
	Version uint64 `json:"version,omitempty"`
}

// WebhookStatus is GET /v1/webhooks/{name}/status: where delivery stands.
type WebhookStatus struct {
	Webhook string `json:"webhook"`
	// DeliveredSeq is the last event delivered (acknowledged with a 2xx);
	// PendingEvents how many matching events wait behind it (bounded: see
	// the overflow policy in internal/webhook).
	DeliveredSeq  uint64     `json:"delivered_seq"`
	PendingEvents int        `json:"pending_events"`
	LagSeconds    float64    `json:"lag_seconds"`
	LastSuccess   *time.Time `json:"last_success,omitempty"`
	LastAttempt   *time.Time `json:"last_attempt,omitempty"`
	Attempts      int        `json:"attempts"`
	LastError     string     `json:"last_error,omitempty"`
	// Dropped counts events skipped because the queue overflowed.
	Dropped uint64 `json:"dropped"`
}

// Window is a schedule window during which a toggle is engaged.
type Window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// BurstPatch is the operators' PATCH body for a burst toggle.
type BurstPatch struct {
	Engaged *bool `json:"engaged"`
}

// Override pins a policy to one target until it expires.
type Override struct {
	Target    string    `json:"target"`
	ExpiresAt time.Time `json:"expires_at"`
	Reason    string    `json:"reason,omitempty"`
	SetBy     string    `json:"set_by,omitempty"`
	// Force pins a target that is down right now (its health checks say
	// so); it needs a Reason.
	Force bool `json:"force,omitempty"`
}

// Decision is what a traffic policy serves right now.
type Decision struct {
	Policy     string          `json:"policy"`
	Serving    []ServingTarget `json:"serving"`
	Reason     string          `json:"reason"`
	Since      time.Time       `json:"since"`
	Generation uint64          `json:"generation"`
	// ObservedAt is the time of the observation that triggered this
	// decision; Since - ObservedAt is the detection-to-decision latency.
	ObservedAt time.Time `json:"observed_at,omitempty"`
	TTLSeconds int       `json:"ttl_seconds"`
	Override   *Override `json:"override,omitempty"`
}

// ServingTarget is one target in a decision.
type ServingTarget struct {
	Target    string   `json:"target"`
	Addresses []string `json:"addresses,omitempty"`
	CNAME     string   `json:"cname,omitempty"`
	Weight    int      `json:"weight"`
}

// Health states.
const (
	StateHealthy   = "healthy"
	StateUnhealthy = "unhealthy"
	StateUnknown   = "unknown"
)

// HealthStatus is the live state of one check.
type HealthStatus struct {
	Check string                     `json:"check"`
	State string                     `json:"state"`
	Since time.Time                  `json:"since"`
	Sites map[string]SiteObservation `json:"sites"`
	// Reason says why the state is what it is when the sites cannot, e.g.
	// "no prober for site dc3".
	Reason string `json:"reason,omitempty"`
}

// SiteObservation is one probing site's view of a check.
type SiteObservation struct {
	State         string    `json:"state"`
	Since         time.Time `json:"since"`
	LastChecked   time.Time `json:"last_checked"`
	LastError     string    `json:"last_error,omitempty"`
	LastLatencyMS float64   `json:"last_latency_ms"`
	Successes     int       `json:"consecutive_successes"`
	Failures      int       `json:"consecutive_failures"`
}

// Event types.
const (
	EventAudit      = "audit"
	EventHealth     = "health"
	EventDecision   = "decision"
	EventBurst      = "burst"
	EventReplicaSet = "replica_set"
	// EventPublish: a publication failed after succeeding, recovered, or
	// reconciliation repaired a record changed outside failoverd.
	EventPublish = "publish"
	// EventAlignment: a policy started or stopped serving away from its
	// replica set's expected primary site.
	EventAlignment = "alignment"
)

// Event is one entry of the append-only event log (/v1/events).
type Event struct {
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"time"`
	Type string    `json:"type"`
	// Object is "<kind>/<name>", e.g. "traffic-policies/web".
	Object  string `json:"object,omitempty"`
	Message string `json:"message"`
	// Audit fields.
	Actor   string `json:"actor,omitempty"`
	Action  string `json:"action,omitempty"`
	Outcome string `json:"outcome,omitempty"`
	// ObservedAt is the triggering observation's time (health and
	// decision events), so detection-to-decision latency is measurable.
	ObservedAt *time.Time      `json:"observed_at,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
}

// List is the envelope of every collection GET.
type List[T any] struct {
	Items []T `json:"items"`
}

// Status is the answer of GET /v1/status: one screen for the operator.
type Status struct {
	Site      string         `json:"site"`
	Version   string         `json:"version"`
	Started   time.Time      `json:"started"`
	Checks    []HealthStatus `json:"checks"`
	Decisions []Decision     `json:"decisions"`
	Toggles   []BurstToggle  `json:"toggles"`
	// Cluster is this node's place in the control plane (as GET
	// /v1/cluster).
	Cluster *ClusterStatus `json:"cluster,omitempty"`
	// Publish is where every policy's publication stands (as GET
	// /v1/traffic-policies/{name}/status), Webhooks every webhook's
	// delivery (as GET /v1/webhooks/{name}/status).
	Publish  []PublishStatus `json:"publish,omitempty"`
	Webhooks []WebhookStatus `json:"webhooks,omitempty"`
}

// Whoami is the answer of GET /v1/whoami: the caller's token name and
// scope (read, operate or admin), and the newest event's sequence number
// (follow /v1/events?since= it to see only what happens from now).
type Whoami struct {
	Name         string `json:"name"`
	Scope        string `json:"scope"`
	LastEventSeq uint64 `json:"last_event_seq"`
}

// Cluster roles. A standalone failoverd (bolt) is a cluster of one: always
// the leader.
const (
	RoleLeader   = "leader"
	RoleFollower = "follower"
)

// Store kinds.
const (
	StoreBolt = "bolt"
	StoreEtcd = "etcd"
)

// ClusterStatus is the answer of GET /v1/cluster: this node's place in the
// control plane, as this node sees it.
type ClusterStatus struct {
	Node string `json:"node"`
	Site string `json:"site"`
	// Role is leader (evaluates policies and writes decisions) or follower
	// (serves the leader's decisions). A node out of contact with its
	// store is a follower, whatever it was.
	Role string `json:"role"`
	// Leader is absent while no node leads (during an election, or when
	// this node cannot tell).
	Leader *ClusterLeader `json:"leader,omitempty"`
	// Members are the sites whose failoverd is alive (fresh: their votes
	// count), then those seen since this node started that are gone.
	Members []ClusterMember `json:"members"`
	Store   ClusterStore    `json:"store"`
	// Revision is the store revision this node has applied.
	Revision uint64 `json:"revision"`
}

// ClusterLeader names the node that decides.
type ClusterLeader struct {
	Node string `json:"node"`
	Site string `json:"site"`
	// Since is when this node saw it become the leader.
	Since time.Time `json:"since"`
}

// ClusterMember is one site's failoverd.
type ClusterMember struct {
	Site            string    `json:"site"`
	Node            string    `json:"node"`
	URL             string    `json:"url,omitempty"`
	Started         time.Time `json:"started"`
	Version         string    `json:"version,omitempty"`
	ProbeSourceAddr string    `json:"probe_source_addr,omitempty"`
	// Fresh: the site's failoverd is alive (its lease holds), so its
	// observations vote.
	Fresh bool `json:"fresh"`
	// LastSeen is when a member that is no longer fresh was last seen
	// alive by this node.
	LastSeen *time.Time `json:"last_seen,omitempty"`
}

// ClusterStore is this node's link to the shared store.
type ClusterStore struct {
	Kind      string   `json:"kind"` // bolt | etcd
	Endpoints []string `json:"endpoints,omitempty"`
	// InContact: this node reaches the store's majority. Out of contact it
	// fails static: it serves the last decisions, refuses writes and
	// decides nothing.
	InContact bool `json:"in_contact"`
	// Since is when InContact last changed (or the node started).
	Since time.Time `json:"since"`
	// Reason says why a node is out of contact.
	Reason string `json:"reason,omitempty"`
}
