data "failover_replica_set_status" "orders" {
  name = "orders"
}

output "orders_at_risk" {
  # true when losing one more site would lose the voting majority
  value = data.failover_replica_set_status.orders.at_risk
}
