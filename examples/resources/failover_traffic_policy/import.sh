# Traffic policies are imported by name.
terraform import failover_traffic_policy.web web
