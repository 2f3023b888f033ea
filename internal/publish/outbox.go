package publish

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// BucketOutbox holds the outbox: entries (EntryKey) and the status of
// each (StatusKey). Only the leader writes it.
const BucketOutbox = "outbox"

const (
	entryPrefix  = "entry/"
	statusPrefix = "status/"
)

// EntryKey is the outbox key of a policy's publication to a destination.
func EntryKey(policy, destination string) string { return entryPrefix + policy + "/" + destination }

// StatusKey is the key of the status of the entry at EntryKey.
func StatusKey(policy, destination string) string { return statusPrefix + policy + "/" + destination }

// PolicyOfKey returns the policy an outbox key (entry or status) belongs to.
func PolicyOfKey(key string) (string, bool) {
	for _, p := range []string{entryPrefix, statusPrefix} {
		if rest, ok := strings.CutPrefix(key, p); ok {
			policy, _, ok := strings.Cut(rest, "/")
			return policy, ok
		}
	}
	return "", false
}

// Entry is one publication waiting in the outbox: the newest record set
// of a policy's decision for one destination.
type Entry struct {
	Policy      string `json:"policy"`
	Destination string `json:"destination"`
	// Generation is the decision's; DecidedAt its time (lag is measured
	// from it).
	Generation uint64              `json:"generation"`
	DecidedAt  time.Time           `json:"decided_at"`
	Route53    *api.PublishRoute53 `json:"route53,omitempty"`
	RFC2136    *api.PublishRFC2136 `json:"rfc2136,omitempty"`
	Records    RecordSet           `json:"records"`
}

// Record is the published name.
func (e Entry) Record() string {
	switch {
	case e.Route53 != nil:
		return e.Route53.RecordName
	case e.RFC2136 != nil:
		return e.RFC2136.RecordName
	}
	return ""
}

// Digest identifies what the destination must hold: the destination's
// settings and the record set, not the generation or time (a decision
// that changes nothing published costs no publication).
func (e Entry) Digest() string {
	b, _ := json.Marshal(struct {
		R53 *api.PublishRoute53
		U   *api.PublishRFC2136
		R   RecordSet
	}{e.Route53, e.RFC2136, e.Records})
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:12])
}

// Entries are the outbox entries of a policy's decision: one per
// destination of its publish block (none without one).
func Entries(p api.TrafficPolicy, d api.Decision) []Entry {
	if p.Publish == nil {
		return nil
	}
	rs := FromDecision(d)
	base := Entry{Policy: p.Name, Generation: d.Generation, DecidedAt: d.Since, Records: rs}
	var out []Entry
	if r := p.Publish.RFC2136; r != nil {
		e := base
		e.Destination, e.RFC2136 = api.DestinationRFC2136, r
		out = append(out, e)
	}
	if r := p.Publish.Route53; r != nil {
		e := base
		e.Destination, e.Route53 = api.DestinationRoute53, r
		out = append(out, e)
	}
	return out
}

// status is the stored status of an entry: the wire status and the digest
// of what the destination was last confirmed to hold.
type status struct {
	api.PublishStatus
	Digest string `json:"digest,omitempty"`
}
