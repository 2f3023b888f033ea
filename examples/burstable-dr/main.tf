# Burstable DR ("Building A Burstable DR", Hurley 2015): the primary data
# center serves; the warm DR region takes over when the primary fails, and
# on demand (or on a schedule such as the Black Friday weekend) it also
# serves *next to* the primary: its load balancer health-checks the burst
# toggle's URL (output lb_health_check_url), which answers 503 "no-burst"
# (pool down) or 200 "burst" (pool up), and the traffic policy adds the DR
# site to the DNS answer while the toggle is engaged. One apply per
# environment:
#
#   terraform apply -var-file=env/dev.tfvars
terraform {
  required_version = ">= 1.5"

  required_providers {
    failover = {
      source  = "hatopo/failover"
      version = ">= 0.1"
    }
  }
}

# Endpoint and token come from FAILOVER_ENDPOINT and FAILOVER_TOKEN.
provider "failover" {}

locals {
  # The sites of the tfvars, with each endpoint's health-check address
  # replaced by var.health_check_addresses["<site>/<zone>/<endpoint>"] when
  # given (tests point them at stand-in backends).
  sites = {
    for s, site in var.sites : s => merge(site, {
      zones = {
        for z, zone in site.zones : z => merge(zone, {
          endpoints = {
            for e, endpoint in zone.endpoints : e => merge(endpoint, {
              health_check_address = lookup(var.health_check_addresses, "${s}/${z}/${e}", endpoint.health_check_address)
            })
          }
        })
      }
    })
  }

  endpoint_keys = flatten([for s, site in var.sites : [for z, zone in site.zones : [for e in keys(zone.endpoints) : "${s}/${z}/${e}"]]])
}

module "shop" {
  source = "../../modules/active-passive"

  name                   = var.name
  sites                  = local.sites
  health_check           = var.health_check
  ttl_seconds            = var.ttl_seconds
  failover_delay_seconds = var.failover_delay_seconds
  failback_delay_seconds = var.failback_delay_seconds
  rto_seconds            = var.rto_seconds
  when_all_down          = var.when_all_down
  fallback               = var.fallback

  burst = {
    schedule = var.burst_schedule
  }
}

check "health_check_address_overrides" {
  assert {
    condition     = length(setsubtract(keys(var.health_check_addresses), local.endpoint_keys)) == 0
    error_message = "health_check_addresses has keys that name no endpoint (${join(", ", setsubtract(keys(var.health_check_addresses), local.endpoint_keys))}): use \"<site>/<zone>/<endpoint>\" as in the sites variable."
  }
}
