// Command terraform-provider-failover is the Terraform/OpenTofu provider
// for failoverd: health checks, traffic policies, replica-set topologies
// and burst toggles as code.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/hatopo/terraform-provider-failover/provider"
)

// version is set by goreleaser.
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()
	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: "registry.terraform.io/hatopo/failover",
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err.Error())
	}
}
