output "fqdn" {
  description = "The DNS name clients resolve; failoverd answers it with the serving site's addresses."
  value       = module.payments.fqdn
}

output "policy_name" {
  description = "The traffic policy's name (failoverd status, override, failover_traffic_decision)."
  value       = module.payments.policy_name
}

output "worst_case_failover_seconds" {
  description = "Detection + failover delay + TTL: how long clients may keep reaching a dead primary site."
  value       = module.payments.worst_case_failover_seconds
}

output "primary_site" {
  description = "The site that serves while healthy."
  value       = module.payments.primary_site
}

output "secondary_site" {
  description = "The site traffic fails over to."
  value       = module.payments.secondary_site
}

output "arbiter_site" {
  description = "The third site holding the replica set's arbiter."
  value       = module.payments.arbiter_site
}

output "health_check_names" {
  description = "Health-check names per data site."
  value       = module.payments.health_check_names
}

output "health_checks" {
  description = "Every endpoint check by site and \"<zone>/<endpoint>\", with the address failoverd probes."
  value       = module.payments.health_checks
}

output "site_loss" {
  description = "For each site: does the replica set still elect a primary after losing it, and which member becomes primary."
  value       = module.payments.site_loss
}

output "replica_set_members" {
  description = "Placement of every database member: host, site, zone, priority, arbiter."
  value       = module.payments.replica_set_members
}

output "replica_set_config_json" {
  description = "The MongoDB replica-set configuration document for rs.initiate() / rs.reconfig()."
  value       = module.payments.config_json
}
