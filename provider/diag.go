package provider

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/client"
)

// attrPath turns an api field path (`members["db-3"].priority`) into the
// framework's path, so a diagnostic lands on the attribute at fault. A
// path that does not parse attaches to the root.
func attrPath(field string) (path.Path, bool) {
	steps, err := api.ParsePath(field)
	if err != nil || len(steps) == 0 || steps[0].Name == "" {
		return path.Empty(), false
	}
	p := path.Root(steps[0].Name)
	for _, s := range steps[1:] {
		switch {
		case s.Name != "":
			p = p.AtName(s.Name)
		case s.Key != nil:
			p = p.AtMapKey(*s.Key)
		default:
			p = p.AtListIndex(s.Index)
		}
	}
	return p, true
}

// addProblems reports every field problem on its attribute: errors as
// errors, warnings as warnings. summary is the Title Case headline.
// Terraform (1.5 to 1.11 at least) and OpenTofu cannot point their source
// snippet inside a map of nested objects — they show the resource block —
// so a problem below a top-level attribute also names its path in the
// summary: `Invalid Replica Set: members["db-3"].priority`.
func addProblems(diags *diag.Diagnostics, summary string, probs api.Problems) {
	for _, pr := range probs {
		addProblem(diags, summary, pr, pr.Field)
	}
}

// addProblem reports one problem on the attribute pr.Field; named is the
// field the summary names (the problem's own, even when it is shown on
// another attribute because its own is not set).
func addProblem(diags *diag.Diagnostics, summary string, pr api.FieldError, named string) {
	p, ok := attrPath(pr.Field)
	if pr.Severity == api.SeverityWarning && strings.HasPrefix(summary, "Invalid ") {
		// "Invalid Policy" is the wrong headline for advice.
		summary = strings.TrimPrefix(summary, "Invalid ") + " Warning"
	}
	if strings.ContainsAny(named, ".[") {
		summary += ": " + named
	}
	detail := pr.Detail
	if !ok && pr.Field != "" {
		detail = pr.Field + ": " + detail
	}
	warn := pr.Severity == api.SeverityWarning
	switch {
	case ok && warn:
		diags.AddAttributeWarning(p, summary, capitalize(detail)+".")
	case ok:
		diags.AddAttributeError(p, summary, capitalize(detail)+".")
	case warn:
		diags.AddWarning(summary, capitalize(detail)+".")
	default:
		diags.AddError(summary, capitalize(detail)+".")
	}
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	if first, _, _ := strings.Cut(s, " "); strings.ContainsAny(first, "_.[") {
		return s // an attribute name, which keeps its spelling
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// addClientError reports a failed API call. Validation failures from
// failoverd go on their attributes; a 412 explains the concurrent edit.
func addClientError(diags *diag.Diagnostics, action, kind, name string, err error) {
	var ce *client.Error
	if errors.As(err, &ce) && ce.Problem != nil && len(ce.Problem.Errors) > 0 {
		addProblems(diags, fmt.Sprintf("Invalid %s", kind), ce.Problem.Errors)
		return
	}
	switch {
	case client.IsPreconditionFailed(err):
		diags.AddError(fmt.Sprintf("%s Changed Outside Terraform", kind),
			fmt.Sprintf("The %s %q was changed by someone else after Terraform last read it, so this apply stopped instead of overwriting that change. Run terraform plan to see the difference, then apply again.\n\n%s", kind, name, err))
	case client.IsConflict(err):
		diags.AddError(fmt.Sprintf("Cannot %s %s", action, kind), err.Error())
	default:
		diags.AddError(fmt.Sprintf("Cannot %s %s", action, kind), fmt.Sprintf("Could not %s the %s %q.\n\n%s", action, kind, name, err))
	}
}

// addNotFound reports that the object a data source names does not exist.
// The common cause is a name known at plan time for an object this same
// configuration creates: Terraform reads a data source during plan as soon
// as its arguments are known, and waits for a create only when the data
// source references the resource directly (or through depends_on) — never
// through a module output. The detail says so, and what to write instead.
func addNotFound(diags *diag.Diagnostics, resourceType, noun, name string, err error) {
	diags.AddAttributeError(path.Root("name"), noun+" Not Found",
		fmt.Sprintf("failoverd has no %s named %q. If this configuration creates it, make the read wait for the create: "+
			"take the name from the resource itself (%s.<label>.name) or from an output of this project's modules (they are "+
			"known only once the object exists); when the name comes through a module output of your own, add "+
			"depends_on = [module.<name>] to the data source. Terraform reads a data source during plan as soon as its "+
			"arguments are known, and waits only for resources the data source refers to directly. Otherwise fix the name.\n\n%s",
			strings.ToLower(noun), name, resourceType, err))
}
