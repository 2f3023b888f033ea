# The quick start `make demo` applies: one service in two sites — an on-prem
# data center and a cloud region — with a health check per site, an
# active-passive traffic policy, and a burst toggle on the cloud site.
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

resource "failover_health_check" "site" {
  for_each = var.sites

  name             = "${var.service}-${each.key}"
  site             = each.key
  type             = "http"
  address          = each.value.health_address
  path             = "/"
  interval_seconds = 1
  timeout_seconds  = 0.5
  rise             = 2
  fall             = 2
}

resource "failover_burst_toggle" "cloud" {
  name = "${var.service}-burst"
  site = "cloud"
}

resource "failover_traffic_policy" "this" {
  name                   = var.service
  mode                   = "active-passive"
  ttl_seconds            = 5
  failover_delay_seconds = 0
  failback_delay_seconds = var.failback_delay_seconds
  when_all_down          = "fail_open"
  burst_toggle           = failover_burst_toggle.cloud.name
  rto_seconds            = 30

  targets = {
    for name, site in var.sites : name => {
      site          = name
      addresses     = site.addresses
      health_checks = [failover_health_check.site[name].name]
      priority      = site.priority
    }
  }
}
