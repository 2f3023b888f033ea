package policy

import (
	"fmt"
	"maps"
	"net/netip"
	"strings"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/schedule"
)

// Limits of Validate.
const (
	MaxTTLSeconds = 86400 // one day; resolvers cap longer TTLs anyway
	// MaxDelaySeconds bounds failover and failback delays (one year). A
	// longer delay is a way of saying "never": failback = "manual" says it
	// explicitly.
	MaxDelaySeconds = 365 * 86400
	MaxWeight       = 1000
	// MaxNameLength is the longest DNS name a cname may hold (RFC 1035,
	// without the trailing dot).
	MaxNameLength = 253
)

// Answer size. Every DNS answer at a policy name carries the records of
// ONE target (or of the fallback): all its addresses of the asked family,
// both families for ANY, or its CNAME. So each target's addresses must fit
// in one DNS message, however long the policy's name in its zone, and even
// at the end of the longest chain of in-zone CNAMEs the server follows.
// Over TCP a message holds at most 65,535 bytes (RFC 1035 §4.2.2): an
// answer larger than that cannot be served at all (the server could only
// send it truncated, over TCP too), so Validate refuses it. An answer
// larger than the 1,232-byte EDNS UDP size (DNS flag day 2020, failoverd's
// default) is served, but every resolver has to retry it over TCP, so it
// is only a warning. The bounds are computed from the wire format:
//
//	header 12 + question (name ≤ 255, type, class) 259 + OPT record 11 = 282
//	CNAME in the chain: owner pointer 2 + type, class, TTL, length 10 + target ≤ 255 = 267
//	A record: owner pointer 2 + 10 + 4 = 16; AAAA record: 2 + 10 + 16 = 28
//
// so 16 × IPv4 + 28 × IPv6 ≤ 65,535 − 282 − 8 × 267 = 63,117 bytes: at most
// 3,944 IPv4 or 2,254 IPv6 addresses per target. Over UDP, with no chain:
// 1,232 − 282 = 950 bytes, 59 IPv4 or 33 IPv6 addresses.
const (
	// MaxCNAMEChase is how many CNAMEs inside the zone one DNS answer
	// follows (the DNS server stops there: a loop or an absurd chain).
	MaxCNAMEChase = 8
	// EDNSUDPSize is the largest UDP answer failoverd offers by default.
	EDNSUDPSize = 1232

	maxMessageBytes = 65535
	answerOverhead  = 12 + 255 + 4 + 11
	chainedCNAMEs   = MaxCNAMEChase * (2 + 10 + 255)
	aRecordBytes    = 2 + 10 + 4
	aaaaRecordBytes = 2 + 10 + 16
	// AddressBudget is how many bytes of address records one target's
	// answer may take: 16 per IPv4 address, 28 per IPv6 one.
	AddressBudget    = maxMessageBytes - answerOverhead - chainedCNAMEs
	udpAnswerBudget  = EDNSUDPSize - answerOverhead
	MaxIPv4PerAnswer = AddressBudget / aRecordBytes
	MaxIPv6PerAnswer = AddressBudget / aaaaRecordBytes
)

// Validate returns every structural problem of a policy, in a stable order,
// with field paths in the provider's notation. It does not check that the
// named health checks, burst toggle or replica set exist: the caller knows
// what else is declared. Omitted fields are read with their defaults, so a
// policy that was not normalized gets the same verdict.
func Validate(p api.TrafficPolicy) api.Problems {
	// Normalize a copy: Normalize writes into the targets map, which is
	// shared with the caller's policy.
	p.Targets = maps.Clone(p.Targets)
	p.Normalize()

	var ps api.Problems
	api.CheckName(&ps, "name", p.Name)

	ap := p.Mode == api.ModeActivePassive
	switch p.Mode {
	case api.ModeActivePassive, api.ModeActiveActive:
	case "":
		ps.Add("mode", `is required: set "active-passive" (one site serves, the others stand by) or "active-active" (every healthy site serves by weight)`)
	default:
		ps.Add("mode", `%q is not a mode: set "active-passive" or "active-active"`, p.Mode)
	}

	if ttl := api.Int(p.TTLSeconds, api.DefaultTTLSeconds); ttl < 0 || ttl > MaxTTLSeconds {
		ps.Add("ttl_seconds", "must be between 0 and %d seconds, got %d: resolvers cache answers this long, so a failover takes at least this long to reach clients (default %d)", MaxTTLSeconds, ttl, api.DefaultTTLSeconds)
	}
	checkDelay(&ps, "failover_delay_seconds", p.FailoverDelaySeconds, "0 moves traffic at the first unhealthy transition")
	checkDelay(&ps, "failback_delay_seconds", api.Int(p.FailbackDelaySeconds, api.DefaultFailbackDelaySeconds), `to never fail back automatically set failback = "manual"`)
	switch p.Failback {
	case api.FailbackAuto, api.FailbackManual:
	default:
		ps.Add("failback", `%q is not a failback mode: set "auto" (return to a recovered preferred target after failback_delay_seconds) or "manual" (an operator returns traffic by setting and clearing an override)`, p.Failback)
	}

	var bursts []string
	serviceable := 0 // enabled, non-burst_only targets that can take traffic
	names := api.SortedKeys(p.Targets)
	if len(names) == 0 {
		ps.Add("targets", `needs at least one target: add one per site, e.g. targets = { dc1 = { site = "dc1", addresses = ["192.0.2.10"], health_checks = ["web-dc1"], priority = 1 } }`)
	}
	priorities := map[int]string{}
	for _, name := range names {
		t := p.Targets[name]
		f := api.MapKey("targets", name)
		api.CheckName(&ps, f, name)
		if name == api.AllDownFallback {
			ps.Add(f, `the target name %q is reserved for the when_all_down answer: rename the target, e.g. "dr"`, name)
		}
		if t.Site != "" {
			api.CheckName(&ps, f+".site", t.Site)
		}
		if len(t.Endpoints) == 0 {
			checkAnswer(&ps, f, t.Addresses, t.CNAME)
			checkHealthChecks(&ps, f, t.HealthChecks)
			if t.MinHealthy != nil {
				ps.Add(f+".min_healthy", "only applies to a target with endpoints: remove min_healthy, or split the addresses into endpoints, e.g. endpoints = { az1 = { addresses = [\"192.0.2.10\"], health_checks = [\"web-az1\"] }, az2 = { ... } }").Read(f + ".endpoints")
			}
		} else {
			checkEndpoints(&ps, f, t)
		}

		switch {
		case ap && !t.BurstOnly && t.Priority == 0:
			// 0 is what an omitted priority reads as: say it is missing.
			ps.Add(f+".priority", "is required in an active-passive policy: set priority = 1 on the preferred target, 2 on the next, and so on (or burst_only = true for a burst target)").Read("mode", f+".burst_only")
		case ap && !t.BurstOnly && t.Priority < 1:
			ps.Add(f+".priority", "must be 1 or more in an active-passive policy, got %d: 1 is the preferred target, 2 the next, and so on", t.Priority).Read("mode", f+".burst_only")
		case t.Priority < 0:
			ps.Add(f+".priority", "must not be negative, got %d: omit it (priority only ranks active-passive failover targets)", t.Priority).Read("mode", f+".burst_only")
		case p.Mode == api.ModeActiveActive && t.Priority != 0:
			ps.Warn(f+".priority", "is ignored in an active-active policy: remove it, and use weight to share traffic between targets").Read("mode")
		}
		if ap && !t.BurstOnly && api.Bool(t.Enabled, true) && t.Priority >= 1 {
			// Names are visited in order, so the earlier name wins the tie.
			if first, ok := priorities[t.Priority]; ok {
				ps.Warn(f+".priority", "equals the priority of target %q (%d): ties are broken by name, so %q is preferred; give each target its own priority to make the order explicit", first, t.Priority, first).
					Read("mode", "targets[*].priority", "targets[*].enabled", "targets[*].burst_only")
			} else {
				priorities[t.Priority] = name
			}
		}

		w := api.Int(t.Weight, api.DefaultWeight)
		if w < 0 || w > MaxWeight {
			ps.Add(f+".weight", "must be between 0 and %d, got %d: it is the target's share of active-active traffic (0 drains it)", MaxWeight, w)
		}
		if t.BurstOnly {
			bursts = append(bursts, fmt.Sprintf("%q", name))
		} else if api.Bool(t.Enabled, true) && (ap || w > 0) {
			serviceable++
		}
	}
	if len(names) > 0 && serviceable == 0 {
		if ap {
			ps.Add("targets", "needs at least one enabled target that is not burst_only: burst_only targets serve only next to a failover target, never instead of one").
				Read("mode", "targets[*].enabled", "targets[*].burst_only", "targets[*].weight")
		} else {
			ps.Add("targets", "needs at least one enabled target that is not burst_only and has a weight above 0, or the policy never serves while the burst toggle is released").
				Read("mode", "targets[*].enabled", "targets[*].burst_only", "targets[*].weight")
		}
	}

	switch {
	case p.BurstToggle != "":
		api.CheckName(&ps, "burst_toggle", p.BurstToggle)
		if len(bursts) == 0 {
			ps.Warn("burst_toggle", "has no effect because no target is burst_only: set burst_only = true on the targets the toggle should bring in, or remove burst_toggle").Read("targets[*].burst_only")
		}
	case len(bursts) > 0:
		ps.Add("burst_toggle", "is required because target(s) %s are burst_only: name the failover_burst_toggle that engages them, or set burst_only = false", strings.Join(bursts, ", ")).Read("targets[*].burst_only")
	}

	switch p.WhenAllDown {
	case api.AllDownFallback:
		if p.Fallback == nil {
			ps.Add("fallback", `is required because when_all_down = "fallback": set fallback = { addresses = ["198.51.100.10"] } or fallback = { cname = "sorry.example.net" }`).Read("when_all_down")
		} else {
			checkAnswer(&ps, "fallback", p.Fallback.Addresses, p.Fallback.CNAME)
		}
	case api.AllDownFailOpen, api.AllDownFailClosed:
		if p.Fallback != nil {
			ps.Add("fallback", `is only answered when when_all_down = "fallback", but it is %q: remove fallback or set when_all_down = "fallback"`, p.WhenAllDown).Read("when_all_down")
		}
	case "":
		ps.Add("when_all_down", `is required: say what to answer when no target is up: "fallback" (the fallback addresses), "fail_open" (every enabled target anyway) or "fail_closed" (no answer)`)
	default:
		ps.Add("when_all_down", `%q is not an answer: set "fallback", "fail_open" or "fail_closed"`, p.WhenAllDown)
	}

	if p.RTOSeconds < 0 {
		ps.Add("rto_seconds", "must not be negative, got %d: set the recovery time objective in seconds, or omit it", p.RTOSeconds)
	}
	if p.ReplicaSet != "" {
		api.CheckName(&ps, "replica_set", p.ReplicaSet)
	}
	if p.DrillSchedule != nil {
		checkDrillSchedule(&ps, p)
	}
	validatePublish(&ps, p.Publish)
	return ps
}

// checkDrillSchedule validates a policy's recurring game day.
func checkDrillSchedule(ps *api.Problems, p api.TrafficPolicy) {
	const f = "drill_schedule"
	s := p.DrillSchedule
	if _, ok := p.Targets[s.Target]; !ok {
		if s.Target == "" {
			ps.Add(f+".target", "is required: name the target the drill fails over to, one of %v", api.SortedKeys(p.Targets)).Read("targets")
		} else {
			ps.Add(f+".target", "%q is not a target of this policy: use one of %v", s.Target, api.SortedKeys(p.Targets)).Read("targets")
		}
	}
	switch {
	case s.Cron == "" && len(s.Windows) == 0:
		ps.Add(f, `needs cron = "0 3 * * 2" (a recurring time, UTC) or windows = ["2026-12-12T03:00:00Z/2026-12-12T03:30:00Z"]`)
	case s.Cron != "" && len(s.Windows) > 0:
		ps.Add(f, "sets both cron and windows: keep one (a window says both when the drill starts and when it fails back)").Read(f+".cron", f+".windows")
	case s.Cron != "":
		if _, err := schedule.ParseCron(s.Cron); err != nil {
			ps.Add(f+".cron", "%v", err)
		}
	}
	for i, w := range s.Windows {
		if _, err := schedule.ParseWindow(w); err != nil {
			ps.Add(api.Index(f+".windows", i), "%v", err)
		}
	}
	switch {
	case s.HoldSeconds < 0 || s.HoldSeconds > int(api.MaxDrillHold/time.Second):
		ps.Add(f+".hold_seconds", "must be between 0 and %d, got %d: how long the drill stays failed over", int(api.MaxDrillHold/time.Second), s.HoldSeconds)
	case s.HoldSeconds != 0 && len(s.Windows) > 0:
		ps.Add(f+".hold_seconds", "is set by each window's end: remove hold_seconds, or use cron").Read(f + ".windows")
	}
	if len(s.Reason) > 1024 {
		ps.Add(f+".reason", "is longer than 1024 characters: shorten it")
	}
}

func checkDelay(ps *api.Problems, field string, v int, hint string) {
	if v < 0 || v > MaxDelaySeconds {
		ps.Add(field, "must be between 0 and %d seconds (one year), got %d: %s", MaxDelaySeconds, v, hint)
	}
}

func checkHealthChecks(ps *api.Problems, f string, checks []string) {
	if len(checks) == 0 {
		ps.Warn(f+".health_checks", "is empty, so the target is always considered up and traffic never fails over from it: list the failover_health_check names that probe it")
	}
	checkCheckList(ps, f, checks)
}

// checkCheckList checks the names in the list at f.health_checks.
func checkCheckList(ps *api.Problems, f string, checks []string) {
	seen := map[string]int{}
	for i, c := range checks {
		field := api.Index(f+".health_checks", i)
		api.CheckName(ps, field, c)
		if j, ok := seen[c]; ok {
			ps.Add(field, "%q is listed twice (also at index %d): remove the duplicate", c, j)
			continue
		}
		seen[c] = i
	}
}

// checkEndpoints validates a target declared with endpoints: each
// endpoint answers addresses (no cname: a DNS name answers records or an
// alias, and an alias cannot lose one zone's share), no address appears
// twice across endpoints, the whole answer (every endpoint up) fits, and
// min_healthy is between 1 and the number of endpoints.
func checkEndpoints(ps *api.Problems, f string, t api.PolicyTarget) {
	switch {
	case len(t.Addresses) > 0:
		ps.Add(f+".addresses", "is set together with endpoints, but a target answers either addresses or endpoints: move these addresses into an endpoint (endpoints = { az1 = { addresses = [...] } }) or remove endpoints").Read(f + ".endpoints")
	case t.CNAME != "":
		ps.Add(f+".cname", "is set together with endpoints, but an alias cannot drop one endpoint's addresses: remove cname, or remove endpoints and answer the cname alone").Read(f + ".endpoints")
	}
	checkCheckList(ps, f, t.HealthChecks)
	seen := map[netip.Addr]string{}
	var v4, v6 int
	for _, en := range api.SortedKeys(t.Endpoints) {
		ep := t.Endpoints[en]
		ef := api.MapKey(f+".endpoints", en)
		api.CheckName(ps, ef, en)
		n := len(*ps)
		if len(ep.Addresses) == 0 {
			ps.Add(ef+".addresses", `is required: list the addresses this endpoint answers, e.g. addresses = ["192.0.2.10"]`)
		} else {
			checkAnswer(ps, ef, ep.Addresses, "")
		}
		// Across endpoints, only once the endpoint's own addresses are
		// right: each problem is said once.
		for i, s := range ep.Addresses {
			a, err := netip.ParseAddr(s)
			if err != nil || len(*ps) > n {
				break
			}
			if other, ok := seen[a]; ok {
				ps.Add(api.Index(ef+".addresses", i), "%q is also an address of endpoint %q: an address belongs to one endpoint, whose checks say whether it is answered; remove the duplicate", s, other).Read(f + ".endpoints")
				continue
			}
			seen[a] = en
			if a.Is4() {
				v4++
			} else {
				v6++
			}
		}
		if len(ep.HealthChecks) == 0 && len(t.HealthChecks) == 0 {
			ps.Warn(ef+".health_checks", "is empty, so endpoint %q is always considered up and its addresses are never dropped from the answer: list the failover_health_check names that probe it", en).Read(f + ".health_checks")
		}
		checkCheckList(ps, ef, ep.HealthChecks)
	}
	checkAnswerSize(ps, f+".endpoints", v4, v6)
	if t.MinHealthy != nil {
		if m := *t.MinHealthy; m < 1 || m > len(t.Endpoints) {
			ps.Add(f+".min_healthy", "must be between 1 and the number of endpoints (%d), got %d: it is how many endpoints must be up for the target to keep serving (default %d); below it the target is down and traffic fails over", len(t.Endpoints), m, api.DefaultMinHealthy).Read(f + ".endpoints")
		}
	}
}

// checkAnswer validates what a target or the fallback answers: exactly one
// of addresses or cname.
func checkAnswer(ps *api.Problems, f string, addrs []string, cname string) {
	switch {
	case len(addrs) == 0 && cname == "":
		ps.Add(f, `needs an answer: set addresses = ["192.0.2.10"] (IPv4 and IPv6 may be mixed) or cname = "lb.example.net"`)
	case len(addrs) > 0 && cname != "":
		ps.Add(f, "sets both addresses and cname, but a DNS name answers either records or an alias: keep exactly one of them")
	}
	seen := map[netip.Addr]int{}
	var v4, v6 int // valid addresses of each family
	for i, s := range addrs {
		field := api.Index(f+".addresses", i)
		a, err := netip.ParseAddr(s)
		switch {
		case err != nil:
			ps.Add(field, "%q is not an IP address: write an IPv4 or IPv6 address such as 192.0.2.10 or 2001:db8::10 (put a DNS name in cname instead)", s)
			continue
		case a.Zone() != "":
			ps.Add(field, "%q carries an IPv6 zone, which DNS cannot answer: remove %q", s, "%"+a.Zone())
			continue
		case a.Is4In6():
			ps.Add(field, "%q is an IPv4-mapped IPv6 address: write it as %s so it is answered as an A record", s, a.Unmap())
			continue
		case a.IsUnspecified() || a.IsMulticast():
			ps.Add(field, "%q cannot receive traffic (unspecified or multicast): use the address of the site's load balancer", s)
			continue
		}
		if j, ok := seen[a]; ok {
			ps.Add(field, "%q is the same address as addresses[%d]: remove the duplicate", s, j)
			continue
		}
		seen[a] = i
		if a.Is4() {
			v4++
		} else {
			v6++
		}
	}
	checkAnswerSize(ps, f+".addresses", v4, v6)
	if cname != "" {
		if msg := checkDNSName(cname); msg != "" {
			ps.Add(f+".cname", "%q %s", cname, msg)
		}
	}
}

// checkAnswerSize refuses addresses whose answer cannot be served and
// warns when it needs TCP (see AddressBudget).
func checkAnswerSize(ps *api.Problems, field string, v4, v6 int) {
	if size := v4*aRecordBytes + v6*aaaaRecordBytes; size > AddressBudget {
		ps.Add(field, "holds %d IPv4 and %d IPv6 addresses, an answer of %d bytes, but one DNS message carries at most %d bytes of records here (65,535 over TCP, less the longest question and CNAME chain): answer at most %d IPv4 addresses (16 bytes each) or %d IPv6 (28 bytes each), or a mix with 16 × IPv4 + 28 × IPv6 ≤ %d; put a load balancer in front of the rest",
			v4, v6, size, AddressBudget, MaxIPv4PerAnswer, MaxIPv6PerAnswer, AddressBudget)
		return
	}
	if v4*aRecordBytes > udpAnswerBudget || v6*aaaaRecordBytes > udpAnswerBudget {
		ps.Warn(field, "holds %d IPv4 and %d IPv6 addresses, more than a %d-byte UDP answer carries (%d IPv4 or %d IPv6): every lookup is truncated over UDP and retried over TCP, which costs a round trip and fails where TCP port 53 is blocked; answer fewer addresses, e.g. one per load balancer",
			v4, v6, EDNSUDPSize, udpAnswerBudget/aRecordBytes, udpAnswerBudget/aaaaRecordBytes)
	}
}

// checkDNSName returns what is wrong with a cname target, or "".
func checkDNSName(name string) string {
	const fix = `: write a fully qualified host name such as "lb.example.net"`
	if _, err := netip.ParseAddr(name); err == nil {
		return "is an IP address, not a name: put it in addresses instead"
	}
	n := strings.TrimSuffix(name, ".")
	if len(n) > MaxNameLength {
		return fmt.Sprintf("is longer than %d characters%s", MaxNameLength, fix)
	}
	labels := strings.Split(n, ".")
	if len(labels) < 2 {
		return "is not fully qualified" + fix
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return "has an empty label or one longer than 63 characters" + fix
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Sprintf("has the label %q, which starts or ends with '-'%s", l, fix)
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Sprintf("contains %q; names use ASCII letters, digits and '-' only%s", c, fix)
			}
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return "ends in an all-numeric label, so it is neither a name nor an IP address" + fix
	}
	return ""
}
