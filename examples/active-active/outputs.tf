output "fqdn" {
  description = "The DNS name clients resolve; failoverd answers it with one healthy region's addresses per answer, drawn by weight."
  value       = module.api.fqdn
}

output "policy_name" {
  description = "The traffic policy's name (failoverd status, override, failover_traffic_decision)."
  value       = module.api.policy_name
}

output "worst_case_failover_seconds" {
  description = "Detection + failover delay + TTL: how long clients may keep reaching a dead region."
  value       = module.api.worst_case_failover_seconds
}

output "weights" {
  description = "Share of DNS answers of each region."
  value       = module.api.weights
}

output "primary_site" {
  description = "The region holding the database primary (where writes go)."
  value       = module.api.primary_site
}

output "arbiter_site" {
  description = "The arbiter's site, null with three data-bearing regions."
  value       = module.api.arbiter_site
}

output "health_check_names" {
  description = "Health-check names per region."
  value       = module.api.health_check_names
}

output "health_checks" {
  description = "Every endpoint check by site and \"<zone>/<endpoint>\", with the address failoverd probes."
  value       = module.api.health_checks
}

output "site_loss" {
  description = "For each region: does the replica set still elect a primary after losing it, and which member becomes primary."
  value       = module.api.site_loss
}

output "replica_set_members" {
  description = "Placement of every database member: host, site, zone, priority, arbiter."
  value       = module.api.replica_set_members
}

output "replica_set_config_json" {
  description = "The MongoDB replica-set configuration document for rs.initiate() / rs.reconfig()."
  value       = module.api.config_json
}
