# Active-active over N >= 2 data sites: every healthy site serves its weighted
# share of DNS answers. Writes still go to one database primary (the "single
# master write system" of the burstable-DR seed), kept in the primary site by
# its members' higher priority; when only two sites carry data an arbiter in
# a third site keeps a voting majority through the loss of either.

locals {
  primary_site = one([for s, site in var.sites : s if site.role == "primary"])
  data_sites   = { for s, site in var.sites : s => site if site.role != "arbiter" }

  # worst_case_failover_seconds as the provider computes it (every check
  # shares var.health_check): checked against rto_seconds here too, so a
  # module caller gets the error on this module's inputs.
  worst_case_failover_seconds = (
    var.health_check.fall * var.health_check.interval_seconds + var.health_check.timeout_seconds
    + var.failover_delay_seconds + var.ttl_seconds
  )
}

module "site_health" {
  source   = "../site-health"
  for_each = local.data_sites

  name_prefix  = var.name
  site_name    = each.key
  zones        = { for z, zone in each.value.zones : z => { endpoints = zone.endpoints } }
  health_check = var.health_check
}

module "replica_set" {
  source = "../replica-set"

  name = coalesce(var.replica_set_name, var.name)
  sites = {
    for s, site in var.sites : s => {
      kind   = site.kind
      region = site.region
      role   = site.role
      zones  = { for z, zone in site.zones : z => { database_hosts = zone.database_hosts } }
    }
  }
  database_priorities    = var.database_priorities
  database_health_checks = var.database_health_checks
  health_check = {
    interval_seconds = var.health_check.interval_seconds
    timeout_seconds  = var.health_check.timeout_seconds
    rise             = var.health_check.rise
    fall             = var.health_check.fall
  }
}

resource "failover_traffic_policy" "this" {
  name                   = var.name
  mode                   = "active-active"
  ttl_seconds            = var.ttl_seconds
  failover_delay_seconds = var.failover_delay_seconds
  failback_delay_seconds = var.failback_delay_seconds
  failback               = var.failback
  rto_seconds            = var.rto_seconds
  when_all_down          = var.when_all_down
  replica_set            = module.replica_set.name

  # Each zone with addresses is one endpoint of its site's target: losing a
  # zone drops only its addresses while min_healthy_zones zones stay up;
  # checks of zones without addresses, and a cname site's, gate the whole
  # target.
  targets = {
    for s, site in local.data_sites : s => {
      site      = s
      addresses = null
      cname     = site.cname
      endpoints = site.cname != null ? null : {
        for z, ze in module.site_health[s].zone_endpoints : z => ze if length(ze.addresses) > 0
      }
      min_healthy = site.cname != null ? null : var.min_healthy_zones
      health_checks = site.cname != null ? module.site_health[s].health_check_names : try(coalescelist(
        sort(flatten([for z, ze in module.site_health[s].zone_endpoints : ze.health_checks if length(ze.addresses) == 0]))
      ), null)
      weight = site.weight
    }
  }

  fallback = var.fallback

  lifecycle {
    # when_all_down and fallback are two inputs, as on the resource; a
    # variable's validation cannot read another variable before Terraform
    # 1.9, so their agreement is checked here, in the inputs' words.
    precondition {
      condition     = (var.when_all_down == "fallback") == (var.fallback != null)
      error_message = var.when_all_down == "fallback" ? "when_all_down = \"fallback\" needs the fallback input: set fallback = { addresses = [\"203.0.113.50\"] } (or a cname), the answer while no site is up." : "fallback is set but when_all_down = \"${var.when_all_down}\" never answers it: set when_all_down = \"fallback\", or remove fallback."
    }
    precondition {
      condition     = var.rto_seconds == null || try(local.worst_case_failover_seconds <= var.rto_seconds, true)
      error_message = "Worst-case failover is ${local.worst_case_failover_seconds} s (health_check.fall × interval_seconds + timeout_seconds + failover_delay_seconds + ttl_seconds), above rto_seconds = ${coalesce(var.rto_seconds, 0)}: probe more often, lower fall, the failover delay or the TTL, or raise rto_seconds."
    }
  }
}
