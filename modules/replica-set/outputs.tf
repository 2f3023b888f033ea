output "name" {
  description = "Name of the replica set, known at plan time (link it from a traffic policy's replica_set)."
  value       = failover_replica_set.this.name
}

output "id" {
  description = "The replica set's id (equal to its name), known only once it exists: feed failover_replica_set_status from it, so Terraform reads the status after the replica set is created."
  value       = failover_replica_set.this.id
}

output "members" {
  description = "Every member by name (<site>-<zone>-<n>, the arbiter <site>-arbiter): host, site, zone, priority and whether it is the arbiter — the placement over sites and zones."
  value = {
    for name, m in local.members : name => {
      host     = m.host
      site     = m.site
      zone     = m.zone
      priority = m.priority
      arbiter  = m.arbiter
    }
  }
}

output "primary_site" {
  description = "The site whose members carry the highest priority."
  value       = local.primary_site
}

output "arbiter_site" {
  description = "The site holding the arbiter, or null when three or more data sites carry the majority without one."
  value       = local.arbiter_site
}

output "preferred_primary_site" {
  description = "The site MongoDB is expected to elect the primary in when everything is up, computed by the provider at plan time (equals primary_site)."
  value       = failover_replica_set.this.preferred_primary_site
}

output "voting_members" {
  description = "Number of voting members."
  value       = failover_replica_set.this.voting_members
}

output "majority" {
  description = "Votes an election needs: floor(voting_members / 2) + 1."
  value       = failover_replica_set.this.majority
}

output "fault_tolerance" {
  description = "How many voting members may be lost while the rest can still elect a primary."
  value       = failover_replica_set.this.fault_tolerance
}

output "site_loss" {
  description = "The site-loss table, known at plan time: for each site, whether a primary can still be elected after losing it (survives), which member becomes primary (new_primary), the votes lost and left, and whether w:\"majority\" writes can still be acknowledged (majority_writes, data_voters_left, write_concern_before/after, critical_members)."
  value       = failover_replica_set.this.site_loss
}

output "config_json" {
  description = "The MongoDB replica-set configuration document (JSON) for rs.initiate() / rs.reconfig()."
  value       = failover_replica_set.this.config_json
}

output "health_check_names" {
  description = "Names of the members' tcp health checks, sorted (empty unless database_health_checks = true)."
  value       = sort([for c in values(failover_health_check.member) : c.name])
}

output "warnings" {
  description = "Non-blocking findings of failoverd about the topology (even voter count, primary-secondary-arbiter layout, …)."
  value       = failover_replica_set.this.warnings
}
