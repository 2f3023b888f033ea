# Replica sets are imported by name.
terraform import failover_replica_set.orders orders
