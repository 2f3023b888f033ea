output "fqdn" {
  description = "The DNS name clients resolve (<name>.<failoverd's zone>); failoverd answers it with one healthy site's addresses per answer, drawn by weight. Known after apply."
  value       = failover_traffic_policy.this.fqdn
}

output "policy_name" {
  description = "Name of the traffic policy (for failover_traffic_decision, `failoverd override set`), known once the policy exists, so a data source fed from it is read after the policy is created."
  value       = failover_traffic_policy.this.id
}

output "worst_case_failover_seconds" {
  description = "How long clients may keep reaching a dead site: detection (fall × interval + timeout) + failover_delay_seconds + ttl_seconds. Known at plan time; checked against rto_seconds."
  value       = failover_traffic_policy.this.worst_case_failover_seconds
}

output "burst_url" {
  description = "Always null: active-active has no burst toggle (every site already serves). Present so callers can switch between the active-passive and active-active modules."
  value       = null
}

output "primary_site" {
  description = "The site whose database members carry the highest priority (where writes go)."
  value       = local.primary_site
}

output "arbiter_site" {
  description = "The site holding the replica set's arbiter, or null when three or more sites carry data without one."
  value       = module.replica_set.arbiter_site
}

output "weights" {
  description = "Share of DNS answers of each data site."
  value       = { for s, site in local.data_sites : s => site.weight }
}

output "health_check_names" {
  description = "Health-check names per data site; a site leaves rotation as soon as one of its checks is unhealthy; known once the checks exist, so failover_health_check_status data sources fed from them are read after the create."
  value       = { for s, m in module.site_health : s => m.health_check_ids }
}

output "health_checks" {
  description = "Every endpoint check by site and \"<zone>/<endpoint>\": name (known at plan time), id (the same name, known once the check exists: feed data sources from it), zone, endpoint and the probed address."
  value       = { for s, m in module.site_health : s => m.health_checks }
}

output "replica_set_name" {
  description = "Name of the replica set (its MongoDB replSetName), known once it exists, so failover_replica_set_status fed from it is read after the create."
  value       = module.replica_set.id
}

output "replica_set_members" {
  description = "Placement of every database member: host, site, zone, priority, arbiter."
  value       = module.replica_set.members
}

output "preferred_primary_site" {
  description = "The site MongoDB is expected to elect the primary in (computed by the provider at plan time); equals primary_site."
  value       = module.replica_set.preferred_primary_site
}

output "site_loss" {
  description = "The site-loss table, known at plan time: for each site, whether the replica set still elects a primary after losing it (survives), the expected new primary, and the votes lost and left."
  value       = module.replica_set.site_loss
}

output "fault_tolerance" {
  description = "How many voting database members may be lost while a primary can still be elected."
  value       = module.replica_set.fault_tolerance
}

output "config_json" {
  description = "The MongoDB replica-set configuration document (JSON) for rs.initiate() / rs.reconfig()."
  value       = module.replica_set.config_json
}

output "warnings" {
  description = "Non-blocking findings of failoverd about the policy and the replica set."
  value       = concat(failover_traffic_policy.this.warnings, module.replica_set.warnings)
}
