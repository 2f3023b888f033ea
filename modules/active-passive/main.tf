# Active-passive over two data sites and an arbiter site (the OrderGroove
# layout): the primary site serves, the secondary takes over when the primary's
# health checks fail, and the database replica set keeps its primary where the
# traffic is. Optionally the secondary is a "burstable DR": a burst toggle
# brings it into rotation next to the primary on demand or on a schedule.

locals {
  primary_site   = one([for s, site in var.sites : s if site.role == "primary"])
  secondary_site = one([for s, site in var.sites : s if site.role == "secondary"])
  data_sites     = { for s, site in var.sites : s => site if site.role != "arbiter" }

  # Traffic priority: 1 = preferred. The database priorities follow the same
  # order (database_priorities.primary > .secondary), so the replica set's
  # preferred primary site is the policy's preferred target site.
  traffic_priority = {
    (local.primary_site)   = 1
    (local.secondary_site) = 2
  }

  burst_target = "${local.secondary_site}-burst"

  # worst_case_failover_seconds as the provider computes it (every check
  # shares var.health_check): checked against rto_seconds here too, so a
  # module caller gets the error on this module's inputs.
  worst_case_failover_seconds = (
    var.health_check.fall * var.health_check.interval_seconds + var.health_check.timeout_seconds
    + var.failover_delay_seconds + var.ttl_seconds
  )

  # Each zone with addresses is one endpoint of its site's target: losing a
  # zone drops only its addresses while min_healthy_zones zones stay up, so
  # one AZ does not move the whole site (and every write across sites with
  # it). The checks of zones without addresses, and a cname site's checks,
  # gate the whole target as before.
  answers = {
    for s, site in local.data_sites : s => site.cname != null ? {
      endpoints     = null
      min_healthy   = null
      health_checks = module.site_health[s].health_check_names
      } : {
      endpoints = {
        for z, ze in module.site_health[s].zone_endpoints : z => ze if length(ze.addresses) > 0
      }
      min_healthy = var.min_healthy_zones
      # null rather than [] when every zone answers addresses.
      health_checks = try(coalescelist(sort(flatten([for z, ze in module.site_health[s].zone_endpoints : ze.health_checks if length(ze.addresses) == 0]))), null)
    }
  }

  targets = merge(
    {
      for s, site in local.data_sites : s => {
        site          = s
        addresses     = null
        endpoints     = local.answers[s].endpoints
        min_healthy   = local.answers[s].min_healthy
        cname         = site.cname
        health_checks = local.answers[s].health_checks
        priority      = local.traffic_priority[s]
        burst_only    = false
      }
    },
    var.burst == null ? {} : {
      # The DR site again, as extra capacity: served next to the primary
      # while the toggle is engaged, as long as its own checks are healthy.
      (local.burst_target) = {
        site          = local.secondary_site
        addresses     = null
        endpoints     = local.answers[local.secondary_site].endpoints
        min_healthy   = local.answers[local.secondary_site].min_healthy
        cname         = local.data_sites[local.secondary_site].cname
        health_checks = local.answers[local.secondary_site].health_checks
        priority      = null
        burst_only    = true
      }
    },
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

resource "failover_burst_toggle" "this" {
  count = var.burst == null ? 0 : 1

  name          = coalesce(var.burst.name, "${var.name}-burst")
  site          = local.secondary_site
  schedule      = length(var.burst.schedule) > 0 ? var.burst.schedule : null
  expires_at    = var.burst.expires_at
  engaged       = var.burst.engaged
  body_engaged  = var.burst.body_engaged
  body_released = var.burst.body_released
}

resource "failover_traffic_policy" "this" {
  name                   = var.name
  mode                   = "active-passive"
  ttl_seconds            = var.ttl_seconds
  failover_delay_seconds = var.failover_delay_seconds
  failback_delay_seconds = var.failback_delay_seconds
  failback               = var.failback
  rto_seconds            = var.rto_seconds
  when_all_down          = var.when_all_down
  replica_set            = module.replica_set.name
  burst_toggle           = one(failover_burst_toggle.this[*].name)
  targets                = local.targets

  fallback = var.fallback
  publish  = var.publish

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
    precondition {
      condition     = var.burst == null || can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", local.burst_target))
      error_message = "The burst target's name \"${local.burst_target}\" (<secondary site>-burst) is longer than failoverd's 63 characters: shorten the secondary site's name."
    }
  }
}
