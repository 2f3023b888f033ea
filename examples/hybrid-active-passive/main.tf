# Hybrid active-passive: an on-prem data center serves, a cloud region
# takes over when the data center's health checks fail, and an arbiter in a
# third site (another cloud) keeps the database's voting majority through
# the loss of either. One apply per environment:
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

module "payments" {
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
  publish                = var.publish
}

check "health_check_address_overrides" {
  assert {
    condition     = length(setsubtract(keys(var.health_check_addresses), local.endpoint_keys)) == 0
    error_message = "health_check_addresses has keys that name no endpoint (${join(", ", setsubtract(keys(var.health_check_addresses), local.endpoint_keys))}): use \"<site>/<zone>/<endpoint>\" as in the sites variable."
  }
}
