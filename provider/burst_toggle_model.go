package provider

import (
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

type burstToggleResourceModel struct {
	ID           types.String `tfsdk:"id"`
	Name         types.String `tfsdk:"name"`
	Site         types.String `tfsdk:"site"`
	Engaged      types.Bool   `tfsdk:"engaged"`
	Schedule     types.List   `tfsdk:"schedule"`
	ExpiresAt    types.String `tfsdk:"expires_at"`
	BodyEngaged  types.String `tfsdk:"body_engaged"`
	BodyReleased types.String `tfsdk:"body_released"`
	URL          types.String `tfsdk:"url"`
	Effective    types.Bool   `tfsdk:"effective"`
	Version      types.Int64  `tfsdk:"version"`
	Timeouts     types.Object `tfsdk:"timeouts"`
}

var burstWindowAttrTypes = map[string]attr.Type{
	"start": types.StringType,
	"end":   types.StringType,
}

// toAPI maps the model to the wire type, without engaged (which comes from
// the configuration, see Update). Timestamps that do not parse (reported
// by rfc3339Validator) are left zero and their field paths returned.
func (m burstToggleResourceModel) toAPI() (api.BurstToggle, []string) {
	var unparsed []string
	parse := func(field string, v types.String) time.Time {
		if v.IsNull() || v.IsUnknown() {
			return time.Time{}
		}
		t, err := parseRFC3339(v.ValueString())
		if err != nil {
			unparsed = append(unparsed, field)
		}
		return t
	}
	t := api.BurstToggle{
		Name:         m.Name.ValueString(),
		Site:         m.Site.ValueString(),
		BodyEngaged:  m.BodyEngaged.ValueString(),
		BodyReleased: m.BodyReleased.ValueString(),
	}
	if !m.ExpiresAt.IsNull() && !m.ExpiresAt.IsUnknown() {
		exp := parse("expires_at", m.ExpiresAt)
		t.ExpiresAt = &exp
	}
	if !m.Schedule.IsNull() && !m.Schedule.IsUnknown() {
		t.Schedule = make([]api.Window, 0, len(m.Schedule.Elements()))
		for i, e := range m.Schedule.Elements() {
			w, ok := e.(types.Object)
			if !ok || w.IsNull() || w.IsUnknown() {
				t.Schedule = append(t.Schedule, api.Window{})
				continue
			}
			a := w.Attributes()
			start, _ := a["start"].(types.String)
			end, _ := a["end"].(types.String)
			f := api.Index("schedule", i)
			t.Schedule = append(t.Schedule, api.Window{Start: parse(f+".start", start), End: parse(f+".end", end)})
		}
	}
	return t, unparsed
}

// fromAPI maps the stored toggle to the model. Timestamps keep
// the prior spelling when they name the same instant ("+00:00" and "Z"),
// so how failoverd renders a time is never a diff.
func (prior burstToggleResourceModel) fromAPI(t api.BurstToggle) (burstToggleResourceModel, diag.Diagnostics) {
	var diags diag.Diagnostics
	m := burstToggleResourceModel{
		ID:           types.StringValue(t.Name),
		Name:         types.StringValue(t.Name),
		Site:         types.StringValue(t.Site),
		Engaged:      types.BoolValue(api.Bool(t.Engaged, false)),
		ExpiresAt:    types.StringNull(),
		BodyEngaged:  types.StringValue(t.BodyEngaged),
		BodyReleased: types.StringValue(t.BodyReleased),
		URL:          types.StringValue(t.URL),
		Effective:    types.BoolValue(api.Bool(t.Effective, false)),
		Version:      types.Int64Value(int64(t.Version)),
		Timeouts:     timeoutsOrNull(prior.Timeouts),
	}
	if m.BodyEngaged.ValueString() == "" {
		m.BodyEngaged = types.StringValue(api.DefaultBodyEngaged)
	}
	if m.BodyReleased.ValueString() == "" {
		m.BodyReleased = types.StringValue(api.DefaultBodyReleased)
	}
	if t.ExpiresAt != nil {
		m.ExpiresAt = keepTimestamp(prior.ExpiresAt, *t.ExpiresAt)
	}

	windowType := types.ObjectType{AttrTypes: burstWindowAttrTypes}
	switch {
	case len(t.Schedule) > 0:
		var priorWindows []attr.Value
		if !prior.Schedule.IsNull() && !prior.Schedule.IsUnknown() {
			priorWindows = prior.Schedule.Elements()
		}
		windows := make([]attr.Value, 0, len(t.Schedule))
		for i, w := range t.Schedule {
			priorStart, priorEnd := types.StringNull(), types.StringNull()
			if i < len(priorWindows) {
				if o, ok := priorWindows[i].(types.Object); ok && !o.IsNull() && !o.IsUnknown() {
					priorStart, _ = o.Attributes()["start"].(types.String)
					priorEnd, _ = o.Attributes()["end"].(types.String)
				}
			}
			v, d := types.ObjectValue(burstWindowAttrTypes, map[string]attr.Value{
				"start": keepTimestamp(priorStart, w.Start),
				"end":   keepTimestamp(priorEnd, w.End),
			})
			diags.Append(d...)
			windows = append(windows, v)
		}
		var d diag.Diagnostics
		m.Schedule, d = types.ListValue(windowType, windows)
		diags.Append(d...)
	case known(prior.Schedule) && len(prior.Schedule.Elements()) == 0:
		m.Schedule = types.ListValueMust(windowType, []attr.Value{})
	default:
		m.Schedule = types.ListNull(windowType)
	}
	return m, diags
}
