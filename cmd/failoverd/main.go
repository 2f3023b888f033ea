// Command failoverd is the failover control plane: `failoverd serve` runs
// it; the other subcommands are the operator's buttons and talk to a
// running failoverd over its API (FAILOVER_ENDPOINT, FAILOVER_TOKEN).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set by the release build (-ldflags "-X main.version=...").
var version = "dev"

const usage = `failoverd — HA topology control plane

Usage:
  failoverd serve [flags]                 run the control plane (failoverd serve -h)
  failoverd status [--json]               checks, decisions and burst toggles at a glance
  failoverd burst engage|release NAME     flip a burst toggle
  failoverd override set POLICY TARGET --for 30m [--reason TEXT]
  failoverd override clear POLICY         end an override (also: manual failback)
  failoverd events [--since N] [--follow] [--audit]
                                          the event log, or the audit log
  failoverd drill run POLICY --to TARGET [--hold 10m] [--reason TEXT]
                                          a game day: fail over, measure, hold, fail back
  failoverd drill list | show ID | abort ID
  failoverd store check|backup|restore    verify, back up (online) and restore the store
  failoverd token create NAME SCOPE       make an API token (scope: read, operate, admin)
  failoverd version

Operator commands read FAILOVER_ENDPOINT (default http://127.0.0.1:8080; the
nodes of a cluster separated by commas, tried in order) and FAILOVER_TOKEN.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "status", "burst", "override", "events", "drill":
		return runOperator(ctx, args[0], args[1:], stdout, stderr)
	case "token":
		return runToken(args[1:], stdout, stderr)
	case "store":
		return runStore(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "failoverd", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "failoverd: unknown command %q\n\n%s", args[0], usage)
	return 2
}
