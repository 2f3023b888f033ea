output "site_name" {
  description = "The site these checks belong to."
  value       = var.site_name
}

output "health_check_names" {
  description = "Names of the site's health checks, sorted, known at plan time: list them in a traffic-policy target so the target goes down when one of them does (and the policy computes its worst case at plan time)."
  value       = sort([for k, c in failover_health_check.this : c.name])
}

output "health_check_ids" {
  description = "The same checks' ids (equal to their names, sorted), known only once the checks exist: feed failover_health_check_status data sources from these, so Terraform reads them after the checks are created (it reads a data source at plan time as soon as its arguments are known)."
  value       = sort([for k, c in failover_health_check.this : c.id])
}

output "health_checks" {
  description = "Every check by \"<zone>/<endpoint>\": its name (known at plan time), id (the same, known once the check exists), zone, endpoint and the address failoverd probes."
  value = {
    for k, c in failover_health_check.this : k => {
      name     = c.name
      id       = c.id
      zone     = local.endpoints[k].zone
      endpoint = local.endpoints[k].endpoint
      address  = c.address
    }
  }
}

output "health_check_names_by_zone" {
  description = "Health-check names grouped by zone, for zone-level alerting or policies."
  value = {
    for zone_name in keys(var.zones) : zone_name => sort([
      for k, e in local.endpoints : failover_health_check.this[k].name if e.zone == zone_name
    ])
  }
}

output "addresses" {
  description = "The client-facing addresses of every endpoint of the site (zones and endpoints in name order, duplicates removed): what DNS answers while the site serves."
  value       = distinct(flatten([for k in sort(keys(local.endpoints)) : local.endpoints[k].addresses]))
}

output "detection_seconds" {
  description = "Worst-case time for failoverd to declare a dead endpoint unhealthy: fall × interval_seconds + timeout_seconds."
  value       = local.detection_seconds
}

output "zone_endpoints" {
  description = "Per zone: the client-facing addresses of its endpoints (distinct, in endpoint name order) and the names of the checks that cover them, sorted. Give these to a traffic-policy target as its endpoints, so losing one zone drops only that zone's addresses from the answer while the site keeps serving (min_healthy zones must stay up). Zones without addresses are listed with an empty addresses list: their checks gate the whole target."
  value = {
    for zone_name in keys(var.zones) : zone_name => {
      addresses     = distinct(flatten([for k in sort(keys(local.endpoints)) : local.endpoints[k].addresses if local.endpoints[k].zone == zone_name]))
      health_checks = sort([for k, e in local.endpoints : failover_health_check.this[k].name if e.zone == zone_name])
    }
  }
}
