# A MongoDB replica set spread over sites and zones: one data member per
# database host, in the zone it is listed under; every member of the primary
# site outranks every member of a secondary site, so the primary stays in the
# primary site while one of its members is up; the arbiter votes from a third
# site and never becomes primary. failover_replica_set proves at plan time
# that losing any one site leaves a voting majority.

locals {
  primary_site = one([for s, site in var.sites : s if site.role == "primary"])
  arbiter_site = one([for s, site in var.sites : s if site.role == "arbiter"])

  members = merge([
    for site_name, site in var.sites : merge([
      for zone_name, zone in site.zones : {
        for i, host in zone.database_hosts :
        (site.role == "arbiter" ? "${site_name}-arbiter" : "${site_name}-${zone_name}-${i + 1}") => {
          host     = host
          site     = site_name
          zone     = zone_name
          arbiter  = site.role == "arbiter"
          priority = site.role == "arbiter" ? 0 : (site.role == "primary" ? var.database_priorities.primary : var.database_priorities.secondary)
          # Provider-agnostic labels travel as MongoDB member tags (site and
          # zone are added by failoverd), for tag-aware reads and writes.
          # MongoDB rejects tags on arbiters.
          tags = site.role == "arbiter" ? null : { kind = site.kind, region = site.region }
        }
      }
    ]...)
  ]...)
}

resource "failover_health_check" "member" {
  for_each = var.database_health_checks ? local.members : {}

  name             = "${var.name}-db-${each.key}"
  site             = each.value.site
  type             = "tcp"
  address          = each.value.host
  interval_seconds = var.health_check.interval_seconds
  timeout_seconds  = var.health_check.timeout_seconds
  rise             = var.health_check.rise
  fall             = var.health_check.fall

  lifecycle {
    precondition {
      condition     = length("${var.name}-db-${each.key}") <= 63
      error_message = "The member health-check name \"${var.name}-db-${each.key}\" is longer than failoverd's 63 characters: shorten the replica set, site or zone name."
    }
  }
}

resource "failover_replica_set" "this" {
  name   = var.name
  engine = "mongodb"

  members = {
    for name, m in local.members : name => {
      host         = m.host
      site         = m.site
      zone         = m.zone
      priority     = m.priority
      arbiter      = m.arbiter
      tags         = m.tags
      health_check = var.database_health_checks ? failover_health_check.member[name].name : null
    }
  }

  require_site_fault_tolerance            = true
  require_majority_writes_after_site_loss = var.require_majority_writes_after_site_loss
}
