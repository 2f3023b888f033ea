// Command moduledocs writes the generated part of each module's README: the
// requirements, inputs and outputs tables between <!-- BEGIN_TF_DOCS --> and
// <!-- END_TF_DOCS -->, read from the module's own .tf files, so the tables
// never drift from variables.tf and outputs.tf. With -check it changes
// nothing and fails when a README is stale.
//
// Usage (from tools/): go run ./moduledocs [-check] ../modules/*
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-config-inspect/tfconfig"
)

const (
	begin = "<!-- BEGIN_TF_DOCS -->"
	end   = "<!-- END_TF_DOCS -->"
)

func main() {
	check := flag.Bool("check", false, "fail when a README is stale instead of rewriting it")
	flag.Parse()
	stale := false
	for _, dir := range flag.Args() {
		changed, err := update(dir, *check)
		if err != nil {
			fmt.Fprintf(os.Stderr, "moduledocs: %s: %v\n", dir, err)
			os.Exit(1)
		}
		if changed && *check {
			fmt.Fprintf(os.Stderr, "moduledocs: %s/README.md is stale: run 'make docs' and commit the result\n", dir)
			stale = true
		}
	}
	if stale {
		os.Exit(1)
	}
}

// update rewrites dir/README.md's generated section; it reports whether the
// section changed (with check, whether it would).
func update(dir string, check bool) (bool, error) {
	mod, diags := tfconfig.LoadModule(dir)
	if diags.HasErrors() {
		return false, diags.Err()
	}
	path := filepath.Join(dir, "README.md")
	readme, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	i, j := bytes.Index(readme, []byte(begin)), bytes.Index(readme, []byte(end))
	if i < 0 || j < i {
		return false, fmt.Errorf("README.md has no %s … %s section", begin, end)
	}
	out := append(append(append([]byte{}, readme[:i]...), render(mod)...), readme[j:]...)
	if bytes.Equal(out, readme) {
		return false, nil
	}
	if check {
		return true, nil
	}
	return true, os.WriteFile(path, out, 0o644)
}

func render(mod *tfconfig.Module) string {
	var b strings.Builder
	b.WriteString(begin + "\n## Requirements\n\n| Name | Version |\n|------|---------|\n")
	fmt.Fprintf(&b, "| terraform (or OpenTofu) | %s |\n", strings.Join(mod.RequiredCore, ", "))
	for _, name := range sortedKeys(mod.RequiredProviders) {
		p := mod.RequiredProviders[name]
		fmt.Fprintf(&b, "| %s (%s) | %s |\n", name, p.Source, strings.Join(p.VersionConstraints, ", "))
	}

	// Required inputs first, then the optional ones, each by name.
	vars := make([]*tfconfig.Variable, 0, len(mod.Variables))
	for _, v := range mod.Variables {
		vars = append(vars, v)
	}
	sort.Slice(vars, func(a, c int) bool {
		if vars[a].Required != vars[c].Required {
			return vars[a].Required
		}
		return vars[a].Name < vars[c].Name
	})
	b.WriteString("\n## Inputs\n\n| Name | Description | Type | Default | Required |\n|------|-------------|------|---------|:--------:|\n")
	for _, v := range vars {
		def, req := "n/a", "yes"
		if !v.Required {
			def, req = code(defaultText(v.Default)), "no"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", anchor("input", v.Name), cell(v.Description), code(v.Type), def, req)
	}

	// Outputs in the order outputs.tf declares them.
	outs := make([]*tfconfig.Output, 0, len(mod.Outputs))
	for _, o := range mod.Outputs {
		outs = append(outs, o)
	}
	sort.Slice(outs, func(a, c int) bool {
		if outs[a].Pos.Filename != outs[c].Pos.Filename {
			return outs[a].Pos.Filename < outs[c].Pos.Filename
		}
		return outs[a].Pos.Line < outs[c].Pos.Line
	})
	b.WriteString("\n## Outputs\n\n| Name | Description |\n|------|-------------|\n")
	for _, o := range outs {
		fmt.Fprintf(&b, "| %s | %s |\n", anchor("output", o.Name), cell(o.Description))
	}
	return b.String()
}

func anchor(kind, name string) string {
	return fmt.Sprintf(`<a name="%s_%s"></a> [%s](#%s_%s)`, kind, name, name, kind, name)
}

// cell makes text fit one Markdown table cell.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.NewReplacer("<", "&lt;", ">", "&gt;", "|", `\|`).Replace(s)
}

// code shows a type or a default: inline code, or a <pre> block when it
// spans lines.
func code(s string) string {
	if !strings.Contains(s, "\n") {
		return "`" + strings.ReplaceAll(s, "|", `\|`) + "`"
	}
	s = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "|", `\|`).Replace(s)
	return "<pre>" + strings.ReplaceAll(s, "\n", "<br>") + "</pre>"
}

func defaultText(v any) string {
	if v == nil {
		return "null"
	}
	j, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(j)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
