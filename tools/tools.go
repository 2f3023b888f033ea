//go:build generate

// Package tools pins the documentation and release tools in their own
// module, so they never enter the provider's dependency graph.
package tools

import (
	_ "github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs"
)
