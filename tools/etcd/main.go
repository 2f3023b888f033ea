// Command etcd is the etcd server, built from the Go module proxy by
// `make tools` (scripts/tools.sh): the server module's replace directives
// make `go install go.etcd.io/etcd/server/v3@…` refuse to build it, so
// this module depends on it like any library and calls its entry point.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
