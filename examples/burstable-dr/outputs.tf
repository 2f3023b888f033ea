output "fqdn" {
  description = "The DNS name clients resolve; failoverd answers it with the serving site's addresses."
  value       = module.shop.fqdn
}

output "policy_name" {
  description = "The traffic policy's name (failoverd status, override, failover_traffic_decision)."
  value       = module.shop.policy_name
}

output "worst_case_failover_seconds" {
  description = "Detection + failover delay + TTL: how long clients may keep reaching a dead primary site."
  value       = module.shop.worst_case_failover_seconds
}

output "primary_site" {
  description = "The site that serves while healthy."
  value       = module.shop.primary_site
}

output "secondary_site" {
  description = "The DR site: traffic fails over to it, and it bursts next to the primary while the toggle is engaged."
  value       = module.shop.secondary_site
}

output "arbiter_site" {
  description = "The third site holding the replica set's arbiter."
  value       = module.shop.arbiter_site
}

output "health_check_names" {
  description = "Health-check names per data site."
  value       = module.shop.health_check_names
}

output "health_checks" {
  description = "Every endpoint check by site and \"<zone>/<endpoint>\", with the address failoverd probes."
  value       = module.shop.health_checks
}

output "site_loss" {
  description = "For each site: does the replica set still elect a primary after losing it, and which member becomes primary."
  value       = module.shop.site_loss
}

output "replica_set_members" {
  description = "Placement of every database member: host, site, zone, priority, arbiter."
  value       = module.shop.replica_set_members
}

output "replica_set_config_json" {
  description = "The MongoDB replica-set configuration document for rs.initiate() / rs.reconfig()."
  value       = module.shop.config_json
}

output "lb_health_check_url" {
  description = "Configure this URL as the health check of the DR load balancer's pool: 200 \"burst\" (match the whole body) while the toggle is engaged, 503 \"no-burst\" otherwise."
  value       = module.shop.burst_url
}

output "burst_toggle_name" {
  description = "The toggle operators flip: failoverd burst engage|release <name>."
  value       = module.shop.burst_toggle_name
}
