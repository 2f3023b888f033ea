// Command terraform-provider-failover is the Terraform/OpenTofu provider
// for failoverd: health checks, traffic policies, replica-set topologies
// and burst toggles as code.
package main

import (
	"flag"
	"log"
	"os"
	"runtime/debug"

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
	lessGC()
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

// lessGC lets the heap grow to 5× the live data before a collection
// (GOGC=400) unless the user set GOGC. The provider lives for one Terraform
// command and keeps little (the schema and the requests in flight), but the
// framework allocates about 1.6 MB per resource in a plan (value
// conversions and schema walks): with the default GOGC=100 a no-change plan
// of 1,000 health checks spent a third of the provider's CPU collecting
// (BenchmarkNoChangePlan: 8.4 s of CPU for 2,000 resources at GOGC=100,
// 5.7 s at 400). The peak heap stays in the tens of MiB.
func lessGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}
