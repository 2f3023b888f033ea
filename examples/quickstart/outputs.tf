output "fqdn" {
  description = "The DNS name clients resolve; failoverd answers it with the serving site's addresses."
  value       = failover_traffic_policy.this.fqdn
}

output "worst_case_failover_seconds" {
  description = "fall × interval + timeout + failover delay + TTL, checked against rto_seconds at plan time."
  value       = failover_traffic_policy.this.worst_case_failover_seconds
}

output "burst_url" {
  description = "Point the cloud load balancer's health check here: 200 \"burst\" when engaged, 503 \"no-burst\" otherwise."
  value       = failover_burst_toggle.cloud.url
}
