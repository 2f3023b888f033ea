# Health checks are imported by name.
terraform import failover_health_check.dc1_web web-dc1
