# The health checks of one site: one failover_health_check per endpoint in
# every zone, named <name_prefix>-<site>-<zone>-<endpoint>, all carrying the
# site's name so failoverd and the traffic policy know which failure domain
# each endpoint belongs to.

locals {
  endpoints = merge([
    for zone_name, zone in var.zones : {
      for endpoint_name, endpoint in zone.endpoints : "${zone_name}/${endpoint_name}" => {
        name                 = "${var.name_prefix}-${var.site_name}-${zone_name}-${endpoint_name}"
        zone                 = zone_name
        endpoint             = endpoint_name
        health_check_address = endpoint.health_check_address
        addresses            = endpoint.addresses
      }
    }
  ]...)

  # fall consecutive failures, one interval apart, the last one timing out.
  detection_seconds = var.health_check.fall * var.health_check.interval_seconds + var.health_check.timeout_seconds
}

resource "failover_health_check" "this" {
  for_each = local.endpoints

  name    = each.value.name
  site    = var.site_name
  type    = var.health_check.type
  address = each.value.health_check_address

  path             = var.health_check.type == "tcp" ? null : var.health_check.path
  method           = var.health_check.type == "tcp" ? null : var.health_check.method
  host_header      = var.health_check.type == "tcp" ? null : var.health_check.host_header
  headers          = var.health_check.type == "tcp" ? null : var.health_check.headers
  expected_status  = var.health_check.type == "tcp" ? null : var.health_check.expected_status
  body_match       = var.health_check.type == "tcp" ? null : var.health_check.body_match
  tls              = var.health_check.type == "https" ? var.health_check.tls : null
  interval_seconds = var.health_check.interval_seconds
  timeout_seconds  = var.health_check.timeout_seconds
  rise             = var.health_check.rise
  fall             = var.health_check.fall
  probe_sites      = var.health_check.probe_sites
  quorum           = var.health_check.quorum
  enabled          = var.health_check.enabled

  lifecycle {
    precondition {
      condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", each.value.name))
      error_message = "The health-check name \"${each.value.name}\" (<name_prefix>-<site_name>-<zone>-<endpoint>) is longer than failoverd's 63 characters: shorten name_prefix, the site, zone or endpoint name."
    }
  }
}
