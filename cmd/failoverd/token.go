package main

import (
	"fmt"
	"io"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/server"
)

// runToken creates a token: the secret goes to the operator once, the
// token file only ever holds its hash.
func runToken(args []string, stdout, stderr io.Writer) int {
	if len(args) != 3 || args[0] != "create" {
		fmt.Fprintln(stderr, "usage: failoverd token create NAME SCOPE   (SCOPE: read, operate or admin)")
		return 2
	}
	name, scopeArg := args[1], args[2]
	if !api.ValidName(name) {
		fmt.Fprintf(stderr, "failoverd: token name %q: use lower-case letters, digits and '-'\n", name)
		return 2
	}
	scope, err := server.ParseScope(scopeArg)
	if err != nil {
		fmt.Fprintln(stderr, "failoverd:", err)
		return 2
	}
	tok := server.NewToken()
	fmt.Fprintf(stdout, "# token for %s (%s) — shown once; give it to the client as FAILOVER_TOKEN:\n# %s\n", name, scope, tok)
	fmt.Fprintf(stdout, "%s %s %s\n", name, scope, server.HashToken(tok))
	fmt.Fprintln(stderr, "append the last line to failoverd's --token-file (mode 600) and send failoverd SIGHUP to load it (kill -HUP PID; or restart it)")
	return 0
}
