package topology

import (
	"sort"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// ReplSetConfig is the MongoDB rs.initiate() / replSetReconfig document.
type ReplSetConfig struct {
	ID      string          `json:"_id"`
	Version int             `json:"version"`
	Members []ReplSetMember `json:"members"`
}

// ReplSetMember is one member of a ReplSetConfig.
type ReplSetMember struct {
	ID                 int               `json:"_id"`
	Host               string            `json:"host"`
	Priority           float64           `json:"priority"`
	Votes              int               `json:"votes"`
	ArbiterOnly        bool              `json:"arbiterOnly"`
	Hidden             bool              `json:"hidden"`
	SecondaryDelaySecs int               `json:"secondaryDelaySecs"`
	Tags               map[string]string `json:"tags,omitempty"`
}

// Tag names RenderConfig sets from a member's site and zone, so tag-aware
// write concerns and read preferences can target a site or a zone.
const (
	TagSite = "site"
	TagZone = "zone"
)

// RenderConfig renders the replica-set configuration document: _id is the
// replica set's name, members are sorted by _id. Ids come from ids (see
// AssignMemberIDs); a member missing from ids gets the smallest free id,
// so the document is complete even when ids is stale.
//
// Tags: a data-bearing member's tags are its user tags plus "site" (its
// site) and "zone" (its zone, when set). The member's own site and zone
// win over user tags of the same name, because the site-loss analysis
// reads them and a tag-aware write concern must agree with it
// (ValidateReplicaSet rejects a user tag that contradicts them). Arbiters
// get no tags at all: mongod rejects a configuration with tags on an
// arbiter.
func RenderConfig(rs api.ReplicaSet, ids map[string]int, version int) ReplSetConfig {
	all := AssignMemberIDs(ids, rs.Members)
	cfg := ReplSetConfig{ID: rs.Name, Version: version, Members: make([]ReplSetMember, 0, len(rs.Members))}
	for _, name := range api.SortedKeys(rs.Members) {
		m := rs.Members[name]
		cfg.Members = append(cfg.Members, ReplSetMember{
			ID:                 all[name],
			Host:               m.Host,
			Priority:           priorityOf(m),
			Votes:              votesOf(m),
			ArbiterOnly:        m.Arbiter,
			Hidden:             m.Hidden,
			SecondaryDelaySecs: m.SecondaryDelaySeconds,
			Tags:               memberTags(m),
		})
	}
	sort.SliceStable(cfg.Members, func(i, j int) bool { return cfg.Members[i].ID < cfg.Members[j].ID })
	return cfg
}

// memberTags merges user tags with the site and zone tags.
func memberTags(m api.Member) map[string]string {
	if m.Arbiter {
		return nil
	}
	tags := make(map[string]string, len(m.Tags)+2)
	for k, v := range m.Tags {
		tags[k] = v
	}
	if m.Site != "" {
		tags[TagSite] = m.Site
	}
	if m.Zone != "" {
		tags[TagZone] = m.Zone
	}
	if len(tags) == 0 {
		return nil
	}
	return tags
}
