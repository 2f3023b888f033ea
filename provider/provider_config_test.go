package provider

import (
	"net"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// A provider pointed at a failoverd that is not running says how to start
// one, instead of a bare "connection refused".
func TestAccProvider_unreachableEndpoint(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there any more

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: `
provider "failover" {
  endpoint    = "` + closed + `"
  max_retries = 0
}

data "failover_health_check_status" "x" {
  name = "anything"
}
`,
			ExpectError: regexp.MustCompile(`(?s)cannot reach failoverd.*failoverd serve --dev`),
		}},
	})
}

func TestAccProvider_badConfiguration(t *testing.T) {
	for _, tt := range []struct{ config, want string }{
		{`endpoint = "ftp://example.org"`, `(?s)Invalid failoverd Endpoint`},
		{`request_timeout = "soon"`, `(?s)Invalid Request Timeout.*"30s"`},
	} {
		t.Run(tt.want, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      "provider \"failover\" {\n  " + tt.config + "\n}\n\ndata \"failover_health_check_status\" \"x\" {\n  name = \"anything\"\n}\n",
					ExpectError: regexp.MustCompile(tt.want),
				}},
			})
		})
	}
}
