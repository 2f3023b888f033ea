package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/client"
)

// What every resource shares around its CRUD: the timeouts block, the
// bounded retries of a create whose referenced objects are still being
// created in the same apply and of a delete whose referrers are still being
// deleted, and the delete itself.

// Default bounds of those retries.
const (
	defaultCreateTimeout = 2 * time.Minute
	defaultDeleteTimeout = 2 * time.Minute
)

var timeoutsAttrTypes = map[string]attr.Type{
	"create": types.StringType,
	"delete": types.StringType,
}

type timeoutsModel struct {
	Create types.String `tfsdk:"create"`
	Delete types.String `tfsdk:"delete"`
}

// timeoutsAttribute is the `timeouts` attribute of every resource.
func timeoutsAttribute() schema.SingleNestedAttribute {
	d := []validator.String{durationValidator{}}
	return schema.SingleNestedAttribute{
		MarkdownDescription: "How long an apply waits for objects this one names by plain string (not by reference) that are being created or deleted in the same run. " +
			"A name written as a string orders nothing in Terraform's graph, so the provider retries instead of failing by chance.",
		Optional: true,
		Attributes: map[string]schema.Attribute{
			"create": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("How long a create or update retries while an object it names (a health check, burst toggle or replica set) is still being created in the same apply, as a Go duration such as `30s` (default `%s`).", defaultCreateTimeout),
				Optional:            true,
				Validators:          d,
			},
			"delete": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("How long a delete retries while objects that reference this one are being deleted in the same run, as a Go duration (default `%s`).", defaultDeleteTimeout),
				Optional:            true,
				Validators:          d,
			},
		},
	}
}

// timeout reads one duration of a timeouts object (def when unset).
func timeout(ctx context.Context, v types.Object, create bool, def time.Duration) time.Duration {
	if !known(v) {
		return def
	}
	var t timeoutsModel
	if v.As(ctx, &t, basetypes.ObjectAsOptions{}) != nil {
		return def
	}
	s := t.Delete
	if create {
		s = t.Create
	}
	if d, err := time.ParseDuration(s.ValueString()); known(s) && err == nil && d >= 0 {
		return d
	}
	return def
}

// durationValidator rejects what time.ParseDuration rejects.
type durationValidator struct{}

func (durationValidator) Description(context.Context) string {
	return "must be a Go duration such as 30s or 2m"
}

func (v durationValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (durationValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if !known(req.ConfigValue) {
		return
	}
	if d, err := time.ParseDuration(req.ConfigValue.ValueString()); err != nil || d < 0 {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Duration",
			fmt.Sprintf("%q is not a duration: write a Go duration such as \"30s\" or \"2m\".", req.ConfigValue.ValueString()))
	}
}

// retryBackoff is the pause between two attempts of a bounded retry.
func retryBackoff(attempt int) time.Duration {
	return min(200*time.Millisecond<<min(attempt, 4), 2*time.Second)
}

// missingReferences returns the names failoverd reported missing in a
// refused write ("no health check named …"), by kind, or nil when the
// refusal has any other problem.
func missingReferences(err error) map[api.Kind][]string {
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Problem == nil || len(ce.Problem.Errors) == 0 {
		return nil
	}
	out := map[api.Kind][]string{}
	for _, e := range ce.Problem.Errors {
		kind, name, ok := missingReference(e.Detail)
		if !ok {
			return nil
		}
		out[kind] = append(out[kind], name)
	}
	return out
}

// missingReference parses failoverd's `no health check named "x": …`.
func missingReference(detail string) (api.Kind, string, bool) {
	for prefix, kind := range map[string]api.Kind{
		"no health check named ": api.KindHealthCheck,
		"no burst toggle named ": api.KindBurstToggle,
		"no replica set named ":  api.KindReplicaSet,
	} {
		if rest, ok := strings.CutPrefix(detail, prefix); ok {
			var name string
			if _, err := fmt.Sscanf(rest, "%q", &name); err == nil {
				return kind, name, true
			}
		}
	}
	return "", "", false
}

// writeWaitingForReferences runs write (a create or an update) and, while
// failoverd refuses it only because objects it names do not exist yet and
// every one of them is planned in this apply (its create is under way, in
// no order relative to this one), retries until they exist or max elapses.
func writeWaitingForReferences[T any](ctx context.Context, data *providerData, max time.Duration, write func() (T, error)) (T, error) {
	deadline := time.Now().Add(max)
	for attempt := 0; ; attempt++ {
		out, err := write()
		missing := missingReferences(err)
		if err == nil || missing == nil || time.Now().After(deadline) || data.plans == nil {
			return out, err
		}
		for kind, names := range missing {
			for _, n := range names {
				if _, ok := data.plans.lookup(kind, n); !ok {
					return out, err // not being created in this run: waiting cannot help
				}
			}
		}
		select {
		case <-ctx.Done():
			return out, err
		case <-time.After(retryBackoff(attempt)):
		}
	}
}

// deleteObject deletes kind/name at version. 404 is success. A 409 Still
// Referenced is retried while the referrers are being deleted in this run
// (or the run is still busy, so their delete may not have started yet),
// within the delete timeout.
func deleteObject(ctx context.Context, data *providerData, diags *diag.Diagnostics, kind api.Kind, noun, name string, version int64, timeouts types.Object) {
	if data.plans != nil {
		data.plans.deleteStarted(kind, name)
		defer data.plans.deleteDone(kind, name)
	}
	deadline := time.Now().Add(timeout(ctx, timeouts, false, defaultDeleteTimeout))
	for attempt := 0; ; attempt++ {
		err := data.client.Delete(ctx, kind, name, uint64(version))
		if err == nil || client.IsNotFound(err) {
			return
		}
		var ce *client.Error
		referenced := client.IsConflict(err) && errors.As(err, &ce) && ce.Problem != nil && len(ce.Problem.Referrers) > 0
		if !referenced || time.Now().After(deadline) || data.plans == nil {
			addClientError(diags, "delete", noun, name, err)
			return
		}
		if !data.plans.anyDeleting(ce.Problem.Referrers) && !data.plans.recentlyActive() {
			addClientError(diags, "delete", noun, name, err)
			return
		}
		select {
		case <-ctx.Done():
			addClientError(diags, "delete", noun, name, err)
			return
		case <-time.After(retryBackoff(attempt)):
		}
	}
}

// timeoutsOrNull carries the configured timeouts into state (failoverd
// does not store them).
func timeoutsOrNull(prior types.Object) types.Object {
	if prior.IsNull() || prior.IsUnknown() {
		return types.ObjectNull(timeoutsAttrTypes)
	}
	return prior
}
