package publish

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/miekg/dns"
)

// Route53 publishes into Route 53 hosted zones with aws-sdk-go-v2: one
// change batch per publication (UPSERT of the A, AAAA or CNAME set,
// DELETE of the ones the decision no longer holds), then the SDK's
// ResourceRecordSetsChanged waiter until the change is INSYNC — only then
// is the record marked published. Throttling and PriorRequestNotComplete
// are retried by the SDK's standard retryer with backoff (MaxAttempts).
// Credentials come from the SDK's default chain (environment, shared
// config, web identity, IMDS): never from the API or Terraform.
type Route53 struct {
	Client *route53.Client
	// WaitMinDelay is the waiter's first poll interval (the SDK's default,
	// 30 s, is tuned for humans; INSYNC usually takes under a minute).
	WaitMinDelay time.Duration
	// MaxWait bounds the wait for INSYNC (default 3 minutes).
	MaxWait time.Duration
}

// Route53Options for NewRoute53.
type Route53Options struct {
	// Endpoint overrides the Route 53 endpoint (tests, or a FIPS or
	// partition endpoint); empty: the SDK's.
	Endpoint string
	// MaxAttempts of the SDK retryer per call (default 8).
	MaxAttempts int
}

// NewRoute53 builds a client from the default credential chain. Route 53
// is global: without a configured region the client signs for us-east-1.
func NewRoute53(ctx context.Context, o Route53Options) (*Route53, error) {
	attempts := o.MaxAttempts
	if attempts <= 0 {
		attempts = 8
	}
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRetryer(func() aws.Retryer {
		return retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = attempts
			so.MaxBackoff = 20 * time.Second
		})
	}))
	if err != nil {
		return nil, fmt.Errorf("route53: load the AWS configuration (default credential chain): %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	c := route53.NewFromConfig(cfg, func(ro *route53.Options) {
		if o.Endpoint != "" {
			ro.BaseEndpoint = aws.String(o.Endpoint)
		}
	})
	return &Route53{Client: c}, nil
}

var route53Types = []types.RRType{types.RRTypeA, types.RRTypeAaaa, types.RRTypeCname}

// zoneID is the hosted zone id without its "/hostedzone/" prefix.
func zoneID(id string) string { return strings.TrimPrefix(id, "/hostedzone/") }

// current lists the record sets failoverd manages at the entry's name:
// its A, AAAA and CNAME sets (of its set identifier, when it has one).
func (r *Route53) current(ctx context.Context, e Entry) (map[types.RRType]types.ResourceRecordSet, error) {
	cfg := e.Route53
	name := dns.Fqdn(strings.ToLower(cfg.RecordName))
	out, err := r.Client.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{
		HostedZoneId:    aws.String(zoneID(cfg.ZoneID)),
		StartRecordName: aws.String(name),
		MaxItems:        aws.Int32(100),
	})
	if err != nil {
		return nil, fmt.Errorf("route53: list record sets of zone %s at %s: %w", cfg.ZoneID, name, describe(err))
	}
	sets := map[types.RRType]types.ResourceRecordSet{}
	for _, s := range out.ResourceRecordSets {
		if !strings.EqualFold(unescape(aws.ToString(s.Name)), name) {
			continue
		}
		if aws.ToString(s.SetIdentifier) != cfg.SetIdentifier {
			continue
		}
		for _, t := range route53Types {
			if s.Type == t {
				sets[t] = s
			}
		}
	}
	return sets, nil
}

// unescape undoes Route 53's octal escapes in names (\052 for '*').
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v int
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &v); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Publish implements Publisher.
func (r *Route53) Publish(ctx context.Context, e Entry) error {
	cfg := e.Route53
	if cfg == nil {
		return errors.New("route53: entry has no route53 settings")
	}
	cur, err := r.current(ctx, e)
	if err != nil {
		return err
	}
	name := dns.Fqdn(strings.ToLower(cfg.RecordName))
	want := map[types.RRType][]string{}
	switch {
	case e.Records.CNAME != "":
		want[types.RRTypeCname] = []string{dns.Fqdn(e.Records.CNAME)}
	default:
		if len(e.Records.A) > 0 {
			want[types.RRTypeA] = e.Records.A
		}
		if len(e.Records.AAAA) > 0 {
			want[types.RRTypeAaaa] = e.Records.AAAA
		}
	}
	var changes []types.Change
	// Deletes first: a name cannot hold a CNAME next to addresses, and
	// Route 53 applies a batch in order, atomically.
	for _, t := range route53Types {
		if s, ok := cur[t]; ok && want[t] == nil {
			s := s
			changes = append(changes, types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: &s})
		}
	}
	for _, t := range route53Types {
		vals := want[t]
		if vals == nil {
			continue
		}
		set := types.ResourceRecordSet{Name: aws.String(name), Type: t, TTL: aws.Int64(int64(e.Records.TTL))}
		for _, v := range vals {
			set.ResourceRecords = append(set.ResourceRecords, types.ResourceRecord{Value: aws.String(v)})
		}
		if cfg.SetIdentifier != "" {
			old, ok := cur[t]
			if !ok {
				// A routing-policy record needs its policy (weight,
				// region, failover...), which failoverd does not own.
				for _, o := range cur {
					old, ok = o, true
					break
				}
			}
			if !ok {
				return fmt.Errorf("route53: zone %s has no record set %s with set_identifier %q: create it once with its routing policy (weight, latency, failover...); failoverd then keeps its values", cfg.ZoneID, name, cfg.SetIdentifier)
			}
			set.SetIdentifier = aws.String(cfg.SetIdentifier)
			set.Weight, set.Region, set.Failover, set.GeoLocation = old.Weight, old.Region, old.Failover, old.GeoLocation
			set.MultiValueAnswer, set.HealthCheckId, set.CidrRoutingConfig, set.GeoProximityLocation = old.MultiValueAnswer, old.HealthCheckId, old.CidrRoutingConfig, old.GeoProximityLocation
		}
		changes = append(changes, types.Change{Action: types.ChangeActionUpsert, ResourceRecordSet: &set})
	}
	if len(changes) == 0 {
		return nil // nothing to hold, and nothing held
	}
	out, err := r.Client.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(zoneID(cfg.ZoneID)),
		ChangeBatch: &types.ChangeBatch{
			Comment: aws.String(fmt.Sprintf("failoverd: policy %s decision %d", e.Policy, e.Generation)),
			Changes: changes,
		},
	})
	if err != nil {
		return fmt.Errorf("route53: change %s in zone %s: %w", name, cfg.ZoneID, describe(err))
	}
	if out.ChangeInfo == nil || out.ChangeInfo.Status == types.ChangeStatusInsync {
		return nil
	}
	maxWait := r.MaxWait
	if maxWait <= 0 {
		maxWait = 3 * time.Minute
	}
	w := route53.NewResourceRecordSetsChangedWaiter(r.Client, func(o *route53.ResourceRecordSetsChangedWaiterOptions) {
		if r.WaitMinDelay > 0 {
			o.MinDelay = r.WaitMinDelay
			o.MaxDelay = max(o.MaxDelay, r.WaitMinDelay)
		}
	})
	if err := w.Wait(ctx, &route53.GetChangeInput{Id: out.ChangeInfo.Id}, maxWait); err != nil {
		return fmt.Errorf("route53: change %s of %s submitted, but not INSYNC: %w", aws.ToString(out.ChangeInfo.Id), name, describe(err))
	}
	return nil
}

// Read implements Publisher.
func (r *Route53) Read(ctx context.Context, e Entry) (RecordSet, error) {
	cur, err := r.current(ctx, e)
	if err != nil {
		return RecordSet{}, err
	}
	var rs RecordSet
	for t, s := range cur {
		rs.TTL = int(aws.ToInt64(s.TTL))
		for _, v := range s.ResourceRecords {
			switch t {
			case types.RRTypeA:
				rs.A = append(rs.A, aws.ToString(v.Value))
			case types.RRTypeAaaa:
				rs.AAAA = append(rs.AAAA, aws.ToString(v.Value))
			case types.RRTypeCname:
				rs.CNAME = aws.ToString(v.Value)
			}
		}
	}
	rs.Normalize()
	return rs, nil
}

// describe adds the fix to the errors an operator can act on.
func describe(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "no EC2 IMDS role found"), strings.Contains(msg, "failed to refresh cached credentials"),
		strings.Contains(msg, "get credentials"):
		return fmt.Errorf("%w (failoverd found no AWS credentials: give it a role — instance profile, IRSA web identity — or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)", err)
	case strings.Contains(msg, "AccessDenied"):
		return fmt.Errorf("%w (allow route53:ChangeResourceRecordSets, route53:GetChange and route53:ListResourceRecordSets on the zone to failoverd's role)", err)
	case strings.Contains(msg, "NoSuchHostedZone"):
		return fmt.Errorf("%w (check publish.route53.zone_id: aws route53 list-hosted-zones)", err)
	}
	return err
}
