// Command terraform-provider-failover is the Terraform/OpenTofu provider
// for failoverd: health checks, traffic policies, replica-set topologies
// and burst toggles as code.
package main

import (
	"flag"
	"log"
	"os"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/hatopo/terraform-provider-failover/provider"
)

// version is set by goreleaser.
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()
	quietSDKLogs()
	var opts []tf6server.ServeOpt
	if debug {
		opts = append(opts, tf6server.WithManagedDebug())
	}
	// provider.NewProtocol6Server is the framework's server with one
	// workaround for Terraform 1.10/1.11 (see there).
	err := tf6server.Serve("registry.terraform.io/hatopo/failover", provider.NewProtocol6Server(version), opts...)
	if err != nil {
		log.Fatal(err.Error())
	}
}

// quietSDKLogs turns off the plugin SDK's own TRACE logs unless the user
// asked for logs. The framework formats a dozen JSON log lines per RPC even
// when Terraform discards them: measured, half the provider's CPU and a
// third of a 100-resource plan's wall time. TF_LOG, TF_LOG_PROVIDER or any
// TF_LOG_SDK* set by the user keeps the SDK's logging as they asked.
func quietSDKLogs() {
	for _, v := range []string{"TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_SDK", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_SDK_PROTO"} {
		if os.Getenv(v) != "" {
			return
		}
	}
	for _, v := range []string{"TF_LOG_SDK", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_SDK_PROTO"} {
		os.Setenv(v, "off")
	}
}
